#!/usr/bin/env bash
# Cleanup of daemonset-no-nodes: the namespace and everything in it, and a role label the agent may have put on nodes.
set -uo pipefail
NS=daemonset-no-nodes
kubectl label nodes --all role- >/dev/null 2>&1 || true
kubectl delete namespace "$NS" --ignore-not-found --wait=true --timeout=180s
