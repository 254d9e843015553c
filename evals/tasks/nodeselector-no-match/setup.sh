#!/usr/bin/env bash
# Setup of nodeselector-no-match: search has nodeSelector disktype=ssd; no node has that label.
set -euo pipefail
NS=nodeselector-no-match
kubectl create namespace "$NS"
kubectl -n "$NS" apply -f - <<'EOF'
apiVersion: apps/v1
kind: Deployment
metadata: {name: search, labels: {app: search}}
spec:
  replicas: 2
  selector: {matchLabels: {app: search}}
  template:
    metadata: {labels: {app: search}}
    spec:
      nodeSelector: {disktype: ssd}
      containers:
        - name: search
          image: nginx:1.27
EOF
