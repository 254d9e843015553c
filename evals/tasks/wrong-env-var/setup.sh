#!/usr/bin/env bash
# Setup of wrong-env-var: checkout's DB_HOST names postgres.legacy.svc, which does not exist.
set -euo pipefail
NS=wrong-env-var
kubectl create namespace "$NS"
kubectl -n "$NS" create deployment postgres --image=postgres:16.4 --port=5432
kubectl -n "$NS" expose deployment postgres --port=5432
kubectl -n "$NS" create deployment checkout --image=nginx:1.27 --replicas=2
kubectl -n "$NS" set env deployment/checkout DB_HOST=postgres.legacy.svc DB_PORT=5432
