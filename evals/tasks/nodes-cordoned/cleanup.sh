#!/usr/bin/env bash
# Cleanup of nodes-cordoned: the namespace and everything in it, and the nodes uncordoned.
set -uo pipefail
NS=nodes-cordoned
kubectl uncordon $(kubectl get nodes -o name) >/dev/null 2>&1 || true
kubectl delete namespace "$NS" --ignore-not-found --wait=true --timeout=180s
