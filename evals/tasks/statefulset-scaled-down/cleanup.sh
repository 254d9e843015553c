#!/usr/bin/env bash
# Cleanup of statefulset-scaled-down: the namespace and everything in it.
set -uo pipefail
NS=statefulset-scaled-down
kubectl delete namespace "$NS" --ignore-not-found --wait=true --timeout=180s
