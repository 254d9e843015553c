#!/usr/bin/env bash
# Setup of svc-selector-mismatch: the web Service selects app=web-frontend; the pods are app=web.
set -euo pipefail
NS=svc-selector-mismatch
kubectl create namespace "$NS"
kubectl -n "$NS" create deployment web --image=nginx:1.27 --replicas=2 --port=80
kubectl -n "$NS" rollout status deployment/web --timeout=120s
kubectl -n "$NS" create service clusterip web --tcp=80:80
kubectl -n "$NS" patch service web --type=merge -p '{"spec":{"selector":{"app":"web-frontend"}}}'
