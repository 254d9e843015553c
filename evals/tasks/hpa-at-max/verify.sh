#!/usr/bin/env bash
# Verifier of hpa-at-max: HPA web: maxReplicas 10 or more, minReplicas 2, target 70% CPU.
# Exit 0: solved. Polls for up to VERIFY_TIMEOUT seconds (default 90): pods take a moment.
set -u
NS=hpa-at-max
WHY="not checked yet"

solved() {
  local out min max target
  out=$(kubectl -n "$NS" get hpa web -o jsonpath='{.spec.minReplicas}|{.spec.maxReplicas}|{.spec.metrics[0].resource.target.averageUtilization}' 2>&1) || { WHY="$out"; return 1; }
  IFS='|' read -r min max target <<<"$out"
  if (( ${max:-0} < 10 )); then WHY="maxReplicas is $max"; return 1; fi
  if [[ "$min" != 2 || "$target" != 70 ]]; then WHY="min or target changed: min $min, target $target"; return 1; fi
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
