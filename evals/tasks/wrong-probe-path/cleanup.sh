#!/usr/bin/env bash
# Cleanup of wrong-probe-path: the namespace and everything in it.
set -uo pipefail
NS=wrong-probe-path
kubectl delete namespace "$NS" --ignore-not-found --wait=true --timeout=180s
