#!/usr/bin/env bash
# Cleanup of hpa-wrong-target: the namespace and everything in it.
set -uo pipefail
NS=hpa-wrong-target
kubectl delete namespace "$NS" --ignore-not-found --wait=true --timeout=180s
