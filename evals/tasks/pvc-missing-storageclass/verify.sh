#!/usr/bin/env bash
# Verifier of pvc-missing-storageclass: claim data is Bound, 2Gi, ReadWriteOnce.
# Exit 0: solved. Polls for up to VERIFY_TIMEOUT seconds (default 90): pods take a moment.
set -u
NS=pvc-missing-storageclass
WHY="not checked yet"

to_mi() {  # a memory quantity (512Mi, 1Gi, 500M, ...) in whole MiB; 0 when not one
  awk -v q="$1" 'BEGIN { n = q + 0; u = q; sub(/^[0-9.]+/, "", u)
    f["Ki"] = 1 / 1024; f["Mi"] = 1; f["Gi"] = 1024; f["Ti"] = 1048576
    f["k"] = 1000 / 1048576; f["M"] = 1e6 / 1048576; f["G"] = 1e9 / 1048576; f[""] = 1 / 1048576
    if (!(u in f) || q == "") { print 0; exit } printf "%d\n", n * f[u] }'
}

solved() {
  local out phase size modes
  out=$(kubectl -n "$NS" get pvc data -o jsonpath='{.status.phase} {.spec.resources.requests.storage} {.spec.accessModes[*]}' 2>&1) || { WHY="$out"; return 1; }
  read -r phase size modes <<<"$out"
  if [[ "$phase" != Bound ]]; then WHY="claim data is $phase"; return 1; fi
  if (( $(to_mi "$size") != 2048 )) || [[ "$modes" != ReadWriteOnce ]]; then WHY="claim data asks $size $modes"; return 1; fi
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
