"""RBAC risks for the Security agent, over raw RBAC JSON (pure functions, no I/O).

:func:`check_rbac` reports cluster-admin bound to non-system subjects, roles with wildcard
verbs or resources, read access to secrets, escalate/bind/impersonate, and pods/exec. Only
roles that some binding grants to a non-system subject are reported.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from opsconsole.k8s.analyzers import Finding

_E: dict[str, Any] = {}

# --- RBAC ------------------------------------------------------------------------------------

BUILTIN_ROLES = frozenset({"cluster-admin", "admin", "edit", "view"})


def _subjects(binding: dict[str, Any]) -> list[str]:
    out = []
    for s in binding.get("subjects") or ():
        kind = (s or _E).get("kind", "")
        name = (s or _E).get("name", "")
        ns = (s or _E).get("namespace")
        out.append(f"{kind} {ns + '/' if ns else ''}{name}")
    return out


def _system_subject(s: str) -> bool:
    return (
        " system:" in s
        or s.endswith("/kube-system")
        or " kube-system/" in s
        or s == "Group system:masters"
    )


def check_rbac(
    cluster_roles: Iterable[dict[str, Any]],
    cluster_role_bindings: Iterable[dict[str, Any]],
    roles: Iterable[dict[str, Any]] = (),
    role_bindings: Iterable[dict[str, Any]] = (),
) -> list[Finding]:
    """RBAC risks: cluster-admin bound to non-system subjects, wildcard verbs/resources,
    secret access, escalate/bind/impersonate, pods/exec. Only bound roles are reported."""
    out: list[Finding] = []
    #: (role kind, role name, namespace or None) -> [(binding, subjects)]
    bound: dict[tuple[str, str, str | None], list[tuple[str, list[str]]]] = {}
    for b in cluster_role_bindings:
        meta = b.get("metadata") or _E
        ref = b.get("roleRef") or _E
        subjects = [s for s in _subjects(b) if not _system_subject(s)]
        if not subjects or meta.get("name", "").startswith("system:"):
            continue
        bname = meta.get("name", "")
        if ref.get("name") == "cluster-admin":
            out.append(
                Finding(
                    "critical",
                    "clusterrolebinding",
                    None,
                    bname,
                    "ClusterAdminBinding",
                    [f"binds cluster-admin to {', '.join(subjects)}"],
                    "bind a narrower role (namespace-scoped Role with only the verbs needed)",
                )
            )
            continue
        bound.setdefault(("ClusterRole", str(ref.get("name")), None), []).append(
            (f"clusterrolebinding {bname}", subjects)
        )
    for b in role_bindings:
        meta = b.get("metadata") or _E
        ref = b.get("roleRef") or _E
        subjects = [s for s in _subjects(b) if not _system_subject(s)]
        if not subjects:
            continue
        ns = meta.get("namespace")
        bname = meta.get("name", "")
        if ref.get("kind") == "ClusterRole" and ref.get("name") == "cluster-admin":
            out.append(
                Finding(
                    "high",
                    "rolebinding",
                    ns,
                    bname,
                    "ClusterAdminBinding",
                    [f"binds cluster-admin in namespace {ns} to {', '.join(subjects)}"],
                    "bind the built-in 'edit' or a custom Role with only the verbs needed",
                )
            )
            continue
        bound.setdefault((str(ref.get("kind", "Role")), str(ref.get("name")), ns), []).append(
            (f"rolebinding {ns}/{bname}", subjects)
        )

    def rules_findings(kind: str, role: dict[str, Any]) -> None:
        meta = role.get("metadata") or _E
        name = meta.get("name", "")
        ns = meta.get("namespace")
        if name.startswith("system:") or (kind == "ClusterRole" and name in BUILTIN_ROLES):
            return
        users: list[tuple[str, list[str]]] = []
        for (k_kind, k_name, k_ns), v in bound.items():
            if k_kind == kind and k_name == name and (kind == "ClusterRole" or k_ns == ns):
                users += v
        if not users:
            return
        who = "; ".join(f"{b} -> {', '.join(s)}" for b, s in users[:3])
        rkind = "clusterrole" if kind == "ClusterRole" else "role"
        for rule in role.get("rules") or ():
            verbs = [str(v) for v in (rule or _E).get("verbs") or ()]
            res = [str(r) for r in (rule or _E).get("resources") or ()]
            groups = [str(g) for g in (rule or _E).get("apiGroups") or ()]
            rule_text = f"verbs {verbs} on {res or ['(non-resource)']} in apiGroups {groups}"

            def add(sev: str, reason: str, fix: str, _rt: str = rule_text) -> None:
                out.append(Finding(sev, rkind, ns, name, reason, [_rt, f"bound by {who}"], fix))

            if "*" in verbs and "*" in res:
                add("critical", "WildcardRBAC", "list the verbs and resources explicitly")
            elif "*" in verbs or "*" in res:
                add("high", "WildcardRBAC", "replace '*' with the verbs/resources it needs")
            if "secrets" in res or ("*" in res and "" in groups):
                if set(verbs) & {"get", "list", "watch", "*"}:
                    add(
                        "high",
                        "SecretAccess",
                        "remove read access to secrets, or restrict it with resourceNames",
                    )
            if set(verbs) & {"escalate", "bind", "impersonate"}:
                add("high", "RBACEscalation", "remove escalate/bind/impersonate")
            if "pods/exec" in res and set(verbs) & {"create", "*"}:
                add("medium", "PodExec", "grant pods/exec only to break-glass roles")

    for r in cluster_roles:
        rules_findings("ClusterRole", r)
    for r in roles:
        rules_findings("Role", r)
    return out
