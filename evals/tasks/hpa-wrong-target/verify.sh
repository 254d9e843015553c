#!/usr/bin/env bash
# Verifier of hpa-wrong-target: HPA api targets Deployment api.
# Exit 0: solved. Polls for up to VERIFY_TIMEOUT seconds (default 90): pods take a moment.
set -u
NS=hpa-wrong-target
WHY="not checked yet"

solved() {
  local out kind name
  out=$(kubectl -n "$NS" get hpa api -o jsonpath='{.spec.scaleTargetRef.kind}|{.spec.scaleTargetRef.name}' 2>&1) || { WHY="$out"; return 1; }
  IFS='|' read -r kind name <<<"$out"
  if [[ "$kind" != Deployment || "$name" != api ]]; then WHY="HPA api targets $kind/$name"; return 1; fi
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
