#!/usr/bin/env bash
# Setup of missing-service: the inventory pods run, but nobody created their Service.
set -euo pipefail
NS=missing-service
kubectl create namespace "$NS"
kubectl -n "$NS" create deployment inventory --image=nginxinc/nginx-unprivileged:1.27 --replicas=2 --port=8080
kubectl -n "$NS" rollout status deployment/inventory --timeout=120s
