#!/usr/bin/env bash
# Setup of rbac-missing-rolebinding: the service account deployer and its Role exist; nothing binds them.
set -euo pipefail
NS=rbac-missing-rolebinding
kubectl create namespace "$NS"
kubectl -n "$NS" create serviceaccount deployer
kubectl -n "$NS" create role deployer --verb=get,list,watch,update,patch --resource=deployments
