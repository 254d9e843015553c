"""Who a request comes from, and what RBAC lets them do.

Authentication: the kubeconfig's token (or any token that is not a service-account token) is the
cluster admin (``system:masters``); a token from ``kubectl create token`` (TokenRequest) is its
service account (``system:serviceaccount:<ns>:<name>``, groups ``system:serviceaccounts``,
``system:serviceaccounts:<ns>``), refused (401) once expired or once the account is gone.
``Impersonate-User`` / ``Impersonate-Group`` (``kubectl --as``, ``--as-group``) act as another
user; an admin may, others need the ``impersonate`` verb.

Authorization evaluates the stored Roles, ClusterRoles, RoleBindings and ClusterRoleBindings
(verbs, apiGroups, resources and ``resource/subresource``, resourceNames, ``*``), plus the
default ClusterRoles ``cluster-admin``, ``admin``, ``edit`` and ``view`` when no stored one has
the name, and what every authenticated user may do (discovery, ``/version``, ``/openapi``, self
reviews). A denial is the real 403 (``pods is forbidden: User "..." cannot list resource "pods"
in API group "" in the namespace "ns"``), with RBAC's reason when a binding names a role that
does not exist.
"""

from __future__ import annotations

import base64
import json
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from .apitypes import ApiError
from .store import Obj

if TYPE_CHECKING:
    from .store import Store

RBAC = "rbac.authorization.k8s.io"
MASTERS = "system:masters"
ADMIN = "kubernetes-admin"
_READ = ["get", "list", "watch"]
_WRITE = ["create", "delete", "deletecollection", "patch", "update"]
_WORKLOAD_GROUPS = ["", "apps", "batch", "autoscaling", "policy", "networking.k8s.io"]
#: the default ClusterRoles of a real cluster (abridged to their resource rules)
BOOTSTRAP: dict[str, list[Obj]] = {
    "cluster-admin": [
        {"apiGroups": ["*"], "resources": ["*"], "verbs": ["*"]},
        {"nonResourceURLs": ["*"], "verbs": ["*"]},
    ],
    "admin": [
        {"apiGroups": [*_WORKLOAD_GROUPS, RBAC], "resources": ["*"], "verbs": ["*"]},
    ],
    "edit": [
        {
            "apiGroups": _WORKLOAD_GROUPS,
            "resources": [
                "pods",
                "pods/log",
                "pods/exec",
                "pods/attach",
                "pods/portforward",
                "services",
                "endpoints",
                "configmaps",
                "secrets",
                "serviceaccounts",
                "persistentvolumeclaims",
                "deployments",
                "deployments/scale",
                "replicasets",
                "replicasets/scale",
                "statefulsets",
                "statefulsets/scale",
                "daemonsets",
                "jobs",
                "cronjobs",
                "horizontalpodautoscalers",
                "poddisruptionbudgets",
                "ingresses",
                "networkpolicies",
                "events",
            ],
            "verbs": [*_READ, *_WRITE],
        },
    ],
    "view": [
        {
            "apiGroups": _WORKLOAD_GROUPS,
            "resources": [
                "pods",
                "pods/log",
                "pods/status",
                "services",
                "endpoints",
                "configmaps",
                "serviceaccounts",
                "persistentvolumeclaims",
                "deployments",
                "deployments/scale",
                "replicasets",
                "statefulsets",
                "daemonsets",
                "jobs",
                "cronjobs",
                "horizontalpodautoscalers",
                "poddisruptionbudgets",
                "ingresses",
                "networkpolicies",
                "events",
                "limitranges",
                "resourcequotas",
            ],
            "verbs": _READ,
        },
    ],
}
#: what every authenticated user may do (system:basic-user, system:discovery)
_SELF_REVIEWS = ("selfsubjectaccessreviews", "selfsubjectrulesreviews", "selfsubjectreviews")


@dataclass(frozen=True)
class User:
    name: str
    groups: tuple[str, ...] = field(default=())

    @property
    def admin(self) -> bool:
        return MASTERS in self.groups


ADMIN_USER = User(ADMIN, (MASTERS, "system:authenticated"))


@dataclass(frozen=True)
class Attributes:
    verb: str
    group: str
    resource: str  # plural
    subresource: str | None
    namespace: str | None
    name: str | None

    @property
    def full(self) -> str:
        return f"{self.resource}/{self.subresource}" if self.subresource else self.resource


def service_account_user(ns: str, name: str, extra: tuple[str, ...] = ()) -> User:
    groups = ("system:serviceaccounts", f"system:serviceaccounts:{ns}", *extra)
    return User(f"system:serviceaccount:{ns}:{name}", (*groups, "system:authenticated"))


def _claims(token: str) -> Obj | None:
    parts = token.split(".")
    if len(parts) != 3 or parts[2] != "sandbox":
        return None
    try:
        data = base64.urlsafe_b64decode(parts[1] + "=" * (-len(parts[1]) % 4))
        claims = json.loads(data)
    except ValueError:
        return None
    return claims if isinstance(claims, dict) else None


def _unauthorized() -> ApiError:
    return ApiError(401, "Unauthorized", "Unauthorized")


def authenticate(headers: Any, store: Store) -> User:
    """The user behind a request: its bearer token, then any impersonation it asks for."""
    auth = (headers.get("Authorization") or "") if headers is not None else ""
    user = ADMIN_USER
    if auth.startswith("Bearer "):
        claims = _claims(auth[7:].strip())
        if claims is not None:
            k8s = claims.get("kubernetes.io") or {}
            ns = k8s.get("namespace", "")
            sa = (k8s.get("serviceaccount") or {}).get("name", "")
            uid = (k8s.get("serviceaccount") or {}).get("uid", "")
            live = store.get("serviceaccounts", ns, sa)
            if (
                live is None
                or live["metadata"].get("uid") != uid
                or float(claims.get("exp") or 0) < time.time()
            ):
                raise _unauthorized()
            user = service_account_user(ns, sa)
    as_user = headers.get("Impersonate-User") if headers is not None else None
    if not as_user:
        return user
    get_all = getattr(headers, "get_all", None)
    as_groups = tuple(get_all("Impersonate-Group") or ()) if get_all else ()
    if not user.admin:
        raise ApiError(
            403,
            "Forbidden",
            f'users "{as_user}" is forbidden: User "{user.name}" cannot impersonate resource '
            '"users" in API group "" at the cluster scope',
            {"name": as_user, "kind": "users"},
        )
    if as_user.startswith("system:serviceaccount:") and as_user.count(":") == 3:
        _, _, ns, sa = as_user.split(":")
        return service_account_user(ns, sa, as_groups)
    return User(as_user, (*as_groups, "system:authenticated"))


def _matches(rule: Obj, a: Attributes) -> bool:
    verbs = rule.get("verbs") or []
    if "*" not in verbs and a.verb not in verbs:
        return False
    groups = rule.get("apiGroups")
    if groups is None or ("*" not in groups and a.group not in groups):
        return False
    resources = rule.get("resources") or []
    wanted = {a.full, "*"}
    if a.subresource:
        wanted |= {f"*/{a.subresource}", f"{a.resource}/*"}
    if not wanted & set(resources):
        return False
    names = rule.get("resourceNames") or []
    return not names or (a.name is not None and a.name in names)


def _subject_matches(subject: Obj, user: User, binding_ns: str) -> bool:
    kind, name = subject.get("kind"), subject.get("name")
    if kind == "User":
        return name == user.name
    if kind == "Group":
        return name in user.groups
    if kind == "ServiceAccount":
        ns = subject.get("namespace") or binding_ns
        return user.name == f"system:serviceaccount:{ns}:{name}"
    return False


class Authorizer:
    """RBAC over the cluster's stored roles and bindings."""

    def __init__(self, store: Store) -> None:
        self.store = store

    def _role_rules(self, ref: Obj, binding_ns: str, errors: list[str]) -> tuple[list[Obj], str]:
        kind, name = ref.get("kind"), ref.get("name", "")
        if kind == "ClusterRole":
            role = self.store.get(f"{RBAC}/clusterroles", "", name)
            if role is None and name in BOOTSTRAP:
                return BOOTSTRAP[name], f'ClusterRole "{name}"'
            if role is None:
                errors.append(f'clusterrole.rbac.authorization.k8s.io "{name}" not found')
                return [], ""
            return list(role.get("rules") or []), f'ClusterRole "{name}"'
        role = self.store.get(f"{RBAC}/roles", binding_ns, name)
        if role is None:
            errors.append(f'role.rbac.authorization.k8s.io "{name}" not found')
            return [], ""
        return list(role.get("rules") or []), f'Role "{name}"'

    def _bindings(self, ns: str | None) -> list[tuple[str, Obj]]:
        out = [("ClusterRoleBinding", b) for b in self.store.list(f"{RBAC}/clusterrolebindings")]
        if ns:
            out += [("RoleBinding", b) for b in self.store.list(f"{RBAC}/rolebindings", ns)]
        return out

    def decide(self, user: User, a: Attributes) -> tuple[bool, str]:
        """(allowed, reason) as the RBAC authorizer answers."""
        if user.admin:
            return True, ""
        if a.resource in _SELF_REVIEWS and a.verb == "create":
            return True, ""
        errors: list[str] = []
        for kind, b in self._bindings(a.namespace):
            md = b["metadata"]
            bns = md.get("namespace", "")
            subject = next(
                (s for s in b.get("subjects") or () if _subject_matches(s, user, bns)), None
            )
            if subject is None:
                continue
            rules, role_text = self._role_rules(b.get("roleRef") or {}, bns, errors)
            if any(_matches(r, a) for r in rules):
                where = f'"{md["name"]}/{bns}"' if kind == "RoleBinding" else f'"{md["name"]}"'
                who = subject.get("kind", "")
                sname = subject.get("name", "")
                if who == "ServiceAccount":
                    sname = f"{sname}/{subject.get('namespace') or bns}"
                return True, f'RBAC: allowed by {kind} {where} of {role_text} to {who} "{sname}"'
        if not errors:
            return False, ""
        return False, "RBAC: " + (errors[0] if len(errors) == 1 else "[" + ", ".join(errors) + "]")

    def rules_for(self, user: User, ns: str) -> list[Obj]:
        """The resource rules that apply to ``user`` in ``ns`` (SelfSubjectRulesReview)."""
        if user.admin:
            return [{"verbs": ["*"], "apiGroups": ["*"], "resources": ["*"]}]
        out: list[Obj] = [
            {
                "verbs": ["create"],
                "apiGroups": ["authorization.k8s.io"],
                "resources": ["selfsubjectaccessreviews", "selfsubjectrulesreviews"],
            }
        ]
        for _kind, b in self._bindings(ns):
            bns = b["metadata"].get("namespace", "")
            if any(_subject_matches(s, user, bns) for s in b.get("subjects") or ()):
                rules, _ = self._role_rules(b.get("roleRef") or {}, bns, [])
                out += [r for r in rules if "resources" in r]
        return out

    def check(self, user: User, a: Attributes) -> None:
        """Raise the real 403 unless ``user`` may."""
        allowed, reason = self.decide(user, a)
        if allowed:
            return
        qualified = f"{a.resource}.{a.group}" if a.group else a.resource
        subject = f'{qualified} "{a.name}"' if a.name else qualified
        where = f'in the namespace "{a.namespace}"' if a.namespace else "at the cluster scope"
        msg = (
            f'{subject} is forbidden: User "{user.name}" cannot {a.verb} resource "{a.full}" '
            f'in API group "{a.group}" {where}'
        )
        if reason:
            msg += f": {reason}"
        details: Obj = {"kind": a.resource}
        if a.name:
            details["name"] = a.name
        if a.group:
            details["group"] = a.group
        raise ApiError(403, "Forbidden", msg, details)
