#!/usr/bin/env bash
# Cleanup of unschedulable-memory: the namespace and everything in it.
set -uo pipefail
NS=unschedulable-memory
kubectl delete namespace "$NS" --ignore-not-found --wait=true --timeout=180s
