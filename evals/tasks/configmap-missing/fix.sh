#!/usr/bin/env bash
# The known fix of configmap-missing (not named by task.yaml: the tests apply it to prove the verifier).
set -euo pipefail
NS=configmap-missing
kubectl -n "$NS" create configmap feature-flags --from-literal=CHECKOUT_V2=false --from-literal=SEARCH_CACHE=true
kubectl -n "$NS" rollout restart deployment/worker
