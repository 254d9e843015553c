#!/usr/bin/env bash
# Setup of scaled-to-zero: the orders Deployment (3 replicas) scaled to 0.
set -euo pipefail
NS=scaled-to-zero
kubectl create namespace "$NS"
kubectl -n "$NS" create deployment orders --image=nginx:1.27 --replicas=3 --port=80
kubectl -n "$NS" rollout status deployment/orders --timeout=120s
kubectl -n "$NS" scale deployment orders --replicas=0
