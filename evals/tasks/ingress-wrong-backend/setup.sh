#!/usr/bin/env bash
# Setup of ingress-wrong-backend: the shop Ingress sends / to Service shop-web; the Service is web.
set -euo pipefail
NS=ingress-wrong-backend
kubectl create namespace "$NS"
kubectl -n "$NS" create deployment web --image=nginx:1.27 --replicas=2 --port=80
kubectl -n "$NS" expose deployment web --port=80
kubectl -n "$NS" create ingress shop --rule="shop.example.com/*=shop-web:80"
