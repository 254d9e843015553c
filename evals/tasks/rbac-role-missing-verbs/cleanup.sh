#!/usr/bin/env bash
# Cleanup of rbac-role-missing-verbs: the namespace and everything in it.
set -uo pipefail
NS=rbac-role-missing-verbs
kubectl delete namespace "$NS" --ignore-not-found --wait=true --timeout=180s
