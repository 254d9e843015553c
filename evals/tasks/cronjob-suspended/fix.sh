#!/usr/bin/env bash
# The known fix of cronjob-suspended (not named by task.yaml: the tests apply it to prove the verifier).
set -euo pipefail
NS=cronjob-suspended
kubectl -n "$NS" patch cronjob cleanup --type=merge -p '{"spec":{"suspend":false}}'
