#!/usr/bin/env bash
# Setup of unschedulable-cpu: reports requests 32 CPUs; no node has that many, so its pod stays Pending.
set -euo pipefail
NS=unschedulable-cpu
kubectl create namespace "$NS"
kubectl -n "$NS" apply -f - <<'EOF'
apiVersion: apps/v1
kind: Deployment
metadata: {name: reports, labels: {app: reports}}
spec:
  replicas: 1
  selector: {matchLabels: {app: reports}}
  template:
    metadata: {labels: {app: reports}}
    spec:
      containers:
        - name: reports
          image: nginx:1.27
          resources:
            requests: {cpu: "32", memory: 128Mi}
EOF
