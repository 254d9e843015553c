#!/usr/bin/env bash
# The known fix of daemonset-no-nodes (not named by task.yaml: the tests apply it to prove the verifier).
set -euo pipefail
NS=daemonset-no-nodes
kubectl -n "$NS" patch daemonset log-agent --type=json -p '[{"op":"remove","path":"/spec/template/spec/nodeSelector"}]'
