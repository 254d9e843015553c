#!/usr/bin/env bash
# Verifier of missing-configmap-key: the key payments reads exists in its ConfigMap with the gateway URL; rolled out.
# Exit 0: solved. Polls for up to VERIFY_TIMEOUT seconds (default 90): pods take a moment.
set -u
NS=missing-configmap-key
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
  local cm key value
  cm=$(kubectl -n "$NS" get deployment payments -o jsonpath='{.spec.template.spec.containers[0].env[?(@.name=="PAYMENT_GATEWAY_URL")].valueFrom.configMapKeyRef.name}')
  key=$(kubectl -n "$NS" get deployment payments -o jsonpath='{.spec.template.spec.containers[0].env[?(@.name=="PAYMENT_GATEWAY_URL")].valueFrom.configMapKeyRef.key}')
  if [[ -z "$cm" || -z "$key" ]]; then WHY="PAYMENT_GATEWAY_URL no longer comes from a ConfigMap"; return 1; fi
  value=$(kubectl -n "$NS" get configmap "$cm" -o "jsonpath={.data.$key}" 2>/dev/null)
  if [[ "$value" != "https://pay.example.com/v2" ]]; then WHY="ConfigMap $cm key $key is '${value}'"; return 1; fi
  rolled_out payments
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
