#!/usr/bin/env bash
# Cleanup of pvc-resize: the namespace and everything in it, and its StorageClass.
set -uo pipefail
NS=pvc-resize
kubectl delete storageclass pvc-resize-expandable --ignore-not-found
kubectl delete namespace "$NS" --ignore-not-found --wait=true --timeout=180s
