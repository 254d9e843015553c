#!/usr/bin/env bash
# Cleanup of rollback-bad-image: the namespace and everything in it.
set -uo pipefail
NS=rollback-bad-image
kubectl delete namespace "$NS" --ignore-not-found --wait=true --timeout=180s
