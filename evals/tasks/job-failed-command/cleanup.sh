#!/usr/bin/env bash
# Cleanup of job-failed-command: the namespace and everything in it.
set -uo pipefail
NS=job-failed-command
kubectl delete namespace "$NS" --ignore-not-found --wait=true --timeout=180s
