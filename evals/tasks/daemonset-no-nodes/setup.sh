#!/usr/bin/env bash
# Setup of daemonset-no-nodes: the log-agent DaemonSet selects nodes labelled role=logging; there are none.
set -euo pipefail
NS=daemonset-no-nodes
kubectl create namespace "$NS"
kubectl -n "$NS" apply -f - <<'EOF'
apiVersion: apps/v1
kind: DaemonSet
metadata: {name: log-agent}
spec:
  selector: {matchLabels: {app: log-agent}}
  updateStrategy: {type: RollingUpdate}
  template:
    metadata: {labels: {app: log-agent}}
    spec:
      nodeSelector: {role: logging}
      containers:
        - name: agent
          image: busybox:1.36
          command: [sh, -c, "sleep infinity"]
EOF
