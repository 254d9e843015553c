#!/usr/bin/env bash
# Setup of pvc-resize: the logs claim (1Gi, class expandable with volume expansion) is full.
set -euo pipefail
NS=pvc-resize
kubectl create namespace "$NS"
kubectl apply -f - <<'EOF'
apiVersion: storage.k8s.io/v1
kind: StorageClass
metadata: {name: pvc-resize-expandable}
provisioner: rancher.io/local-path
allowVolumeExpansion: true
volumeBindingMode: Immediate
EOF
kubectl -n "$NS" apply -f - <<'EOF'
apiVersion: v1
kind: PersistentVolumeClaim
metadata: {name: logs}
spec:
  accessModes: [ReadWriteOnce]
  storageClassName: pvc-resize-expandable
  resources: {requests: {storage: 1Gi}}
EOF
kubectl -n "$NS" wait --for=jsonpath='{.status.phase}'=Bound pvc/logs --timeout=120s
