#!/usr/bin/env bash
# Cleanup of cronjob-suspended: the namespace and everything in it.
set -uo pipefail
NS=cronjob-suspended
kubectl delete namespace "$NS" --ignore-not-found --wait=true --timeout=180s
