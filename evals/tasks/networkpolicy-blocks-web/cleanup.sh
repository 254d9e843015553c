#!/usr/bin/env bash
# Cleanup of networkpolicy-blocks-web: the namespace and everything in it.
set -uo pipefail
NS=networkpolicy-blocks-web
kubectl delete namespace "$NS" --ignore-not-found --wait=true --timeout=180s
