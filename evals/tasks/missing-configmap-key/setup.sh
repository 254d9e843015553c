#!/usr/bin/env bash
# Setup of missing-configmap-key: payments reads key gateway_url of ConfigMap payments-config, which has gateway_endpoint.
set -euo pipefail
NS=missing-configmap-key
kubectl create namespace "$NS"
kubectl -n "$NS" create configmap payments-config --from-literal=gateway_endpoint=https://pay.example.com/v2
kubectl -n "$NS" apply -f - <<'EOF'
apiVersion: apps/v1
kind: Deployment
metadata: {name: payments, labels: {app: payments}}
spec:
  replicas: 2
  selector: {matchLabels: {app: payments}}
  template:
    metadata: {labels: {app: payments}}
    spec:
      containers:
        - name: payments
          image: nginx:1.27
          env:
            - name: PAYMENT_GATEWAY_URL
              valueFrom: {configMapKeyRef: {name: payments-config, key: gateway_url}}
EOF
