#!/usr/bin/env bash
# Verifier of configmap-missing: ConfigMap feature-flags has both flags; worker still reads it; rolled out.
# Exit 0: solved. Polls for up to VERIFY_TIMEOUT seconds (default 90): pods take a moment.
set -u
NS=configmap-missing
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
  local out v2 cache ref
  out=$(kubectl -n "$NS" get configmap feature-flags -o jsonpath='{.data.CHECKOUT_V2}|{.data.SEARCH_CACHE}' 2>&1) || { WHY="$out"; return 1; }
  IFS='|' read -r v2 cache <<<"$out"
  if [[ "$v2" != false || "$cache" != true ]]; then WHY="feature-flags has CHECKOUT_V2='$v2' SEARCH_CACHE='$cache'"; return 1; fi
  ref=$(kubectl -n "$NS" get deployment worker -o jsonpath='{.spec.template.spec.containers[0].envFrom[*].configMapRef.name}')
  if [[ "$ref" != feature-flags ]]; then WHY="worker no longer reads feature-flags ($ref)"; return 1; fi
  rolled_out worker
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
