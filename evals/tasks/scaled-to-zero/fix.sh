#!/usr/bin/env bash
# The known fix of scaled-to-zero (not named by task.yaml: the tests apply it to prove the verifier).
set -euo pipefail
NS=scaled-to-zero
kubectl -n "$NS" scale deployment orders --replicas=3
