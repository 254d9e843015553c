#!/usr/bin/env bash
# The known fix of image-name-typo (not named by task.yaml: the tests apply it to prove the verifier).
set -euo pipefail
NS=image-name-typo
kubectl -n "$NS" set image deployment/gateway ngnix=nginx:1.27
