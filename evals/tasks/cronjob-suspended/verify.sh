#!/usr/bin/env bash
# Verifier of cronjob-suspended: CronJob cleanup is not suspended and keeps its schedule.
# Exit 0: solved. Polls for up to VERIFY_TIMEOUT seconds (default 90): pods take a moment.
set -u
NS=cronjob-suspended
WHY="not checked yet"

solved() {
  local out suspend schedule
  out=$(kubectl -n "$NS" get cronjob cleanup -o jsonpath='{.spec.suspend}|{.spec.schedule}' 2>&1) || { WHY="$out"; return 1; }
  IFS='|' read -r suspend schedule <<<"$out"
  if [[ "$suspend" == true ]]; then WHY="cleanup is suspended"; return 1; fi
  if [[ "$schedule" != "*/10 * * * *" ]]; then WHY="the schedule changed to $schedule"; return 1; fi
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
