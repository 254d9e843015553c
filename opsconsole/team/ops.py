"""The Ops agent: the Kubernetes tools, resource usage, and Warning events treated as alerts.

``get_alerts(namespace?)`` groups Warning events into alerts (one per reason and object) with a
severity, newest first, in one compact line each::

    ALERT severity=high reason=OOMKilling pod=shop/image-resizer-... count=14 last=3m ago: ...
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from opsconsole.agent.tools import Tool, ToolResult
from opsconsole.team import Specialist
from opsconsole.team._common import guarded, namespace_arg, obj

if TYPE_CHECKING:  # pragma: no cover
    from opsconsole.config import Settings
    from opsconsole.k8s.client import Cluster

OPS = Specialist(
    name="ops",
    description=(
        "Ops agent (运维): Kubernetes state, pods, logs, events and alerts, resource usage, "
        "nodes, deployments, diagnosis of failing workloads."
    ),
    allowlist=(
        "get_k8s_pods",
        "get_pod_logs",
        "describe_pod",
        "get_events",
        "get_alerts",
        "get_deployments",
        "get_nodes",
        "get_resource_usage",
        "find_unhealthy_pods",
        "list_resources",
        "get_resource",
        "describe_resource",
        "get_resource_events",
        "list_api_resources",
        "change_timeline",
        "rollout_history",
        "check_service_path",
        "check_access",
        "delete_pod",
        "scale_deployment",
        "rollout_restart",
        # changes to any kind, each approved after its server-side dry-run diff
        "apply_resource",
        "patch_resource",
        "set_image",
        "scale_resource",
        "rollout_restart_resource",
        "rollout_undo",
        "delete_resource",
        "exec_in_container",
    ),
)

#: Warning reasons and the severity of the alert they raise
ALERT_SEVERITY = {
    "OOMKilling": "high",
    "OOMKilled": "high",
    "EvictionThresholdMet": "high",
    "Evicted": "high",
    "NodeNotReady": "critical",
    "SystemOOM": "high",
    "FailedMount": "high",
    "FailedAttachVolume": "high",
    "BackOff": "high",
    "CrashLoopBackOff": "high",
    "Failed": "high",
    "ErrImagePull": "high",
    "FailedScheduling": "medium",
    "Unhealthy": "medium",
    "ProbeWarning": "low",
    "FailedCreate": "high",
    "ProgressDeadlineExceeded": "high",
}
_ORDER = {"critical": 0, "high": 1, "medium": 2, "low": 3}


def render_alerts(events: list[Any], scope: str, budget: int) -> str:
    from opsconsole.k8s.render import age, fit

    groups: dict[tuple[str, str, str, str], list[Any]] = {}
    for e in events:
        if e.type != "Warning":
            continue
        key = (e.reason, e.object_kind.lower(), e.namespace, e.object_name)
        groups.setdefault(key, []).append(e)
    rows = []
    for (reason, kind, ns, name), evs in groups.items():
        last = max(evs, key=lambda e: e.last_seen or "")
        sev = ALERT_SEVERITY.get(reason, "low")
        count = sum(max(1, e.count) for e in evs)
        rows.append((sev, last.last_seen or "", reason, kind, ns, name, count, last.message))
    rows.sort(key=lambda r: (_ORDER[r[0]], _neg(r[1])))
    sev_count: dict[str, int] = {}
    for r in rows:
        sev_count[r[0]] = sev_count.get(r[0], 0) + 1
    summary = ", ".join(f"{sev_count[s]} {s}" for s in _ORDER if s in sev_count) or "none"
    head = [f"alerts (Warning events) in {scope}: {len(rows)} alerts ({summary}), worst first"]
    if not rows:
        return head[0] + "\nno Warning events: no alerts"
    lines = []
    for sev, last, reason, kind, ns, name, count, msg in rows:
        ref = f"{ns}/{name}" if ns else name
        lines.append(
            f"ALERT severity={sev} reason={reason} {kind}={ref} count={count} "
            f"last={age(last)} ago: {msg}"
        )
    return fit(head, lines, budget, what="alerts")[0]


def _neg(ts: str) -> str:
    """Sort key that puts the newest RFC 3339 timestamp first."""
    return "".join(chr(0x10FFFF - ord(c)) for c in ts)


def ops_tools(cluster: Cluster | None, settings: Settings) -> list[Tool]:
    budget = settings.agent.tool_output_tokens

    def get_alerts(args: dict[str, Any]) -> ToolResult:
        from opsconsole.errors import NoClusterConfigured
        from opsconsole.k8s import queries as q

        if cluster is None:
            raise NoClusterConfigured()
        ns = namespace_arg(cluster, args)
        events = q.list_events(cluster, ns, warnings_only=True)
        scope = f"namespace {ns}" if ns else "all namespaces"
        return ToolResult(content=render_alerts(events, scope, budget))

    return [
        Tool(
            name="get_alerts",
            description=(
                "Warning events as alerts: grouped per reason and object, with severity and "
                "count, worst and newest first."
            ),
            parameters=obj({"namespace": {"type": "string", "description": "omit for all"}}),
            handler=guarded(get_alerts),
            read_only=True,
            timeout=settings.agent.tool_timeout,
            tags=frozenset({"k8s", "ops"}),
        )
    ]
