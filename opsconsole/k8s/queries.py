"""Read and write calls on a :class:`~opsconsole.k8s.client.Cluster` (sync; run them in threads).

List calls read raw JSON (``_preload_content=False`` + ``json.loads`` with the GC paused) into
the rows of :mod:`opsconsole.k8s.models`, page by page (``limit``/``_continue``, K8). Every
call carries the cluster's request timeout and maps errors to :mod:`opsconsole.errors`.
Mutations (:func:`delete_pod`, :func:`scale_deployment`, :func:`rollout_restart`) take
``dry_run=True`` to ask the server what would happen (``dryRun=All``) without changing anything.
"""

from __future__ import annotations

import datetime as _dt
from collections.abc import Generator
from dataclasses import dataclass
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


@dataclass
class _Page:
    """One page of a paged list: its items, or ``restart`` (an expired continue token: drop
    what was taken from ``namespace`` and take it again)."""

    namespace: str | None
    items: list[dict[str, Any]]
    restart: bool = False


def _pages(
    cluster: Cluster,
    kind: str,
    namespace: str | None,
    *,
    label_selector: str | None,
    field_selector: str | None,
    page_size: int,
    version: list[str],
) -> Generator[_Page, None, None]:
    """The pages of a list, as they arrive (a caller that reduces each page keeps memory flat
    in the cluster's size, K8); the list resourceVersion ends up in ``version[0]``."""
    api, all_m, ns_m = _LISTERS[kind]
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
                    yield _Page(ns, [], restart=True)
                    continue
                raise
            page = data.get("items") or []
            if kind in _KIND:
                for item in page:  # lists omit kind/apiVersion on items
                    item.setdefault("kind", _KIND[kind])
            meta = data.get("metadata") or {}
            version[0] = meta.get("resourceVersion", version[0]) or version[0]
            cont = meta.get("continue") or None
            yield _Page(ns, page)
            if not cont:
                break


def _in_scope(item: dict[str, Any], namespace: str | None) -> bool:
    """Whether ``item`` was listed from ``namespace`` (None: the all-namespaces list)."""
    return namespace is None or (item.get("metadata") or {}).get("namespace") == namespace


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
    items: list[dict[str, Any]] = []
    version = [""]
    pages = _pages(
        cluster,
        kind,
        namespace,
        label_selector=label_selector,
        field_selector=field_selector,
        page_size=page_size,
        version=version,
    )
    for page in pages:
        if page.restart:
            items = [i for i in items if not _in_scope(i, page.namespace)]
            continue
        items.extend(page.items)
        if max_items is not None and len(items) >= max_items:
            pages.close()
            break
    if max_items is not None:
        del items[max_items:]
    return items, version[0]


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
    # triggered meanwhile would walk the whole freshly parsed heap (6x slower). Each page becomes
    # rows as it arrives and its JSON is dropped, so the peak is the rows plus one page, not
    # the whole raw list (10,000 pods: ~150 MB of dicts otherwise)
    rows: list[PodRow] = []
    version = [""]
    with gc_paused():
        for page in _pages(
            cluster,
            "pods",
            namespace,
            label_selector=label_selector,
            field_selector=field_selector,
            page_size=page_size,
            version=version,
        ):
            if page.restart:
                rows = [
                    r for r in rows if page.namespace is not None and r.namespace != page.namespace
                ]
                continue
            rows.extend(parse_pod(p, keep_raw=keep_raw) for p in page.items)
            page.items.clear()
    rv = version[0]
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
