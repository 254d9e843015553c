#!/usr/bin/env bash
# Verifier of rbac-role-missing-verbs: Role pod-reader grants get, list and watch on pods and no other verbs.
# Exit 0: solved. Polls for up to VERIFY_TIMEOUT seconds (default 90): pods take a moment.
set -u
NS=rbac-role-missing-verbs
WHY="not checked yet"

solved() {
  local rules verb
  rules=$(kubectl -n "$NS" get role pod-reader -o jsonpath='{range .rules[*]}{.resources[*]}:{.verbs[*]}{"\n"}{end}' 2>&1) || { WHY="$rules"; return 1; }
  for verb in get list watch; do
    if ! grep -Eq "(^| )pods( [^:]*)?:(.* )?($verb|\*)( |$)" <<<"$rules"; then WHY="pod-reader does not allow $verb on pods"; return 1; fi
  done
  if grep -Eq ":.*(create|update|patch|delete|\*)" <<<"$rules"; then WHY="pod-reader now allows more: $rules"; return 1; fi
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
