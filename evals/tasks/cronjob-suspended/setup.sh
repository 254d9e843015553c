#!/usr/bin/env bash
# Setup of cronjob-suspended: the CronJob cleanup was suspended and forgotten.
set -euo pipefail
NS=cronjob-suspended
kubectl create namespace "$NS"
kubectl -n "$NS" create cronjob cleanup --image=busybox:1.36 --schedule="*/10 * * * *" -- sh -c "echo cleaned"
kubectl -n "$NS" patch cronjob cleanup --type=merge -p '{"spec":{"suspend":true}}'
