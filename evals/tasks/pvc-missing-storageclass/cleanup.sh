#!/usr/bin/env bash
# Cleanup of pvc-missing-storageclass: the namespace and everything in it.
set -uo pipefail
NS=pvc-missing-storageclass
kubectl delete namespace "$NS" --ignore-not-found --wait=true --timeout=180s
