#!/usr/bin/env bash
# Setup of statefulset-scaled-down: the redis StatefulSet (3 replicas) scaled to 0 during a migration.
set -euo pipefail
NS=statefulset-scaled-down
kubectl create namespace "$NS"
kubectl -n "$NS" apply -f - <<'EOF'
apiVersion: v1
kind: Service
metadata: {name: redis}
spec:
  clusterIP: None
  selector: {app: redis}
  ports: [{port: 6379}]
---
apiVersion: apps/v1
kind: StatefulSet
metadata: {name: redis}
spec:
  serviceName: redis
  replicas: 0
  selector: {matchLabels: {app: redis}}
  template:
    metadata: {labels: {app: redis}}
    spec:
      containers:
        - name: redis
          image: redis:7.2
          ports: [{containerPort: 6379}]
EOF
