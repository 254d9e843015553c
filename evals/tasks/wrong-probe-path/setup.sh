#!/usr/bin/env bash
# Setup of wrong-probe-path: api's readiness probe asks nginx for /healthz, which nginx answers with 404.
set -euo pipefail
NS=wrong-probe-path
kubectl create namespace "$NS"
kubectl -n "$NS" apply -f - <<'EOF'
apiVersion: apps/v1
kind: Deployment
metadata: {name: api, labels: {app: api}}
spec:
  replicas: 2
  selector: {matchLabels: {app: api}}
  template:
    metadata: {labels: {app: api}}
    spec:
      containers:
        - name: api
          image: nginx:1.27
          ports: [{containerPort: 80}]
          readinessProbe:
            httpGet: {path: /healthz, port: 80}
            periodSeconds: 5
EOF
