#!/usr/bin/env bash
# The known fix of unschedulable-cpu (not named by task.yaml: the tests apply it to prove the verifier).
set -euo pipefail
NS=unschedulable-cpu
kubectl -n "$NS" set resources deployment reports --requests=cpu=500m
