"""Raw Kubernetes JSON (dicts) -> the light rows of :mod:`opsconsole.k8s.models`.

``pod_status`` reproduces kubectl's STATUS column (``printPod`` in kubectl's printers):
init-container states as ``Init:<reason>`` / ``Init:N/M``, the last non-empty waiting or
terminated reason of the app containers (CrashLoopBackOff, ImagePullBackOff, OOMKilled, Error,
Completed, ContainerCreating ...), ``ExitCode:N`` / ``Signal:N``, ``NotReady`` when a completed
container sits beside a running one, ``Terminating`` and ``Unknown`` (NodeLost) for deleted pods.
These functions are hot (5,000 pods per list): plain dict access, no helper objects.
"""

from __future__ import annotations

from typing import Any

import msgspec

from opsconsole.k8s.models import (
    ContainerRow,
    DeploymentRow,
    EventRow,
    NodeRow,
    PodRow,
    UsageRow,
)

_EMPTY: dict[str, Any] = {}


def _container_row(cs: dict[str, Any], image: str, init: bool = False) -> ContainerRow:
    state = cs.get("state") or _EMPTY
    last = (cs.get("lastState") or _EMPTY).get("terminated") or _EMPTY
    if "running" in state:
        st, reason, message, code = "running", "", "", None
    elif "terminated" in state:
        t = state["terminated"] or _EMPTY
        st, reason, message, code = "terminated", t.get("reason", ""), t.get("message", ""), None
        code = t.get("exitCode")
    else:
        w = state.get("waiting") or _EMPTY
        st, reason, message, code = "waiting", w.get("reason", ""), w.get("message", ""), None
    return ContainerRow(
        name=cs.get("name", ""),
        image=cs.get("image") or image,
        ready=bool(cs.get("ready")),
        restart_count=int(cs.get("restartCount") or 0),
        state=st,
        reason=reason or "",
        message=message or "",
        exit_code=code,
        last_reason=last.get("reason", "") or "",
        last_exit_code=last.get("exitCode"),
        init=init,
    )


def pod_status(pod: dict[str, Any]) -> tuple[str, int, int, int]:
    """kubectl's (STATUS, ready, total, restarts) for a raw pod."""
    meta = pod.get("metadata") or _EMPTY
    spec = pod.get("spec") or _EMPTY
    status = pod.get("status") or _EMPTY
    containers = spec.get("containers") or ()
    init_specs = spec.get("initContainers") or ()
    total = len(containers) + sum(
        1 for c in init_specs if c.get("restartPolicy") == "Always"
    )  # sidecars count
    reason = status.get("reason") or status.get("phase") or "Unknown"
    restarts = 0
    ready = 0
    initializing = False
    for i, cs in enumerate(status.get("initContainerStatuses") or ()):
        restarts += int(cs.get("restartCount") or 0)
        state = cs.get("state") or _EMPTY
        term = state.get("terminated")
        waiting = state.get("waiting")
        if term is not None and term.get("exitCode") == 0:
            continue
        if term is not None:
            if term.get("reason"):
                reason = "Init:" + term["reason"]
            elif term.get("signal"):
                reason = f"Init:Signal:{term['signal']}"
            else:
                reason = f"Init:ExitCode:{term.get('exitCode')}"
        elif waiting and waiting.get("reason") and waiting["reason"] != "PodInitializing":
            reason = "Init:" + waiting["reason"]
        else:
            reason = f"Init:{i}/{len(init_specs)}"
        initializing = True
        break
    if not initializing or _initialized(status):
        restarts = 0
        has_running = False
        for cs in reversed(status.get("containerStatuses") or ()):
            restarts += int(cs.get("restartCount") or 0)
            state = cs.get("state") or _EMPTY
            waiting = state.get("waiting")
            term = state.get("terminated")
            if waiting is not None and waiting.get("reason"):
                reason = waiting["reason"]
            elif term is not None and term.get("reason"):
                reason = term["reason"]
            elif term is not None:
                reason = (
                    f"Signal:{term['signal']}"
                    if term.get("signal")
                    else f"ExitCode:{term.get('exitCode')}"
                )
            elif cs.get("ready") and "running" in state:
                has_running = True
                ready += 1
        if reason == "Completed" and has_running:
            reason = "Running" if _pod_ready(status) else "NotReady"
    if meta.get("deletionTimestamp"):
        reason = "Unknown" if status.get("reason") == "NodeLost" else "Terminating"
    elif status.get("reason") == "NodeLost":
        reason = "Unknown"
    return reason, ready, total, restarts


def _initialized(status: dict[str, Any]) -> bool:
    for c in status.get("conditions") or ():
        if c.get("type") == "Initialized":
            return c.get("status") == "True"
    return False


def _pod_ready(status: dict[str, Any]) -> bool:
    for c in status.get("conditions") or ():
        if c.get("type") == "Ready":
            return c.get("status") == "True"
    return False


def parse_pod(pod: dict[str, Any], *, keep_raw: bool = False) -> PodRow:
    meta = pod.get("metadata") or _EMPTY
    spec = pod.get("spec") or _EMPTY
    status = pod.get("status") or _EMPTY
    text, ready, total, restarts = pod_status(pod)
    containers = spec.get("containers") or ()
    rows = []
    init_statuses = status.get("initContainerStatuses")
    if init_statuses:
        init_images = {c.get("name"): c.get("image", "") for c in spec.get("initContainers") or ()}
        rows = [
            _container_row(cs, init_images.get(cs.get("name"), ""), True) for cs in init_statuses
        ]
    statuses = status.get("containerStatuses") or ()
    for cs in statuses:  # statuses carry the image; the spec only fills in what is missing
        rows.append(_container_row(cs, ""))
    if len(statuses) < len(containers):
        seen = {cs.get("name") for cs in statuses}
        for c in containers:
            if c.get("name") not in seen:
                rows.append(ContainerRow(name=c.get("name") or "", image=c.get("image", "")))
    owners = meta.get("ownerReferences") or ()
    owner = owners[0] if owners else _EMPTY
    return PodRow(
        namespace=meta.get("namespace", ""),
        name=meta.get("name", ""),
        uid=meta.get("uid", ""),
        phase=status.get("phase", "Unknown"),
        status=text,
        ready=ready,
        total=total,
        restarts=restarts,
        node=spec.get("nodeName", "") or "",
        pod_ip=status.get("podIP", "") or "",
        created=meta.get("creationTimestamp", "") or "",
        labels=meta.get("labels") or {},
        owner_kind=owner.get("kind", ""),
        owner_name=owner.get("name", ""),
        containers=rows,
        resource_version=meta.get("resourceVersion", "") or "",
        deleting=bool(meta.get("deletionTimestamp")),
        packed=msgspec.json.encode(pod) if keep_raw else None,
    )


def parse_event(ev: dict[str, Any]) -> EventRow:
    meta = ev.get("metadata") or _EMPTY
    obj = ev.get("involvedObject") or ev.get("regarding") or _EMPTY
    src = ev.get("source") or _EMPTY
    first = ev.get("firstTimestamp") or ev.get("eventTime") or meta.get("creationTimestamp") or ""
    last = ev.get("lastTimestamp") or ev.get("eventTime") or first
    series = ev.get("series") or _EMPTY
    return EventRow(
        namespace=meta.get("namespace", "") or obj.get("namespace", ""),
        type=ev.get("type", "Normal") or "Normal",
        reason=ev.get("reason", "") or "",
        message=(ev.get("message") or ev.get("note") or "").strip(),
        object_kind=obj.get("kind", ""),
        object_name=obj.get("name", ""),
        count=int(ev.get("count") or series.get("count") or 1),
        first_seen=first,
        last_seen=last,
        source=src.get("component", "") or ev.get("reportingComponent", "") or "",
    )


def parse_node(node: dict[str, Any]) -> NodeRow:
    meta = node.get("metadata") or _EMPTY
    spec = node.get("spec") or _EMPTY
    status = node.get("status") or _EMPTY
    labels = meta.get("labels") or {}
    ready = "Unknown"
    pressure: list[str] = []
    for c in status.get("conditions") or ():
        ctype, cstat = c.get("type"), c.get("status")
        if ctype == "Ready":
            ready = "Ready" if cstat == "True" else ("NotReady" if cstat == "False" else "Unknown")
        elif cstat == "True" and ctype:
            pressure.append(ctype)  # MemoryPressure, DiskPressure, PIDPressure, NetworkUnavailable
    if spec.get("unschedulable"):
        ready += ",SchedulingDisabled"
    roles = sorted(
        k.split("/", 1)[1]
        for k in labels
        if k.startswith("node-role.kubernetes.io/") and "/" in k and k.split("/", 1)[1]
    )
    cap = status.get("capacity") or _EMPTY
    taints = []
    for t in spec.get("taints") or ():
        val = f"={t['value']}" if t.get("value") else ""
        taints.append(f"{t.get('key', '')}{val}:{t.get('effect', '')}")
    return NodeRow(
        name=meta.get("name", ""),
        status=ready,
        roles=",".join(roles) or "<none>",
        version=(status.get("nodeInfo") or _EMPTY).get("kubeletVersion", ""),
        created=meta.get("creationTimestamp", "") or "",
        cpu_capacity=str(cap.get("cpu", "")),
        memory_capacity=str(cap.get("memory", "")),
        gpu_capacity=str(cap.get("nvidia.com/gpu", "")),
        pressure=pressure,
        taints=taints,
        labels=labels,
    )


def parse_deployment(dep: dict[str, Any]) -> DeploymentRow:
    meta = dep.get("metadata") or _EMPTY
    spec = dep.get("spec") or _EMPTY
    status = dep.get("status") or _EMPTY
    replicas = spec.get("replicas")
    replicas = 1 if replicas is None else int(replicas)
    tmpl = (spec.get("template") or _EMPTY).get("spec") or _EMPTY
    conds = []
    for c in status.get("conditions") or ():
        text = f"{c.get('type')}={c.get('status')}"
        if c.get("reason"):
            text += f" ({c['reason']})"
        conds.append(text)
    available = int(status.get("availableReplicas") or 0)
    unavailable = status.get("unavailableReplicas")
    if unavailable is None:
        unavailable = max(0, replicas - available)
    return DeploymentRow(
        namespace=meta.get("namespace", ""),
        name=meta.get("name", ""),
        replicas=replicas,
        ready=int(status.get("readyReplicas") or 0),
        updated=int(status.get("updatedReplicas") or 0),
        available=available,
        unavailable=int(unavailable),
        created=meta.get("creationTimestamp", "") or "",
        selector=dict((spec.get("selector") or _EMPTY).get("matchLabels") or {}),
        images=[c.get("image", "") for c in tmpl.get("containers") or ()],
        conditions=conds,
    )


# --- quantities -----------------------------------------------------------------------

_BIN = {"Ki": 2**10, "Mi": 2**20, "Gi": 2**30, "Ti": 2**40, "Pi": 2**50, "Ei": 2**60}
_DEC = {"n": 1e-9, "u": 1e-6, "m": 1e-3, "": 1, "k": 1e3, "M": 1e6, "G": 1e9, "T": 1e12}


def parse_quantity(q: str | int | float | None) -> float:
    """A Kubernetes quantity (``250m``, ``512Mi``, ``1.5Gi``, ``2``) as a float of base units."""
    if q is None or q == "":
        return 0.0
    if isinstance(q, int | float):
        return float(q)
    s = str(q).strip()
    for suf, mult in _BIN.items():
        if s.endswith(suf):
            return float(s[: -len(suf)]) * mult
    if s[-1:] in _DEC and s[-1:] != "":
        try:
            return float(s[:-1]) * _DEC[s[-1]]
        except ValueError:
            return 0.0
    try:
        return float(s)
    except ValueError:
        return 0.0


def cpu_millicores(q: str | int | float | None) -> int:
    return int(round(parse_quantity(q) * 1000))


def memory_bytes(q: str | int | float | None) -> int:
    return int(parse_quantity(q))


def fmt_bytes(n: float) -> str:
    for unit, mult in (("Gi", 2**30), ("Mi", 2**20), ("Ki", 2**10)):
        if n >= mult:
            v = n / mult
            return f"{v:.1f}{unit}" if v < 10 and v != int(v) else f"{int(round(v))}{unit}"
    return f"{int(n)}B"


def parse_usage(item: dict[str, Any], *, pod: bool) -> UsageRow:
    meta = item.get("metadata") or _EMPTY
    if pod:
        cpu = sum(
            cpu_millicores((c.get("usage") or _EMPTY).get("cpu"))
            for c in item.get("containers") or ()
        )
        mem = sum(
            memory_bytes((c.get("usage") or _EMPTY).get("memory"))
            for c in item.get("containers") or ()
        )
    else:
        usage = item.get("usage") or _EMPTY
        cpu, mem = cpu_millicores(usage.get("cpu")), memory_bytes(usage.get("memory"))
    return UsageRow(
        name=meta.get("name", ""),
        namespace=meta.get("namespace") if pod else None,
        cpu_millicores=cpu,
        memory_bytes=mem,
    )
