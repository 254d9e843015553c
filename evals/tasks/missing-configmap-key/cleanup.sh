#!/usr/bin/env bash
# Cleanup of missing-configmap-key: the namespace and everything in it.
set -uo pipefail
NS=missing-configmap-key
kubectl delete namespace "$NS" --ignore-not-found --wait=true --timeout=180s
