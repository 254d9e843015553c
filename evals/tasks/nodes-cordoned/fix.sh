#!/usr/bin/env bash
# The known fix of nodes-cordoned (not named by task.yaml: the tests apply it to prove the verifier).
set -euo pipefail
NS=nodes-cordoned
kubectl uncordon $(kubectl get nodes -o name)
