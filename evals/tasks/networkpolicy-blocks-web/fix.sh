#!/usr/bin/env bash
# The known fix of networkpolicy-blocks-web (not named by task.yaml: the tests apply it to prove the verifier).
set -euo pipefail
NS=networkpolicy-blocks-web
kubectl -n "$NS" apply -f - <<'EOF'
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: allow-web}
spec:
  podSelector: {matchLabels: {app: web}}
  policyTypes: [Ingress]
  ingress:
    - from: [{podSelector: {}}]
      ports: [{protocol: TCP, port: 80}]
EOF
