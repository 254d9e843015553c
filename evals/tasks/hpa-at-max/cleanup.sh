#!/usr/bin/env bash
# Cleanup of hpa-at-max: the namespace and everything in it.
set -uo pipefail
NS=hpa-at-max
kubectl delete namespace "$NS" --ignore-not-found --wait=true --timeout=180s
