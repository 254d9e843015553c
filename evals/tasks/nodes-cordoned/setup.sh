#!/usr/bin/env bash
# Setup of nodes-cordoned: every node cordoned for a maintenance that has ended.
set -euo pipefail
NS=nodes-cordoned
kubectl create namespace "$NS"
kubectl cordon $(kubectl get nodes -o name)
kubectl -n "$NS" create deployment worker --image=busybox:1.36 --replicas=2 -- sleep infinity
