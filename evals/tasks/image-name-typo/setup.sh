#!/usr/bin/env bash
# Setup of image-name-typo: the gateway Deployment's image is ngnix:1.27 (a typo of nginx).
set -euo pipefail
NS=image-name-typo
kubectl create namespace "$NS"
kubectl -n "$NS" create deployment gateway --image=ngnix:1.27 --replicas=2 --port=80
