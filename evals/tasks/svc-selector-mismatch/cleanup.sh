#!/usr/bin/env bash
# Cleanup of svc-selector-mismatch: the namespace and everything in it.
set -uo pipefail
NS=svc-selector-mismatch
kubectl delete namespace "$NS" --ignore-not-found --wait=true --timeout=180s
