#!/usr/bin/env bash
# Verifier of pvc-resize: claim logs is Bound with a capacity of at least 5Gi.
# Exit 0: solved. Polls for up to VERIFY_TIMEOUT seconds (default 90): pods take a moment.
set -u
NS=pvc-resize
WHY="not checked yet"

to_mi() {  # a memory quantity (512Mi, 1Gi, 500M, ...) in whole MiB; 0 when not one
  awk -v q="$1" 'BEGIN { n = q + 0; u = q; sub(/^[0-9.]+/, "", u)
    f["Ki"] = 1 / 1024; f["Mi"] = 1; f["Gi"] = 1024; f["Ti"] = 1048576
    f["k"] = 1000 / 1048576; f["M"] = 1e6 / 1048576; f["G"] = 1e9 / 1048576; f[""] = 1 / 1048576
    if (!(u in f) || q == "") { print 0; exit } printf "%d\n", n * f[u] }'
}

solved() {
  local out phase cap
  out=$(kubectl -n "$NS" get pvc logs -o jsonpath='{.status.phase} {.status.capacity.storage}' 2>&1) || { WHY="$out"; return 1; }
  read -r phase cap <<<"$out"
  if [[ "$phase" != Bound ]] || (( $(to_mi "${cap:-0}") < 5120 )); then WHY="claim logs is $phase with ${cap:-no} capacity"; return 1; fi
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
