#!/usr/bin/env bash
# The known fix of svc-selector-mismatch (not named by task.yaml: the tests apply it to prove the verifier).
set -euo pipefail
NS=svc-selector-mismatch
kubectl -n "$NS" patch service web --type=merge -p '{"spec":{"selector":{"app":"web"}}}'
