#!/usr/bin/env bash
# Verifier of statefulset-scaled-down: redis has 3 ready replicas.
# Exit 0: solved. Polls for up to VERIFY_TIMEOUT seconds (default 90): pods take a moment.
set -u
NS=statefulset-scaled-down
WHY="not checked yet"

solved() {
  local out want ready
  out=$(kubectl -n "$NS" get statefulset redis -o jsonpath='{.spec.replicas}|{.status.readyReplicas}' 2>&1) || { WHY="$out"; return 1; }
  IFS='|' read -r want ready <<<"$out"
  if [[ "$want" != 3 || "${ready:-0}" != 3 ]]; then WHY="redis: ${ready:-0}/$want ready"; return 1; fi
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
