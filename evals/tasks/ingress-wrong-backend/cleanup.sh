#!/usr/bin/env bash
# Cleanup of ingress-wrong-backend: the namespace and everything in it.
set -uo pipefail
NS=ingress-wrong-backend
kubectl delete namespace "$NS" --ignore-not-found --wait=true --timeout=180s
