#!/usr/bin/env bash
# Setup of unschedulable-memory: cache requests 200Gi of memory; no node has that much, so its pod stays Pending.
set -euo pipefail
NS=unschedulable-memory
kubectl create namespace "$NS"
kubectl -n "$NS" apply -f - <<'EOF'
apiVersion: apps/v1
kind: Deployment
metadata: {name: cache, labels: {app: cache}}
spec:
  replicas: 1
  selector: {matchLabels: {app: cache}}
  template:
    metadata: {labels: {app: cache}}
    spec:
      containers:
        - name: cache
          image: redis:7.2
          ports: [{containerPort: 6379}]
          resources:
            requests: {cpu: 100m, memory: 200Gi}
EOF
