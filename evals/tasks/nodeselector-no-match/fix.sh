#!/usr/bin/env bash
# The known fix of nodeselector-no-match (not named by task.yaml: the tests apply it to prove the verifier).
set -euo pipefail
NS=nodeselector-no-match
kubectl -n "$NS" patch deployment search --type=json -p '[{"op":"remove","path":"/spec/template/spec/nodeSelector"}]'
