"""Gather what the analyzers need from a cluster and run them (``find_unhealthy_pods``).

One pass: pods (raw kept), warning events, deployments, nodes, services + endpoints, pod
metrics (optional), and the last lines of the previous log of up to ``max_log_pods``
crashing containers (bounded reads). Fetches run in a small thread pool.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from typing import Any

from opsconsole.errors import Forbidden, OpsConsoleError
from opsconsole.k8s import queries as q
from opsconsole.k8s.analyzers import (
    Finding,
    analyze_deployments,
    analyze_nodes,
    analyze_pods,
    analyze_services,
    events_by_object,
    sort_findings,
)
from opsconsole.k8s.client import Cluster
from opsconsole.k8s.models import PodRow


def _optional(fn: Any, *args: Any, **kw: Any) -> Any:
    try:
        return fn(*args, **kw)
    except Forbidden:
        return None
    except OpsConsoleError:
        return None


def _error_lines(text: str) -> list[str]:
    lines = [ln for ln in text.splitlines() if ln.strip()]
    hits = [
        ln
        for ln in lines
        if any(
            w in ln.lower()
            for w in ("error", "exception", "fatal", "panic", "killed", "memory", "refused")
        )
    ]
    return (hits or lines)[-3:]


def health_findings(
    cluster: Cluster, namespace: str | None = None, *, max_log_pods: int = 6
) -> tuple[list[Finding], int, int]:
    """(sorted findings, total pods, healthy pods) for ``namespace`` (None = all)."""
    with ThreadPoolExecutor(max_workers=4, thread_name_prefix="k8s-health") as pool:
        f_pods = pool.submit(q.list_pods, cluster, namespace, keep_raw=True)
        f_events = pool.submit(_optional, q.list_events, cluster, namespace, warnings_only=True)
        f_deps = pool.submit(_optional, q.list_deployments, cluster, namespace)
        f_nodes = pool.submit(_optional, q.list_nodes_raw, cluster)
        f_svcs = pool.submit(_optional, q.list_services, cluster, namespace)
        f_eps = pool.submit(_optional, q.list_endpoints, cluster, namespace)
        f_usage = pool.submit(_optional, q.pod_metrics, cluster, namespace)
        pods: list[PodRow] = f_pods.result()  # required: its errors propagate
        events = f_events.result() or []
        deps = f_deps.result() or []
        nodes = f_nodes.result() or []
        svcs = f_svcs.result() or []
        eps = f_eps.result() or []
        usage = {(u.namespace or "", u.name): u for u in f_usage.result() or []}

        crashing = [
            (p, c.name)
            for p in pods
            for c in p.containers
            if c.restart_count > 0 and c.last_reason and not c.ready
        ][:max_log_pods]

        def prev_tail(item: tuple[PodRow, str]) -> list[str]:
            from opsconsole.k8s.logs import read_logs

            p, cname = item
            try:
                got = read_logs(
                    cluster,
                    p.namespace,
                    p.name,
                    container=cname,
                    tail_lines=30,
                    limit_bytes=16_384,
                    previous=True,
                )
            except OpsConsoleError:
                return []
            return _error_lines(got.text)

        tails = list(pool.map(prev_tail, crashing))
    logs: dict[tuple[str, str], dict[str, list[str]]] = {}
    for (p, cname), tail in zip(crashing, tails, strict=True):
        if tail:
            logs.setdefault(p.key, {})[cname] = tail
    findings = analyze_pods(pods, events_by_object(events), usage, logs)
    findings += analyze_deployments(deps)
    if namespace is None:
        findings += analyze_nodes(nodes)
    findings += analyze_services(svcs, eps, pods)
    healthy = sum(1 for p in pods if p.healthy)
    return sort_findings(findings), len(pods), healthy
