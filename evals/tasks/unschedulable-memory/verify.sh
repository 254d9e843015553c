#!/usr/bin/env bash
# Verifier of unschedulable-memory: the cache Deployment is rolled out and requests at least 256Mi.
# Exit 0: solved. Polls for up to VERIFY_TIMEOUT seconds (default 90): pods take a moment.
set -u
NS=unschedulable-memory
WHY="not checked yet"

rolled_out() {  # deployment $1 in $NS: every replica updated, ready, old pods gone
  local out want upd ready total gen obs
  out=$(kubectl -n "$NS" get deployment "$1" -o jsonpath='{.spec.replicas}|{.status.updatedReplicas}|{.status.readyReplicas}|{.status.replicas}|{.metadata.generation}|{.status.observedGeneration}' 2>&1) || { WHY="$out"; return 1; }
  IFS='|' read -r want upd ready total gen obs <<<"$out"
  if [[ "${obs:-}" != "$gen" || "${upd:-0}" != "$want" || "${ready:-0}" != "$want" || "${total:-0}" != "$want" ]]; then
    WHY="deployment $1: ${ready:-0}/$want ready, ${upd:-0} updated, ${total:-0} in all"
    return 1
  fi
}

to_mi() {  # a memory quantity (512Mi, 1Gi, 500M, ...) in whole MiB; 0 when not one
  awk -v q="$1" 'BEGIN { n = q + 0; u = q; sub(/^[0-9.]+/, "", u)
    f["Ki"] = 1 / 1024; f["Mi"] = 1; f["Gi"] = 1024; f["Ti"] = 1048576
    f["k"] = 1000 / 1048576; f["M"] = 1e6 / 1048576; f["G"] = 1e9 / 1048576; f[""] = 1 / 1048576
    if (!(u in f) || q == "") { print 0; exit } printf "%d\n", n * f[u] }'
}

solved() {
  local req
  req=$(kubectl -n "$NS" get deployment cache -o jsonpath='{.spec.template.spec.containers[0].resources.requests.memory}')
  if (( $(to_mi "${req:-0}") < 256 )); then WHY="cache requests ${req:-no} memory (at least 256Mi)"; return 1; fi
  rolled_out cache
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
