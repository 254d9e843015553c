#!/usr/bin/env bash
# Cleanup of unschedulable-cpu: the namespace and everything in it.
set -uo pipefail
NS=unschedulable-cpu
kubectl delete namespace "$NS" --ignore-not-found --wait=true --timeout=180s
