#!/usr/bin/env bash
# Verifier of missing-service: Service inventory: port 80 to 8080, both inventory pods as endpoints.
# Exit 0: solved. Polls for up to VERIFY_TIMEOUT seconds (default 90): pods take a moment.
set -u
NS=missing-service
WHY="not checked yet"

solved() {
  local out port target ips
  out=$(kubectl -n "$NS" get service inventory -o jsonpath='{.spec.ports[0].port} {.spec.ports[0].targetPort}' 2>&1) || { WHY="$out"; return 1; }
  read -r port target <<<"$out"
  if [[ "$port" != 80 || "$target" != 8080 ]]; then WHY="the Service maps $port to $target"; return 1; fi
  ips=$(kubectl -n "$NS" get endpoints inventory -o jsonpath='{.subsets[*].addresses[*].ip}')
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
