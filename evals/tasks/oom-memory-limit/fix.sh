#!/usr/bin/env bash
# The known fix of oom-memory-limit (not named by task.yaml: the tests apply it to prove the verifier).
set -euo pipefail
NS=oom-memory-limit
kubectl -n "$NS" set resources deployment resizer --requests=memory=384Mi --limits=memory=512Mi
