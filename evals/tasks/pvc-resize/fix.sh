#!/usr/bin/env bash
# The known fix of pvc-resize (not named by task.yaml: the tests apply it to prove the verifier).
set -euo pipefail
NS=pvc-resize
kubectl -n "$NS" patch pvc logs --type=merge -p '{"spec":{"resources":{"requests":{"storage":"5Gi"}}}}'
