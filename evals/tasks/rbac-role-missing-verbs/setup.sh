#!/usr/bin/env bash
# Setup of rbac-role-missing-verbs: Role pod-reader allows only get on pods; the monitor account needs list and watch.
set -euo pipefail
NS=rbac-role-missing-verbs
kubectl create namespace "$NS"
kubectl -n "$NS" create serviceaccount monitor
kubectl -n "$NS" create role pod-reader --verb=get --resource=pods
kubectl -n "$NS" create rolebinding monitor-pod-reader --role=pod-reader --serviceaccount="$NS":monitor
