#!/usr/bin/env bash
# Setup of configmap-missing: worker takes its environment from ConfigMap feature-flags, which was never created.
set -euo pipefail
NS=configmap-missing
kubectl create namespace "$NS"
kubectl -n "$NS" apply -f - <<'EOF'
apiVersion: apps/v1
kind: Deployment
metadata: {name: worker, labels: {app: worker}}
spec:
  replicas: 1
  selector: {matchLabels: {app: worker}}
  template:
    metadata: {labels: {app: worker}}
    spec:
      containers:
        - name: worker
          image: busybox:1.36
          command: [sh, -c, "env; sleep infinity"]
          envFrom: [{configMapRef: {name: feature-flags}}]
EOF
