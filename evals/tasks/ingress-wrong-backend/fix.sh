#!/usr/bin/env bash
# The known fix of ingress-wrong-backend (not named by task.yaml: the tests apply it to prove the verifier).
set -euo pipefail
NS=ingress-wrong-backend
kubectl -n "$NS" patch ingress shop --type=json -p '[{"op":"replace","path":"/spec/rules/0/http/paths/0/backend/service/name","value":"web"}]'
