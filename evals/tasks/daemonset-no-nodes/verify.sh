#!/usr/bin/env bash
# Verifier of daemonset-no-nodes: log-agent has a ready pod on every untainted node.
# Exit 0: solved. Polls for up to VERIFY_TIMEOUT seconds (default 90): pods take a moment.
set -u
NS=daemonset-no-nodes
WHY="not checked yet"

solved() {
  local nodes out desired ready
  # every node a pod without tolerations may run on (a real cluster's tainted control plane is not one)
  nodes=$(kubectl get nodes -o jsonpath='{range .items[*]}{.metadata.name}:{.spec.taints[*].effect}{"\n"}{end}' | grep -Evc 'NoSchedule|NoExecute')
  out=$(kubectl -n "$NS" get daemonset log-agent -o jsonpath='{.status.desiredNumberScheduled}|{.status.numberReady}' 2>&1) || { WHY="$out"; return 1; }
  IFS='|' read -r desired ready <<<"$out"
  if (( ${desired:-0} < nodes || ${ready:-0} != ${desired:-0} )); then WHY="log-agent: ${ready:-0} ready of ${desired:-0}, $nodes untainted nodes"; return 1; fi
}

deadline=$((SECONDS + ${VERIFY_TIMEOUT:-90}))
until solved; do
  if (( SECONDS >= deadline )); then
    echo "not solved: $WHY"
    exit 1
  fi
  sleep 1
done
echo "solved"
