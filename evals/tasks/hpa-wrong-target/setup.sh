#!/usr/bin/env bash
# Setup of hpa-wrong-target: the api HPA scales Deployment api-v1, which does not exist (the Deployment is api).
set -euo pipefail
NS=hpa-wrong-target
kubectl create namespace "$NS"
kubectl -n "$NS" create deployment api --image=nginx:1.27 --replicas=2
kubectl -n "$NS" set resources deployment api --requests=cpu=100m,memory=64Mi
kubectl -n "$NS" apply -f - <<'EOF'
apiVersion: autoscaling/v2
kind: HorizontalPodAutoscaler
metadata: {name: api}
spec:
  scaleTargetRef: {apiVersion: apps/v1, kind: Deployment, name: api-v1}
  minReplicas: 2
  maxReplicas: 6
  metrics:
    - type: Resource
      resource: {name: cpu, target: {type: Utilization, averageUtilization: 60}}
EOF
