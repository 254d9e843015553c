#!/usr/bin/env bash
# Verifier of svc-selector-mismatch: the web Service has both web pods as endpoints.
# Exit 0: solved. Polls for up to VERIFY_TIMEOUT seconds (default 90): pods take a moment.
set -u
NS=svc-selector-mismatch
WHY="not checked yet"

solved() {
  local ips
  ips=$(kubectl -n "$NS" get endpoints web -o jsonpath='{.subsets[*].addresses[*].ip}' 2>&1) || { WHY="$ips"; return 1; }
  set -- $ips
  if (( $# != 2 )); then WHY="the web Service has $# ready endpoint(s), not 2"; return 1; fi
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
