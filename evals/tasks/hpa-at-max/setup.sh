#!/usr/bin/env bash
# Setup of hpa-at-max: the web HPA is pinned at its maximum of 2 replicas.
set -euo pipefail
NS=hpa-at-max
kubectl create namespace "$NS"
kubectl -n "$NS" create deployment web --image=nginx:1.27 --replicas=2
kubectl -n "$NS" set resources deployment web --requests=cpu=100m,memory=64Mi
kubectl -n "$NS" autoscale deployment web --min=2 --max=2 --cpu=70%
