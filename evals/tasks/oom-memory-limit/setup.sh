#!/usr/bin/env bash
# Setup of oom-memory-limit: resizer allocates ~250M with a 128Mi memory limit (OOMKilled on a real cluster).
set -euo pipefail
NS=oom-memory-limit
kubectl create namespace "$NS"
kubectl -n "$NS" apply -f - <<'EOF'
apiVersion: apps/v1
kind: Deployment
metadata: {name: resizer, labels: {app: resizer}}
spec:
  replicas: 1
  selector: {matchLabels: {app: resizer}}
  template:
    metadata: {labels: {app: resizer}}
    spec:
      containers:
        - name: resizer
          image: polinux/stress:1.0.4
          command: [stress]
          args: [--vm, "1", --vm-bytes, 250M, --vm-hang, "0"]
          resources:
            requests: {cpu: 100m, memory: 128Mi}
            limits: {memory: 128Mi}
EOF
