#!/usr/bin/env bash
# Cleanup of oom-memory-limit: the namespace and everything in it.
set -uo pipefail
NS=oom-memory-limit
kubectl delete namespace "$NS" --ignore-not-found --wait=true --timeout=180s
