#!/usr/bin/env bash
# The known fix of hpa-wrong-target (not named by task.yaml: the tests apply it to prove the verifier).
set -euo pipefail
NS=hpa-wrong-target
kubectl -n "$NS" patch hpa api --type=merge -p '{"spec":{"scaleTargetRef":{"name":"api"}}}'
