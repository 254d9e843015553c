#!/usr/bin/env bash
# Cleanup of wrong-env-var: the namespace and everything in it.
set -uo pipefail
NS=wrong-env-var
kubectl delete namespace "$NS" --ignore-not-found --wait=true --timeout=180s
