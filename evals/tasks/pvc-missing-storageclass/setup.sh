#!/usr/bin/env bash
# Setup of pvc-missing-storageclass: the claim data names StorageClass fast-ssd, which this cluster does not have.
set -euo pipefail
NS=pvc-missing-storageclass
kubectl create namespace "$NS"
kubectl -n "$NS" apply -f - <<'EOF'
apiVersion: v1
kind: PersistentVolumeClaim
metadata: {name: data}
spec:
  accessModes: [ReadWriteOnce]
  storageClassName: fast-ssd
  resources: {requests: {storage: 2Gi}}
EOF
