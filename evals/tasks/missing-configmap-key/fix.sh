#!/usr/bin/env bash
# The known fix of missing-configmap-key (not named by task.yaml: the tests apply it to prove the verifier).
set -euo pipefail
NS=missing-configmap-key
kubectl -n "$NS" patch configmap payments-config --type=merge -p '{"data":{"gateway_url":"https://pay.example.com/v2"}}'
kubectl -n "$NS" rollout restart deployment/payments
