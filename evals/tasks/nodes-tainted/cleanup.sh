#!/usr/bin/env bash
# Cleanup of nodes-tainted: the namespace and everything in it, and the nodes' maintenance taint.
set -uo pipefail
NS=nodes-tainted
kubectl taint nodes --all maintenance- >/dev/null 2>&1 || true
kubectl delete namespace "$NS" --ignore-not-found --wait=true --timeout=180s
