"""Paged raw lists of any resource (``limit``/``continue``, K8) and label-selector matching,
shared by the investigation helpers (timeline, service path)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from opsconsole.k8s.discovery import raw_get
from opsconsole.k8s.paths import resource_path

if TYPE_CHECKING:
    from opsconsole.k8s.client import Cluster

PAGE = 500


def list_items(
    cluster: Cluster,
    group: str,
    version: str,
    plural: str,
    namespace: str | None,
    *,
    label_selector: str | None = None,
    field_selector: str | None = None,
    max_items: int = 20_000,
) -> list[dict[str, Any]]:
    """Every item of a collection (raw dicts), paged; at most ``max_items``."""
    path = resource_path(group, version, plural, namespace=namespace)
    out: list[dict[str, Any]] = []
    cont: str | None = None
    while True:
        q: list[tuple[str, Any]] = [("limit", PAGE)]
        if label_selector:
            q.append(("labelSelector", label_selector))
        if field_selector:
            q.append(("fieldSelector", field_selector))
        if cont:
            q.append(("continue", cont))
        doc = raw_get(cluster, path, q)
        out.extend(doc.get("items") or [])
        cont = (doc.get("metadata") or {}).get("continue") or None
        if not cont or len(out) >= max_items:
            return out[:max_items]


def selector_matches(selector: dict[str, Any] | None, labels: dict[str, str]) -> bool:
    """A LabelSelector (matchLabels + matchExpressions) against labels; {} matches all."""
    if selector is None:
        return False
    for k, v in (selector.get("matchLabels") or {}).items():
        if labels.get(k) != v:
            return False
    for e in selector.get("matchExpressions") or ():
        key, op, values = e.get("key"), e.get("operator"), e.get("values") or []
        if op == "In" and labels.get(key) not in values:
            return False
        if op == "NotIn" and key in labels and labels[key] in values:
            return False
        if op == "Exists" and key not in labels:
            return False
        if op == "DoesNotExist" and key in labels:
            return False
    return True


def selector_text(selector: dict[str, str]) -> str:
    return ",".join(f"{k}={v}" for k, v in sorted(selector.items()))
