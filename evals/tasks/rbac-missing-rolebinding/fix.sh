#!/usr/bin/env bash
# The known fix of rbac-missing-rolebinding (not named by task.yaml: the tests apply it to prove the verifier).
set -euo pipefail
NS=rbac-missing-rolebinding
kubectl -n "$NS" create rolebinding deployer --role=deployer --serviceaccount="$NS":deployer
