#!/usr/bin/env bash
# Setup of rollback-bad-image: catalog's second rollout set the image tag nginx:1.27-hotfix, which does not exist.
set -euo pipefail
NS=rollback-bad-image
kubectl create namespace "$NS"
kubectl -n "$NS" create deployment catalog --image=nginx:1.27 --replicas=2 --port=80
kubectl -n "$NS" rollout status deployment/catalog --timeout=120s
kubectl -n "$NS" set image deployment/catalog nginx=nginx:1.27-hotfix
