"""Read and write calls on a :class:`~opsconsole.k8s.client.Cluster` (sync; run them in threads).

List calls read raw JSON (``_preload_content=False`` + ``json.loads`` with the GC paused) into
the rows of :mod:`opsconsole.k8s.models`, page by page (``limit``/``_continue``, K8). Every
call carries the cluster's request timeout and maps errors to :mod:`opsconsole.errors`.
Mutations (:func:`delete_pod`, :func:`scale_deployment`, :func:`rollout_restart`) take
``dry_run=True`` to ask the server what would happen (``dryRun=All``) without changing anything.
"""

from __future__ import annotations

import datetime as _dt
from typing import Any

from opsconsole.errors import ClusterError, NotFound
from opsconsole.k8s.client import Cluster, gc_paused
from opsconsole.k8s.describe import Described
from opsconsole.k8s.models import DeploymentRow, EventRow, NodeRow, PodRow, UsageRow
from opsconsole.k8s.parse import (
    parse_deployment,
    parse_event,
    parse_node,
    parse_pod,
    parse_usage,
)

PAGE_SIZE = 500
METRICS_GROUP, METRICS_VERSION = "metrics.k8s.io", "v1beta1"


# --- generic paging -----------------------------------------------------------------------


def list_raw(
    cluster: Cluster,
    kind: str,
    namespace: str | None = None,
    *,
    label_selector: str | None = None,
    field_selector: str | None = None,
    page_size: int = PAGE_SIZE,
    max_items: int | None = None,
) -> tuple[list[dict[str, Any]], str]:
    """All items of ``kind`` (``pods``, ``events``, ``nodes``, ``deployments``, ``services``,
    ``endpoints``, ``namespaces``) as raw dicts, paged; returns (items, list resourceVersion)."""
    api, all_m, ns_m = _LISTERS[kind]
    items: list[dict[str, Any]] = []
    rv = ""
    for ns in cluster.scope(namespace) if kind not in ("nodes", "namespaces") else [None]:
        cont: str | None = None
        restarted = False
        while True:
            kwargs: dict[str, Any] = {"limit": page_size}
            if cont:
                kwargs["_continue"] = cont
            if label_selector:
                kwargs["label_selector"] = label_selector
            if field_selector:
                kwargs["field_selector"] = field_selector
            try:
                if ns is None:
                    data = cluster.get_json(api, all_m, **kwargs)
                else:
                    data = cluster.get_json(api, ns_m, ns, **kwargs)
            except ClusterError as exc:
                # an expired continue token (410): start the list again, once
                if cont and not restarted and "410" in str(exc):
                    restarted, cont = True, None
                    items = [i for i in items if (i.get("metadata") or {}).get("namespace") != ns]
                    continue
                raise
            page = data.get("items") or []
            if kind in ("pods", "events", "deployments", "services", "endpoints"):
                for item in page:  # lists omit kind/apiVersion on items
                    item.setdefault("kind", _KIND[kind])
            items.extend(page)
            meta = data.get("metadata") or {}
            rv = meta.get("resourceVersion", rv) or rv
            cont = meta.get("continue") or None
            if not cont or (max_items is not None and len(items) >= max_items):
                break
    if max_items is not None:
        del items[max_items:]
    return items, rv


_KIND = {
    "pods": "Pod",
    "events": "Event",
    "deployments": "Deployment",
    "services": "Service",
    "endpoints": "Endpoints",
}
_LISTERS = {
    "pods": ("core", "list_pod_for_all_namespaces", "list_namespaced_pod"),
    "events": ("core", "list_event_for_all_namespaces", "list_namespaced_event"),
    "services": ("core", "list_service_for_all_namespaces", "list_namespaced_service"),
    "endpoints": ("core", "list_endpoints_for_all_namespaces", "list_namespaced_endpoints"),
    "deployments": ("apps", "list_deployment_for_all_namespaces", "list_namespaced_deployment"),
    "nodes": ("core", "list_node", "list_node"),
    "namespaces": ("core", "list_namespace", "list_namespace"),
}


# --- pods ---------------------------------------------------------------------------------


def list_pods_with_version(
    cluster: Cluster,
    namespace: str | None = None,
    *,
    label_selector: str | None = None,
    field_selector: str | None = None,
    keep_raw: bool = False,
    page_size: int = PAGE_SIZE,
) -> tuple[list[PodRow], str]:
    # the GC stays paused over the parse too: 5,000 pods build ~100k objects, and collections
    # triggered meanwhile would walk the whole freshly parsed heap (6x slower)
    with gc_paused():
        items, rv = list_raw(
            cluster,
            "pods",
            namespace,
            label_selector=label_selector,
            field_selector=field_selector,
            page_size=page_size,
        )
        rows = [parse_pod(p, keep_raw=keep_raw) for p in items]
        # drop the parsed JSON while collection is still off: when the GC resumes, its first
        # pass then walks the rows only, not the ~100k objects of the raw list (5,000 pods:
        # ~60 ms less)
        del items
    return rows, rv


def list_pods(
    cluster: Cluster,
    namespace: str | None = None,
    *,
    label_selector: str | None = None,
    field_selector: str | None = None,
    keep_raw: bool = False,
    page_size: int = PAGE_SIZE,
) -> list[PodRow]:
    """Pods of ``namespace`` (None = all namespaces) as :class:`PodRow` (kubectl's STATUS)."""
    return list_pods_with_version(
        cluster,
        namespace,
        label_selector=label_selector,
        field_selector=field_selector,
        keep_raw=keep_raw,
        page_size=page_size,
    )[0]


def get_pod(cluster: Cluster, namespace: str, name: str) -> dict[str, Any]:
    """The raw pod object; :class:`NotFound` says ``not found: pod/<name> in <ns>``."""
    cluster.check_namespace(namespace)
    return cluster.get_json(
        "core",
        "read_namespaced_pod",
        name,
        namespace,
        err_kind="pod",
        err_name=name,
        err_namespace=namespace,
    )


def get_pod_row(cluster: Cluster, namespace: str, name: str) -> PodRow:
    return parse_pod(get_pod(cluster, namespace, name), keep_raw=True)


def describe_pod(cluster: Cluster, namespace: str, name: str, *, events: bool = True) -> str:
    """A ``kubectl describe pod``-like text (containers, states, probes, volumes, events)."""
    return describe_pod_view(cluster, namespace, name, events=events).text


def describe_pod_view(
    cluster: Cluster, namespace: str, name: str, *, events: bool = True
) -> Described:
    """The describe view of a pod: the text and the same facts as data."""
    from opsconsole.k8s.describe import describe_pod as describe

    pod = get_pod(cluster, namespace, name)
    evs = list_events(cluster, namespace, object_name=name, object_kind="Pod") if events else []
    return describe(pod, evs)


# --- events -------------------------------------------------------------------------------


def list_events(
    cluster: Cluster,
    namespace: str | None = None,
    *,
    object_name: str | None = None,
    object_kind: str | None = None,
    field_selector: str | None = None,
    warnings_only: bool = False,
) -> list[EventRow]:
    """Events (oldest first by last_seen), filtered server-side by the involved object."""
    sel = [field_selector] if field_selector else []
    if object_name:
        sel.append(f"involvedObject.name={object_name}")
    if object_kind:
        sel.append(f"involvedObject.kind={object_kind}")
    if warnings_only:
        sel.append("type=Warning")
    items, _ = list_raw(cluster, "events", namespace, field_selector=",".join(sel) or None)
    rows = [parse_event(e) for e in items]
    if object_name:  # be safe with servers that ignore field selectors
        rows = [r for r in rows if r.object_name == object_name]
    if warnings_only:
        rows = [r for r in rows if r.type == "Warning"]
    rows.sort(key=lambda r: r.last_seen or "")
    return rows


# --- workloads, nodes, services -----------------------------------------------------------


def list_deployments(cluster: Cluster, namespace: str | None = None) -> list[DeploymentRow]:
    items, _ = list_raw(cluster, "deployments", namespace)
    return [parse_deployment(d) for d in items]


def get_deployment(cluster: Cluster, namespace: str, name: str) -> dict[str, Any]:
    cluster.check_namespace(namespace)
    return cluster.get_json(
        "apps",
        "read_namespaced_deployment",
        name,
        namespace,
        err_kind="deployment",
        err_name=name,
        err_namespace=namespace,
    )


def list_nodes_raw(cluster: Cluster) -> list[dict[str, Any]]:
    return list_raw(cluster, "nodes")[0]


def list_nodes(cluster: Cluster) -> list[NodeRow]:
    return [parse_node(n) for n in list_nodes_raw(cluster)]


def list_services(cluster: Cluster, namespace: str | None = None) -> list[dict[str, Any]]:
    return list_raw(cluster, "services", namespace)[0]


def list_endpoints(cluster: Cluster, namespace: str | None = None) -> list[dict[str, Any]]:
    return list_raw(cluster, "endpoints", namespace)[0]


def list_namespaces(cluster: Cluster) -> list[str]:
    if cluster.namespace_allowlist:
        return list(cluster.namespace_allowlist)
    return [(n.get("metadata") or {}).get("name", "") for n in list_raw(cluster, "namespaces")[0]]


# --- metrics ------------------------------------------------------------------------------


def _metrics(cluster: Cluster, plural: str, namespace: str | None) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = []
    try:
        for ns in cluster.scope(namespace) if plural == "pods" else [None]:
            if ns is None:
                data = cluster.get_json(
                    "custom", "list_cluster_custom_object", METRICS_GROUP, METRICS_VERSION, plural
                )
            else:
                data = cluster.get_json(
                    "custom",
                    "list_namespaced_custom_object",
                    METRICS_GROUP,
                    METRICS_VERSION,
                    ns,
                    plural,
                )
            items.extend(data.get("items") or [])
    except NotFound:
        raise NotFound(
            "metrics API (metrics.k8s.io) not available: is metrics-server installed?"
        ) from None
    return items


def pod_metrics(cluster: Cluster, namespace: str | None = None) -> list[UsageRow]:
    return [parse_usage(i, pod=True) for i in _metrics(cluster, "pods", namespace)]


def pod_metrics_raw(cluster: Cluster, namespace: str | None = None) -> list[dict[str, Any]]:
    return _metrics(cluster, "pods", namespace)


def node_metrics(cluster: Cluster) -> list[UsageRow]:
    return [parse_usage(i, pod=False) for i in _metrics(cluster, "nodes", None)]


# --- mutations ----------------------------------------------------------------------------


def _dry(dry_run: bool) -> dict[str, Any]:
    return {"dry_run": "All"} if dry_run else {}


def delete_pod(cluster: Cluster, namespace: str, name: str, *, dry_run: bool = False) -> str:
    """Delete a pod; says whether its controller will replace it."""
    pod = get_pod(cluster, namespace, name)
    owners = (pod.get("metadata") or {}).get("ownerReferences") or []
    owner = owners[0] if owners else {}
    cluster.get_json(
        "core",
        "delete_namespaced_pod",
        name,
        namespace,
        err_kind="pod",
        err_name=name,
        err_namespace=namespace,
        **_dry(dry_run),
    )
    after = (
        f"; its {owner.get('kind')} {owner.get('name')} will create a replacement"
        if owner.get("kind") in ("ReplicaSet", "StatefulSet", "DaemonSet", "Job")
        else "; it has no controller, so nothing will replace it"
    )
    if dry_run:
        return (
            f"dry run (server-side, nothing changed): pod {namespace}/{name} "
            f"would be deleted{after}"
        )
    return f"pod {namespace}/{name} deleted{after}"


def scale_deployment(
    cluster: Cluster, namespace: str, name: str, replicas: int, *, dry_run: bool = False
) -> str:
    """Set a Deployment's replicas through the scale subresource."""
    if replicas < 0:
        raise ClusterError("replicas must be >= 0")
    dep = get_deployment(cluster, namespace, name)
    current = (dep.get("spec") or {}).get("replicas", 1)
    cluster.get_json(
        "apps",
        "patch_namespaced_deployment_scale",
        name,
        namespace,
        {"spec": {"replicas": int(replicas)}},
        err_kind="deployment",
        err_name=name,
        err_namespace=namespace,
        _content_type="application/merge-patch+json",
        **_dry(dry_run),
    )
    if dry_run:
        return (
            f"dry run (server-side, nothing changed): deployment {namespace}/{name} would be "
            f"scaled from {current} to {replicas} replicas"
        )
    return f"deployment {namespace}/{name} scaled from {current} to {replicas} replicas"


def rollout_restart(cluster: Cluster, namespace: str, name: str, *, dry_run: bool = False) -> str:
    """What ``kubectl rollout restart`` does: patch the template's restartedAt annotation."""
    dep = get_deployment(cluster, namespace, name)
    replicas = (dep.get("spec") or {}).get("replicas", 1)
    now = _dt.datetime.now(_dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    body = {
        "spec": {
            "template": {"metadata": {"annotations": {"kubectl.kubernetes.io/restartedAt": now}}}
        }
    }
    cluster.get_json(
        "apps",
        "patch_namespaced_deployment",
        name,
        namespace,
        body,
        err_kind="deployment",
        err_name=name,
        err_namespace=namespace,
        _content_type="application/strategic-merge-patch+json",
        **_dry(dry_run),
    )
    if dry_run:
        return (
            f"dry run (server-side, nothing changed): deployment {namespace}/{name} would roll "
            f"out new pods for its {replicas} replicas (restartedAt={now})"
        )
    return f"deployment {namespace}/{name} restarted: its {replicas} replicas roll out anew"
