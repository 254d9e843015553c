#!/usr/bin/env bash
# The known fix of hpa-at-max (not named by task.yaml: the tests apply it to prove the verifier).
set -euo pipefail
NS=hpa-at-max
kubectl -n "$NS" patch hpa web --type=merge -p '{"spec":{"maxReplicas":10}}'
