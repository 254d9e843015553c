#!/usr/bin/env bash
# Verifier of wrong-target-port: the Service's port 80 forwards to 8080 (or the port named http) of ready pods.
# Exit 0: solved. Polls for up to VERIFY_TIMEOUT seconds (default 90): pods take a moment.
set -u
NS=wrong-target-port
WHY="not checked yet"

solved() {
  local port target ips
  port=$(kubectl -n "$NS" get service frontend -o jsonpath='{.spec.ports[0].port}')
  target=$(kubectl -n "$NS" get service frontend -o jsonpath='{.spec.ports[0].targetPort}')
  if [[ "$port" != 80 ]]; then WHY="the Service's port is $port, not 80"; return 1; fi
  if [[ "$target" != 8080 && "$target" != http ]]; then WHY="targetPort is $target"; return 1; fi
  ips=$(kubectl -n "$NS" get endpoints frontend -o jsonpath='{.subsets[*].addresses[*].ip}')
  set -- $ips
  if (( $# != 2 )); then WHY="$# ready endpoint(s), not 2"; return 1; fi
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
