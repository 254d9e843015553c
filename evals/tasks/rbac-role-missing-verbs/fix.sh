#!/usr/bin/env bash
# The known fix of rbac-role-missing-verbs (not named by task.yaml: the tests apply it to prove the verifier).
set -euo pipefail
NS=rbac-role-missing-verbs
kubectl -n "$NS" patch role pod-reader --type=json -p '[{"op":"replace","path":"/rules/0/verbs","value":["get","list","watch"]}]'
