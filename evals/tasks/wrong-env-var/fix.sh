#!/usr/bin/env bash
# The known fix of wrong-env-var (not named by task.yaml: the tests apply it to prove the verifier).
set -euo pipefail
NS=wrong-env-var
kubectl -n "$NS" set env deployment/checkout DB_HOST=postgres
