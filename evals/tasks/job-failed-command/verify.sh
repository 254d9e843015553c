#!/usr/bin/env bash
# Verifier of job-failed-command: Job nightly-report (busybox) has completed.
# Exit 0: solved. Polls for up to VERIFY_TIMEOUT seconds (default 90): pods take a moment.
set -u
NS=job-failed-command
WHY="not checked yet"

solved() {
  local out image
  out=$(kubectl -n "$NS" get job nightly-report -o jsonpath='{.status.conditions[?(@.type=="Complete")].status}' 2>&1) || { WHY="$out"; return 1; }
  image=$(kubectl -n "$NS" get job nightly-report -o jsonpath='{.spec.template.spec.containers[0].image}')
  if [[ "$image" != busybox:1.36 ]]; then WHY="the Job runs $image"; return 1; fi
  if [[ "$out" != True ]]; then WHY="Job nightly-report has not completed"; return 1; fi
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
