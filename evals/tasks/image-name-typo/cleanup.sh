#!/usr/bin/env bash
# Cleanup of image-name-typo: the namespace and everything in it.
set -uo pipefail
NS=image-name-typo
kubectl delete namespace "$NS" --ignore-not-found --wait=true --timeout=180s
