#!/usr/bin/env bash
# Cleanup of missing-service: the namespace and everything in it.
set -uo pipefail
NS=missing-service
kubectl delete namespace "$NS" --ignore-not-found --wait=true --timeout=180s
