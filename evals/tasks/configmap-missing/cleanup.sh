#!/usr/bin/env bash
# Cleanup of configmap-missing: the namespace and everything in it.
set -uo pipefail
NS=configmap-missing
kubectl delete namespace "$NS" --ignore-not-found --wait=true --timeout=180s
