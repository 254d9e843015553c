#!/usr/bin/env bash
# Setup of nodes-tainted: every node tainted maintenance=true:NoSchedule, left over from a maintenance window.
set -euo pipefail
NS=nodes-tainted
kubectl create namespace "$NS"
kubectl taint nodes --all maintenance=true:NoSchedule --overwrite
kubectl -n "$NS" create deployment api --image=nginx:1.27 --replicas=2
