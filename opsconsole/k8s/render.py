"""Compact text for a model, within a token budget, and the same facts as data for programs
(used by :mod:`opsconsole.k8s.tools`).

Token count: ``estimate_tokens`` = ASCII characters / 4 + one token per non-ASCII character
(CJK text costs about a token per character, so this never undercounts it). Budgets cut whole
lines and end with an explicit ``[truncated: N more <things> omitted ...]`` marker.

Every renderer returns ``(text, data)``. The data of a listing is ``summary`` (its first line),
``columns`` (the header line, for tables), ``items``: one dict per row with the row's fields
and ``line``, the row as the text shows it (for quoting; programs decide on the fields), and
``empty``, the line shown instead of rows when there are none. Items are never cut by the
token budget (at most :data:`MAX_ITEMS`).
"""

from __future__ import annotations

import datetime as _dt
from collections import Counter
from collections.abc import Iterable

from opsconsole.agent.transcript import estimate_tokens
from opsconsole.duration import human_duration
from opsconsole.k8s.analyzers import Finding
from opsconsole.k8s.models import DeploymentRow, EventRow, NodeRow, PodRow, UsageRow
from opsconsole.k8s.parse import fmt_bytes

#: rows of a listing's data at most
MAX_ITEMS = 500


def fit(
    head: list[str],
    body: Iterable[str],
    budget_tokens: int,
    *,
    what: str = "lines",
    total: int | None = None,
    hint: str = "",
    tail: list[str] | None = None,
) -> tuple[str, int]:
    """Join ``head`` + as many ``body`` lines as fit + ``tail``; returns (text, omitted)."""
    reserve = 40 + estimate_tokens("\n".join(tail or []))
    used = estimate_tokens("\n".join(head)) + reserve
    out = list(head)
    body_list = list(body)
    shown = 0
    for line in body_list:
        cost = estimate_tokens(line) + 1
        if used + cost > budget_tokens:
            break
        out.append(line)
        used += cost
        shown += 1
    omitted = (total if total is not None else len(body_list)) - shown
    if omitted > 0:
        more = f"[truncated: {omitted} more {what} omitted"
        out.append(more + (f"; {hint}]" if hint else "]"))
    out.extend(tail or [])
    return "\n".join(out), max(0, omitted)


def clip_middle(text: str, budget_tokens: int, what: str = "characters") -> str:
    """Keep the start and the end of a long text (describe output) with a marker between."""
    if estimate_tokens(text) <= budget_tokens:
        return text
    lines = text.splitlines()
    head, tail = [], []
    budget = budget_tokens - 30
    i, j = 0, len(lines) - 1
    used = 0
    while i <= j:  # alternate: 2 lines of head for each line of tail
        for _ in range(2):
            if i > j:
                break
            cost = estimate_tokens(lines[i]) + 1
            if used + cost > budget:
                j = i - 1
                break
            head.append(lines[i])
            used += cost
            i += 1
        if i > j:
            break
        cost = estimate_tokens(lines[j]) + 1
        if used + cost > budget:
            break
        tail.append(lines[j])
        used += cost
        j -= 1
    omitted = len(lines) - len(head) - len(tail)
    return "\n".join(head + [f"[truncated: {omitted} lines omitted]"] + tail[::-1])


def age(ts: str, now: _dt.datetime | None = None) -> str:
    if not ts:
        return "?"
    try:
        t = _dt.datetime.fromisoformat(ts.replace("Z", "+00:00"))
    except ValueError:
        return "?"
    now = now or _dt.datetime.now(_dt.UTC)
    return human_duration(max(0.0, (now - t).total_seconds()))


# --- pods ---------------------------------------------------------------------------------


def pod_note(p: PodRow) -> str:
    """Why a pod is unhealthy, in a few words."""
    for c in p.containers:
        if c.reason in ("CrashLoopBackOff",) or (c.restart_count and c.last_reason):
            if c.last_reason or c.last_exit_code is not None:
                return (
                    f"{c.name}: last exit {c.last_exit_code} ({c.last_reason or '?'})"
                    f", restarts {c.restart_count}"
                )
        if c.reason and c.reason not in ("Completed",):
            msg = f": {c.message[:120]}" if c.message else ""
            return f"{c.name}: {c.reason}{msg}"
    not_ready = [c.name for c in p.containers if not c.ready and not c.init]
    if p.phase == "Running" and not_ready:
        return f"not ready: {', '.join(not_ready)}"
    if p.phase == "Pending" and not p.node:
        return "not scheduled"
    return ""


def workload(p: PodRow) -> str:
    """The owning workload's name (the ReplicaSet hash stripped for Deployments)."""
    if not p.owner_name:
        return p.name
    if p.owner_kind == "ReplicaSet":
        base, _, h = p.owner_name.rpartition("-")
        return base if base and h.isalnum() else p.owner_name
    return p.owner_name


def needs_attention(p: PodRow) -> bool:
    return not p.healthy or p.restarts >= 5


def render_pods(pods: list[PodRow], namespace: str | None, budget: int) -> tuple[str, dict]:
    """``namespace`` None: all namespaces (rows then read ``ns/name``)."""
    now = _dt.datetime.now(_dt.UTC)
    bad = [p for p in pods if needs_attention(p)]
    good = [p for p in pods if not needs_attention(p)]
    bad.sort(key=lambda p: (p.status == "Running", p.name))
    good.sort(key=lambda p: p.name)
    statuses = Counter(p.status for p in pods)
    summary = ", ".join(f"{s} {n}" for s, n in statuses.most_common())
    scope = f"namespace {namespace}" if namespace else "all namespaces"
    head = [
        f"pods in {scope}: {len(pods)} total; {len(bad)} need attention, "
        f"{len(good)} healthy ({summary or 'none'})"
    ]
    if not pods:
        empty: dict = {"namespace": namespace, "pods": [], "total": 0, "attention": 0}
        empty.update(healthy=0, summary=head[0], items=[], empty="(no pods)")
        return head[0] + "\n(no pods)", empty
    if len(bad) > 30:  # many unhealthy pods: say which workloads first, so it survives cuts
        groups = Counter((workload(p), p.status) for p in bad)
        top = ", ".join(f"{w} {st} x{n}" for (w, st), n in groups.most_common(20))
        extra = len(groups) - 20
        head.append(
            f"# unhealthy by workload: {top}" + (f", and {extra} more groups" if extra > 0 else "")
        )
    head.append("NAME  STATUS  READY  RESTARTS  NODE  AGE  NOTE")

    def row(p: PodRow) -> str:
        note = pod_note(p) if needs_attention(p) else ""
        line = (
            f"{p.name if namespace else p.namespace + '/' + p.name}  {p.status}  "
            f"{p.ready_text}  {p.restarts}  {p.node or '-'}  "
            f"{age(p.created, now)}"
        )
        return f"{line}  {note}" if note else line

    def item(p: PodRow) -> dict:
        return {
            "namespace": p.namespace,
            "name": p.name,
            "status": p.status,
            "ready": p.ready_text,
            "restarts": p.restarts,
            "node": p.node or None,
            "age": age(p.created, now),
            "note": pod_note(p) if needs_attention(p) else "",
            "attention": needs_attention(p),
            "line": row(p),
        }

    def ref(p: PodRow) -> str:
        return p.name if namespace else f"{p.namespace}/{p.name}"

    lines = [row(p) for p in bad]
    tail: list[str] = []
    if len(good) > 40:  # summarise the healthy majority by workload
        healthy = Counter(workload(p) for p in good)
        top = ", ".join(f"{w} x{n}" for w, n in healthy.most_common(25))
        extra = len(healthy) - 25
        tail.append(
            f"# healthy pods by workload ({len(healthy)} workloads): {top}"
            + (f", and {extra} more workloads" if extra > 0 else "")
        )
        lines += [row(p) for p in good[:20]]
        total = len(bad) + len(good)
    else:
        lines += [row(p) for p in good]
        total = len(lines)
    text, _ = fit(
        head,
        lines,
        budget,
        what="pods",
        total=total,
        hint="the rest are Running and Ready" if len(good) > 20 else "",
        tail=tail,
    )
    data = {
        "namespace": namespace,
        "total": len(pods),
        "attention": len(bad),
        "healthy": len(good),
        "unhealthy": [ref(p) for p in bad][:200],
        "pods": [ref(p) for p in bad + good][:MAX_ITEMS],
        "summary": head[0],
        "columns": head[-1],
        "items": [item(p) for p in bad + good][:MAX_ITEMS],
    }
    return text, data


# --- findings -----------------------------------------------------------------------------


def finding_quote(f: Finding) -> str:
    """A finding's line up to its evidence (without the suggestion)."""
    ev = "; ".join(e.replace("\n", " ") for e in f.evidence) or "-"
    return f"FINDING severity={f.severity} reason={f.reason} {f.kind}={f.ref} evidence: {ev}"


def finding_line(f: Finding) -> str:
    line = finding_quote(f)
    if f.suggestion:
        line += f" | suggestion: {f.suggestion}"
    return line


def render_findings(
    findings: list[Finding],
    scope: str,
    healthy_pods: int,
    total_pods: int,
    budget: int,
    *,
    counted: str = "healthy",
) -> tuple[str, dict]:
    """``counted``: what ``healthy_pods`` counts ("healthy", or "scanned" for a scan)."""
    sev = Counter(f.severity for f in findings)
    sev_text = ", ".join(f"{n} {s}" for s, n in sorted(sev.items(), key=lambda x: x[0]))
    head = [
        f"health check of {scope}: {len(findings)} findings ({sev_text or 'none'}); "
        f"{healthy_pods} of {total_pods} pods {counted}"
    ]
    data = {
        "summary": head[0],
        "findings": [
            {**f.to_dict(), "line": finding_line(f), "quote": finding_quote(f)} for f in findings
        ],
    }
    if not findings:
        return head[0] + "\nno problems found", {**data, "empty": "no problems found"}
    text, _ = fit(head, [finding_line(f) for f in findings], budget, what="findings")
    return text, data


# --- events, deployments, nodes, usage ----------------------------------------------------


def render_events(events: list[EventRow], scope: str, budget: int) -> tuple[str, dict]:
    now = _dt.datetime.now(_dt.UTC)
    evs = sorted(events, key=lambda e: (e.type != "Warning", e.last_seen), reverse=False)
    warnings = [e for e in events if e.type == "Warning"]
    evs = sorted(warnings, key=lambda e: e.last_seen, reverse=True) + sorted(
        [e for e in events if e.type != "Warning"], key=lambda e: e.last_seen, reverse=True
    )
    head = [
        f"events in {scope}: {len(events)} ({len(warnings)} Warning), warnings first, newest first"
    ]
    data: dict = {"summary": head[0], "items": []}
    if not events:
        return head[0] + "\n(no events)", {**data, "empty": "(no events)"}
    lines = []
    for e in evs:
        count = f" x{e.count}" if e.count > 1 else ""
        line = (
            f"{age(e.last_seen, now)} ago  {e.type}  {e.reason}{count}  "
            f"{e.object_kind.lower()}/{e.namespace + '/' if e.namespace else ''}{e.object_name}: "
            f"{e.message}"
        )
        lines.append(line)
        data["items"].append(
            {
                "type": e.type,
                "reason": e.reason,
                "count": e.count,
                "kind": e.object_kind,
                "namespace": e.namespace or None,
                "name": e.object_name,
                "message": e.message,
                "age": age(e.last_seen, now),
                "line": line,
            }
        )
    data["items"] = data["items"][:MAX_ITEMS]
    return fit(head, lines, budget, what="events")[0], data


def render_deployments(deps: list[DeploymentRow], scope: str, budget: int) -> tuple[str, dict]:
    now = _dt.datetime.now(_dt.UTC)
    bad = [d for d in deps if d.unavailable > 0 or d.available < d.replicas]
    good = [d for d in deps if d not in bad]
    head = [
        f"deployments in {scope}: {len(deps)} ({len(bad)} with unavailable replicas)",
        "NAME  READY  UP-TO-DATE  AVAILABLE  AGE  IMAGES  NOTE",
    ]
    lines = []
    items = []
    for d in sorted(bad, key=lambda d: (d.namespace, d.name)) + sorted(
        good, key=lambda d: (d.namespace, d.name)
    ):
        name = f"{d.namespace}/{d.name}" if scope.startswith("all") else d.name
        note = "; ".join(c for c in d.conditions if "=False" in c) if d in bad else ""
        line = (
            f"{name}  {d.ready}/{d.replicas}  {d.updated}  {d.available}  {age(d.created, now)}"
            f"  {','.join(d.images)}"
        )
        lines.append(f"{line}  {note}" if note else line)
        items.append(
            {
                "namespace": d.namespace,
                "name": d.name,
                "replicas": d.replicas,
                "ready": d.ready,
                "updated": d.updated,
                "available": d.available,
                "unavailable": d.unavailable,
                "images": list(d.images),
                "conditions": list(d.conditions),
                "note": note,
                "line": lines[-1],
            }
        )
    data = {"summary": head[0], "columns": head[1], "items": items[:MAX_ITEMS]}
    return fit(head, lines, budget, what="deployments")[0], data


def render_nodes(nodes: list[NodeRow], usage: dict[str, UsageRow], budget: int) -> tuple[str, dict]:
    now = _dt.datetime.now(_dt.UTC)
    bad = [n for n in nodes if not n.status.startswith("Ready") or n.pressure]
    head = [
        f"nodes: {len(nodes)} ({len(bad)} NotReady or under pressure)",
        "NAME  STATUS  ROLES  AGE  VERSION  CPU  MEMORY  GPU  USAGE  CONDITIONS  TAINTS",
    ]
    lines = []
    items = []
    for n in sorted(bad, key=lambda n: n.name) + sorted(
        [n for n in nodes if n not in bad], key=lambda n: n.name
    ):
        u = usage.get(n.name)
        used = f"cpu {u.cpu_millicores}m mem {fmt_bytes(u.memory_bytes)}" if u else "-"
        lines.append(
            f"{n.name}  {n.status}  {n.roles}  {age(n.created, now)}  {n.version}  "
            f"{n.cpu_capacity or '-'}  {n.memory_capacity or '-'}  {n.gpu_capacity or '0'}  "
            f"{used}  {','.join(n.pressure) or '-'}  {','.join(n.taints) or '-'}"
        )
        gpus = n.gpu_capacity or "0"
        items.append(
            {
                "name": n.name,
                "status": n.status,
                "roles": n.roles,
                "version": n.version,
                "cpu": n.cpu_capacity or None,
                "memory": n.memory_capacity or None,
                "gpu": int(gpus) if gpus.isdigit() else 0,
                "usage": used if u else None,
                "pressure": list(n.pressure),
                "taints": list(n.taints),
                "line": lines[-1],
            }
        )
    data = {"summary": head[0], "columns": head[1], "items": items[:MAX_ITEMS]}
    return fit(head, lines, budget, what="nodes")[0], data


def render_usage(
    rows: list[tuple[UsageRow, str, str, int | None]], scope: str, sort_by: str, budget: int
) -> tuple[str, dict]:
    """``rows``: (usage, cpu limit text, memory limit text, % of the memory limit used or
    None) per pod, already sorted."""
    head = [
        f"pod resource usage in {scope} (metrics.k8s.io), {len(rows)} pods, top by {sort_by}:",
        "POD  CPU  MEMORY  LIMITS",
    ]
    lines = []
    items = []
    for u, cpu_lim, mem_lim, mem_pct in rows:
        name = f"{u.namespace}/{u.name}" if scope.startswith("all") else u.name
        lines.append(
            f"{name}  {u.cpu_millicores}m  {fmt_bytes(u.memory_bytes)}  "
            f"cpu={cpu_lim or 'none'} memory={mem_lim or 'none'}"
        )
        items.append(
            {
                "namespace": u.namespace,
                "name": u.name,
                "cpu_millicores": u.cpu_millicores,
                "memory_bytes": u.memory_bytes,
                "cpu": f"{u.cpu_millicores}m",
                "memory": fmt_bytes(u.memory_bytes),
                "cpu_limit": cpu_lim or None,
                "memory_limit": mem_lim or None,
                "memory_used_pct": mem_pct,
                "line": lines[-1],
            }
        )
    data = {"summary": head[0], "columns": head[1], "items": items[:MAX_ITEMS]}
    return fit(head, lines, budget, what="pods")[0], data
