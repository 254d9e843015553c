#!/usr/bin/env bash
# Cleanup of nodeselector-no-match: the namespace and everything in it.
set -uo pipefail
NS=nodeselector-no-match
kubectl delete namespace "$NS" --ignore-not-found --wait=true --timeout=180s
