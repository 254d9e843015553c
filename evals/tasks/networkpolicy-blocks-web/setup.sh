#!/usr/bin/env bash
# Setup of networkpolicy-blocks-web: a default-deny ingress NetworkPolicy leaves web unreachable from its namespace.
set -euo pipefail
NS=networkpolicy-blocks-web
kubectl create namespace "$NS"
kubectl -n "$NS" create deployment web --image=nginx:1.27 --replicas=2 --port=80
kubectl -n "$NS" expose deployment web --port=80
kubectl -n "$NS" create deployment client --image=busybox:1.36 -- sleep infinity
kubectl -n "$NS" apply -f - <<'EOF'
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: default-deny}
spec:
  podSelector: {}
  policyTypes: [Ingress]
EOF
