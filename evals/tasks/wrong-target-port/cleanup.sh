#!/usr/bin/env bash
# Cleanup of wrong-target-port: the namespace and everything in it.
set -uo pipefail
NS=wrong-target-port
kubectl delete namespace "$NS" --ignore-not-found --wait=true --timeout=180s
