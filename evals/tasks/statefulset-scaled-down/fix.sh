#!/usr/bin/env bash
# The known fix of statefulset-scaled-down (not named by task.yaml: the tests apply it to prove the verifier).
set -euo pipefail
NS=statefulset-scaled-down
kubectl -n "$NS" scale statefulset redis --replicas=3
