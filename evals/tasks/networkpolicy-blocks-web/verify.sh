#!/usr/bin/env bash
# Verifier of networkpolicy-blocks-web: default-deny stays; a policy lets the namespace's pods reach app=web on TCP 80.
# Exit 0: solved. Polls for up to VERIFY_TIMEOUT seconds (default 90): pods take a moment.
set -u
NS=networkpolicy-blocks-web
WHY="not checked yet"

solved() {
  local deny allow
  deny=$(kubectl -n "$NS" get networkpolicy default-deny -o jsonpath='{.spec.policyTypes[*]}|{.spec.ingress}' 2>&1) || { WHY="default-deny is gone: $deny"; return 1; }
  if [[ "$deny" != "Ingress|" ]]; then WHY="default-deny was changed: $deny"; return 1; fi
  # one line per policy for app=web: its ingress rules' ports and peers
  allow=$(kubectl -n "$NS" get networkpolicy -o jsonpath='{range .items[?(@.spec.podSelector.matchLabels.app=="web")]}{range .spec.ingress[*]}{.ports[*].port}|{.from[*].podSelector}|{.from[*].namespaceSelector}|{.from[*].ipBlock}{"\n"}{end}{end}')
  if ! grep -Eq '^([^|]* )?80( [^|]*)?\|\{\}\|\|$' <<<"$allow"; then WHY="no ingress rule for app=web on port 80 from the namespace's pods only (${allow:-none})"; return 1; fi
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
