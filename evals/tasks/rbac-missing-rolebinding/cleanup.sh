#!/usr/bin/env bash
# Cleanup of rbac-missing-rolebinding: the namespace and everything in it.
set -uo pipefail
NS=rbac-missing-rolebinding
kubectl delete namespace "$NS" --ignore-not-found --wait=true --timeout=180s
