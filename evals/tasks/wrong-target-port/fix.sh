#!/usr/bin/env bash
# The known fix of wrong-target-port (not named by task.yaml: the tests apply it to prove the verifier).
set -euo pipefail
NS=wrong-target-port
kubectl -n "$NS" patch service frontend --type=json -p '[{"op":"replace","path":"/spec/ports/0/targetPort","value":8080}]'
