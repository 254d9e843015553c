#!/usr/bin/env bash
# Verifier of wrong-probe-path: api keeps an HTTP readiness probe on / at port 80; rolled out.
# Exit 0: solved. Polls for up to VERIFY_TIMEOUT seconds (default 90): pods take a moment.
set -u
NS=wrong-probe-path
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

solved() {
  local path port
  path=$(kubectl -n "$NS" get deployment api -o jsonpath='{.spec.template.spec.containers[0].readinessProbe.httpGet.path}')
  port=$(kubectl -n "$NS" get deployment api -o jsonpath='{.spec.template.spec.containers[0].readinessProbe.httpGet.port}')
  if [[ "$path" != "/" && "$path" != "/index.html" ]]; then WHY="the readiness probe's path is '${path}' (the probe must stay, on /)"; return 1; fi
  if [[ "$port" != 80 ]]; then WHY="the readiness probe's port is '$port'"; return 1; fi
  rolled_out api
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
