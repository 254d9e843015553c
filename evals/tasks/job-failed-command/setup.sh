#!/usr/bin/env bash
# Setup of job-failed-command: the Job nightly-report fails: its command ends with exit 1, left from a test.
set -euo pipefail
NS=job-failed-command
kubectl create namespace "$NS"
kubectl -n "$NS" apply -f - <<'EOF'
apiVersion: batch/v1
kind: Job
metadata: {name: nightly-report}
spec:
  backoffLimit: 0
  template:
    spec:
      restartPolicy: Never
      containers:
        - name: report
          image: busybox:1.36
          command: [sh, -c, "echo building report; exit 1"]
EOF
kubectl -n "$NS" wait --for=condition=failed job/nightly-report --timeout=180s
