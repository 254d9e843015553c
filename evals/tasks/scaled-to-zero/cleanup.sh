#!/usr/bin/env bash
# Cleanup of scaled-to-zero: the namespace and everything in it.
set -uo pipefail
NS=scaled-to-zero
kubectl delete namespace "$NS" --ignore-not-found --wait=true --timeout=180s
