"""The policy every Kubernetes tool goes through, read or change, before any request.

- ``kubernetes.allowed_namespaces`` (joined with ``namespace_allowlist``; empty: all): a
  namespace outside it is refused (:meth:`Cluster.check_namespace`, S11). A cluster-scoped
  change (a Namespace, a ClusterRole ...) is refused too while the list is set, except a
  Namespace that is itself in the list.
- ``kubernetes.denied_kinds`` (any name kubectl accepts): no tool reads or changes that kind.
- ``kubernetes.denied_change_kinds`` (default ``secrets``): no tool changes that kind (apply,
  patch, delete ...); reading it stays as the read tools allow (a Secret's keys and sizes,
  never its values). Secret values are written by people, not by a model that cannot see them.
- Whatever the policy says, no change writes a PEM private key into any object (a TLS
  Secret's ``tls.key``, a ConfigMap holding a key, a cert-manager ``Certificate``'s key
  Secret): a private key in a tool's arguments is refused before any request.

:meth:`Policy.check` is the one place that decides; the tools call it with the kind and the
namespace of what they touch (``tests/k8s/test_change_policy.py`` iterates the registry and
proves every mutating tool does).
"""

from __future__ import annotations

import json
import re
from typing import TYPE_CHECKING, Any

from opsconsole.errors import Forbidden

if TYPE_CHECKING:
    from opsconsole.config import KubernetesSettings
    from opsconsole.k8s.client import Cluster
    from opsconsole.k8s.discovery import ResourceInfo

#: kubectl's names for the kinds of the tools with a fixed kind
_FIXED = {
    "pods": {"pods", "pod", "po"},
    "deployments": {"deployments", "deployment", "deploy", "deployments.apps", "deployment.apps"},
    "events": {"events", "event", "ev", "events.events.k8s.io", "event.events.k8s.io"},
    "nodes": {"nodes", "node", "no"},
}
_PRIVATE_KEY = re.compile(r"-----BEGIN [A-Z ]*PRIVATE KEY-----")


class KindDenied(Forbidden):
    """A kind listed in ``kubernetes.denied_kinds`` (or, for a change,
    ``kubernetes.denied_change_kinds``); refused before any request."""

    code = "denied_kind"


class PolicyRefused(Forbidden):
    """A change the policy refuses (a private key in it, a cluster-scoped change while the
    namespaces are restricted); refused before any request."""

    code = "policy"


def _names(res: ResourceInfo) -> set[str]:
    names = {res.plural, res.singular, res.kind.lower(), res.ref, *res.short_names}
    if res.group:
        names.add(f"{res.kind.lower()}.{res.group}")
    return {n.lower() for n in names if n}


class Policy:
    """The settings' policy, for one cluster connection."""

    def __init__(self, settings: KubernetesSettings) -> None:
        self.denied = {d.strip().lower() for d in settings.denied_kinds if d.strip()}
        self.denied_change = {d.strip().lower() for d in settings.denied_change_kinds if d.strip()}

    def is_denied(self, res: ResourceInfo, *, change: bool = False) -> bool:
        deny = self.denied | (self.denied_change if change else set())
        return bool(deny & _names(res))

    def check(
        self,
        cluster: Cluster,
        res: ResourceInfo,
        namespace: str | None,
        *,
        change: bool,
        name: str | None = None,
    ) -> None:
        """Refuse (``KindDenied``, ``PolicyRefused``, ``NamespaceNotAllowed``) what the policy
        does not allow; return quietly otherwise. Nothing is sent."""
        verb = "changing" if change else "reading"
        if self.is_denied(res, change=False):
            raise KindDenied(
                f"refused: {verb} {res.ref} is denied by policy (kubernetes.denied_kinds); "
                "nothing was sent"
            )
        if change and self.is_denied(res, change=True):
            raise KindDenied(
                f"refused: changing {res.ref} is denied by policy "
                "(kubernetes.denied_change_kinds); nothing was sent",
                hint="make this change yourself (kubectl), or edit the policy in the config",
            )
        if res.namespaced:
            cluster.check_namespace(namespace)
        elif change and cluster.namespace_allowlist:
            if res.kind == "Namespace" and res.group == "" and name is not None:
                cluster.check_namespace(name)
            else:
                raise PolicyRefused(
                    f"refused: {res.ref} is cluster-scoped and this session may change only "
                    f"namespaces {', '.join(cluster.namespace_allowlist)} "
                    "(kubernetes.allowed_namespaces); nothing was sent"
                )

    def check_named(
        self, cluster: Cluster, kind: str, namespace: str | None, *, change: bool
    ) -> None:
        """:meth:`check` for a tool with a fixed kind (``pods``, ``deployments``): kubectl's
        names for it are known here, so no request is needed to decide."""
        names = _FIXED.get(kind)
        deny = self.denied | (self.denied_change if change else set())
        if names is None and deny:
            from opsconsole.k8s import discovery

            self.check(cluster, discovery.resolve(cluster, kind), namespace, change=change)
            return
        hit = deny & (names or set())
        if hit:
            which = "denied_kinds" if self.denied & hit else "denied_change_kinds"
            verb = "changing" if change else "reading"
            raise KindDenied(
                f"refused: {verb} {kind} is denied by policy (kubernetes.{which}); nothing was sent"
            )
        if namespace is not None:
            cluster.check_namespace(namespace)

    @staticmethod
    def check_content(value: Any) -> None:
        """Refuse a change whose content carries a PEM private key."""
        text = value if isinstance(value, str) else json.dumps(value, default=str)
        if _PRIVATE_KEY.search(text):
            raise PolicyRefused(
                "refused: the change contains a private key; private keys are never written "
                "by a tool (create that Secret yourself); nothing was sent"
            )
