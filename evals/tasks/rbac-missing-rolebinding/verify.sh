#!/usr/bin/env bash
# Verifier of rbac-missing-rolebinding: a RoleBinding gives Role deployer to the deployer service account; no ClusterRole.
# Exit 0: solved. Polls for up to VERIFY_TIMEOUT seconds (default 90): pods take a moment.
set -u
NS=rbac-missing-rolebinding
WHY="not checked yet"

solved() {
  local bound cluster
  bound=$(kubectl -n "$NS" get rolebindings -o jsonpath='{range .items[?(@.roleRef.kind=="Role")]}{.roleRef.name}={range .subjects[*]}{.kind}/{.namespace}/{.name},{end}{"\n"}{end}')
  if ! grep -Eq "^deployer=.*ServiceAccount/($NS)?/deployer," <<<"$bound"; then WHY="no RoleBinding of Role deployer to the deployer service account"; return 1; fi
  cluster=$(kubectl get clusterrolebindings -o jsonpath="{range .items[*]}{range .subjects[?(@.name==\"deployer\")]}{.namespace}{\"\\n\"}{end}{end}" | grep -x "$NS")
  if [[ -n "$cluster" ]]; then WHY="a ClusterRoleBinding gives the deployer account more"; return 1; fi
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
