#!/usr/bin/env bash
# The known fix of wrong-probe-path (not named by task.yaml: the tests apply it to prove the verifier).
set -euo pipefail
NS=wrong-probe-path
kubectl -n "$NS" patch deployment api --type=json -p '[{"op":"replace","path":"/spec/template/spec/containers/0/readinessProbe/httpGet/path","value":"/"}]'
