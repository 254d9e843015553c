#!/usr/bin/env bash
# The known fix of pvc-missing-storageclass (not named by task.yaml: the tests apply it to prove the verifier).
set -euo pipefail
NS=pvc-missing-storageclass
kubectl -n "$NS" delete pvc data --wait=true
kubectl -n "$NS" apply -f - <<'EOF'
apiVersion: v1
kind: PersistentVolumeClaim
metadata: {name: data}
spec:
  accessModes: [ReadWriteOnce]
  storageClassName: standard
  resources: {requests: {storage: 2Gi}}
EOF
