#!/usr/bin/env bash
# Verifier of ingress-wrong-backend: every backend of Ingress shop is Service web port 80, host kept.
# Exit 0: solved. Polls for up to VERIFY_TIMEOUT seconds (default 90): pods take a moment.
set -u
NS=ingress-wrong-backend
WHY="not checked yet"

solved() {
  local out host backends
  out=$(kubectl -n "$NS" get ingress shop -o jsonpath='{.spec.rules[0].host}|{range .spec.rules[*].http.paths[*]}{.backend.service.name}:{.backend.service.port.number} {end}' 2>&1) || { WHY="$out"; return 1; }
  IFS='|' read -r host backends <<<"$out"
  if [[ "$host" != shop.example.com ]]; then WHY="the host changed to $host"; return 1; fi
  if [[ "$backends" != "web:80 " ]]; then WHY="backends: $backends"; return 1; fi
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
