"""What a change does, read from its server-side dry run: the field-level diff between the live
object and the dry run's result, and the blast radius (what else it touches).

:func:`object_diff` renders both objects as YAML with sorted keys, without the fields that
change on every write or say nothing about the change (``managedFields``, ``resourceVersion``,
``generation``, ``uid``, ``creationTimestamp``, the last-applied annotation, ``status``), with
Secret values and private keys replaced by their sizes (:func:`opsconsole.k8s.generic.clean`),
and returns a unified diff (``---``/``+++`` headers, ``@@`` hunks, ``-`` removed and ``+``
added lines), capped at :data:`MAX_DIFF_LINES`.

The blast radius functions return one line for a person: ``replaces 3 pods, rolling,
maxUnavailable 25%, maxSurge 25%``; ``3 -> 5 pods``; ``ReplicaSet web-7f9c (of Deployment web)
will create a replacement pod``; ``deletes namespace shop and the 42 objects in it``.
"""

from __future__ import annotations

import difflib
from typing import TYPE_CHECKING, Any

from opsconsole.k8s.generic import clean

if TYPE_CHECKING:
    from opsconsole.k8s.client import Cluster
    from opsconsole.k8s.discovery import ResourceInfo

MAX_DIFF_LINES = 400
_META_NOISE = ("managedFields", "resourceVersion", "generation", "uid", "creationTimestamp")
#: kinds whose pod template changes roll their pods, and where the template is
_TEMPLATES = {
    "Deployment": ("spec", "template"),
    "StatefulSet": ("spec", "template"),
    "DaemonSet": ("spec", "template"),
    "ReplicaSet": ("spec", "template"),
}
_CONTROLLERS = ("ReplicaSet", "StatefulSet", "DaemonSet", "Job", "ReplicationController")


def for_diff(obj: dict[str, Any] | None) -> dict[str, Any] | None:
    """``obj`` without the noise of a write, Secret values and private keys (sizes instead)."""
    if not isinstance(obj, dict):
        return None
    out = clean(obj, keep_status=False)  # a copy
    md = out.get("metadata")
    if isinstance(md, dict):
        for key in _META_NOISE:
            md.pop(key, None)
    return out


def object_diff(before: dict[str, Any] | None, after: dict[str, Any] | None, label: str) -> str:
    """The unified diff ``before`` -> ``after`` (None: the object does not exist on that side);
    "" when nothing changes."""
    a, b = for_diff(before), for_diff(after)
    old = to_yaml_sorted(a).splitlines() if a is not None else []
    new = to_yaml_sorted(b).splitlines() if b is not None else []
    if old == new:
        return ""
    lines = list(
        difflib.unified_diff(
            old,
            new,
            fromfile=f"live/{label}" if a is not None else "/dev/null",
            tofile=f"dry-run/{label}" if b is not None else "/dev/null",
            lineterm="",
            n=3,
        )
    )
    if len(lines) > MAX_DIFF_LINES:
        more = len(lines) - MAX_DIFF_LINES
        lines = lines[:MAX_DIFF_LINES] + [f"[truncated: {more} more diff lines]"]
    return "\n".join(lines)


def to_yaml_sorted(obj: Any) -> str:
    import yaml

    dumper = getattr(yaml, "CSafeDumper", yaml.SafeDumper)
    return str(yaml.dump(obj, Dumper=dumper, sort_keys=True, default_flow_style=False, width=120))


# --- blast radius ---------------------------------------------------------------------------


def _get(obj: Any, *path: str) -> Any:
    for key in path:
        if not isinstance(obj, dict):
            return None
        obj = obj.get(key)
    return obj


def _pods_of(obj: dict[str, Any]) -> int:
    kind = obj.get("kind")
    if kind == "DaemonSet":
        return int(_get(obj, "status", "desiredNumberScheduled") or 0)
    replicas = _get(obj, "spec", "replicas")
    return int(replicas if isinstance(replicas, int) else 1)


def _strategy(obj: dict[str, Any]) -> str:
    kind = obj.get("kind")
    if kind == "Deployment":
        st = _get(obj, "spec", "strategy") or {}
        if st.get("type") == "Recreate":
            return "Recreate: all of them stop before the new ones start"
        ru = st.get("rollingUpdate") or {}
        unavailable = ru.get("maxUnavailable", "25%")
        surge = ru.get("maxSurge", "25%")
        return f"rolling, maxUnavailable {unavailable}, maxSurge {surge}"
    if kind in ("StatefulSet", "DaemonSet"):
        key = "updateStrategy"
        st = _get(obj, "spec", key) or {}
        if st.get("type") == "OnDelete":
            return "OnDelete: only as each pod is deleted"
        ru = st.get("rollingUpdate") or {}
        if kind == "StatefulSet":
            part = ru.get("partition")
            return "rolling, one pod at a time" + (f", from ordinal {part}" if part else "")
        return f"rolling, maxUnavailable {ru.get('maxUnavailable', 1)} per node"
    return "the controller does not replace running pods (only new ones get the change)"


def template_change(before: dict[str, Any] | None, after: dict[str, Any] | None) -> str:
    """The blast radius of an update of a workload: its pod template changed or not, its
    replicas changed or not; "" for a kind without pods."""
    if not isinstance(before, dict) or not isinstance(after, dict):
        return ""
    kind = str(after.get("kind") or "")
    parts: list[str] = []
    if kind in _TEMPLATES:
        path = _TEMPLATES[kind]
        n_before, n_after = _pods_of(before), _pods_of(after)
        if n_before != n_after and kind != "DaemonSet":
            parts.append(f"{n_before} -> {n_after} pods")
        if for_diff(_get(before, *path)) != for_diff(_get(after, *path)):
            n = n_after
            if kind == "ReplicaSet":
                parts.append(f"pod template changed: {_strategy(after)}")
            else:
                noun = "pod" if n == 1 else "pods"
                where = " (one per node)" if kind == "DaemonSet" else ""
                parts.append(f"replaces {n} {noun}{where}, {_strategy(after)}")
    if kind == "CronJob" and for_diff(_get(before, "spec", "jobTemplate")) != for_diff(
        _get(after, "spec", "jobTemplate")
    ):
        parts.append("the next jobs run the new template; running jobs are not changed")
    if kind == "Pod" and for_diff(before.get("spec")) != for_diff(after.get("spec")):
        parts.append("the kubelet restarts the changed containers of this pod")
    return "; ".join(parts)


def scale_change(before: int, after: int) -> str:
    if before == after:
        return f"{before} -> {after} pods (no change)"
    more = "starts" if after > before else "stops"
    return f"{before} -> {after} pods ({more} {abs(after - before)})"


def delete_pod_radius(pod: dict[str, Any]) -> str:
    owners = _get(pod, "metadata", "ownerReferences") or []
    owner = next((o for o in owners if o.get("controller")), owners[0] if owners else None)
    if not owner:
        return "a bare pod: nothing recreates it"
    kind, name = owner.get("kind"), owner.get("name")
    if kind in _CONTROLLERS:
        of = ""
        if kind == "ReplicaSet" and isinstance(name, str) and "-" in name:
            of = f" (of Deployment {name.rsplit('-', 1)[0]})"
        same = " with the same name" if kind == "StatefulSet" else ""
        return f"{kind} {name}{of} will create a replacement pod{same}"
    return f"owned by {kind} {name}: it decides whether to recreate it"


def delete_workload_radius(obj: dict[str, Any], propagation: str) -> str:
    kind = str(obj.get("kind") or "")
    if kind in _TEMPLATES or kind in ("Job", "CronJob"):
        n = (
            _pods_of(obj)
            if kind in _TEMPLATES
            else int(_get(obj, "status", "active") or 0)
            if kind == "Job"
            else 0
        )
        what = f"its {n} pod(s)" if kind != "CronJob" else "its jobs and their pods"
        if propagation == "Orphan":
            return f"{what} stay, orphaned (propagationPolicy Orphan)"
        return f"deletes {what} too (propagationPolicy {propagation})"
    if kind == "Service":
        return "its endpoints go: traffic to this service stops"
    if kind == "PersistentVolumeClaim":
        return "its volume goes with it when the reclaim policy is Delete"
    return ""


def namespace_contents(cluster: Cluster, namespace: str, kinds: list[ResourceInfo]) -> int:
    """How many objects the namespace holds, counted over every listable namespaced kind (the
    events excepted): one item per kind and the server's ``remainingItemCount``, or page by
    page where the server does not say."""
    from opsconsole.errors import OpsConsoleError
    from opsconsole.k8s.discovery import raw_get
    from opsconsole.k8s.paths import resource_path

    total = 0
    for res in kinds:
        if not res.namespaced or not res.can("list") or res.kind == "Event":
            continue
        if res.plural in ("bindings", "localsubjectaccessreviews", "pods/log"):
            continue
        path = resource_path(res.group, res.version, res.plural, namespace=namespace)
        token, limit = "", 1
        while True:
            query: list[tuple[str, Any]] = [("limit", limit)]
            if token:
                query.append(("continue", token))
            try:
                page = raw_get(cluster, path, query)
            except OpsConsoleError:
                break
            total += len(page.get("items") or ())
            token = str(_get(page, "metadata", "continue") or "")
            remaining = _get(page, "metadata", "remainingItemCount")
            if token and isinstance(remaining, int):
                total += remaining
                break
            if not token:
                break
            limit = 500
    return total
