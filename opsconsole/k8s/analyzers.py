"""Deterministic findings over pods, events, deployments, nodes and services.

Pure functions over raw Kubernetes JSON and the rows of :mod:`opsconsole.k8s.models`; no I/O.
Each finding names a ``reason`` (a Kubernetes-ish word: CrashLoopBackOff, OOMKilled,
ImagePullBackOff, FailedScheduling, ReadinessProbeFailed, DeploymentUnavailable, NodeNotReady,
MemoryPressure, ServiceNoEndpoints, ...) and the ``evidence`` it rests on.

Health reasons: CrashLoopBackOff, OOMKilled, ImagePullBackOff, ErrImagePull, InvalidImageName,
CreateContainerConfigError, FailedScheduling, GPUUnschedulable, ReadinessProbeFailed,
LivenessProbeFailed, ContainerError, PodFailed, PodUnknown, FrequentRestarts,
DeploymentUnavailable, NodeNotReady, MemoryPressure, DiskPressure, PIDPressure,
NetworkUnavailable, NodeUnschedulable, ServiceNoEndpoints, ServiceNoReadyEndpoints.

Security reasons (:func:`analyze_security`): PrivilegedContainer, RunAsRoot, HostPathVolume,
HostNamespace, LatestImageTag, NoResourceLimits, SecretInEnv. Evidence for SecretInEnv names
the variable, never its value.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from typing import Any

from opsconsole.k8s.models import DeploymentRow, EventRow, PodRow, UsageRow
from opsconsole.k8s.parse import fmt_bytes, memory_bytes, parse_node
from opsconsole.redact import is_secret_key

SEVERITY_ORDER = {"critical": 0, "high": 1, "medium": 2, "low": 3, "info": 4}
GPU = "nvidia.com/gpu"
_E: dict[str, Any] = {}

Key = tuple[str, str]


@dataclass
class Finding:
    severity: str  # critical | high | medium | low | info
    kind: str  # pod | deployment | node | service
    namespace: str | None
    name: str
    reason: str
    evidence: list[str] = field(default_factory=list)
    suggestion: str = ""
    #: structured details for programs, e.g. a Service's ``selector`` ({label: value})
    facts: dict[str, Any] = field(default_factory=dict)

    @property
    def ref(self) -> str:
        return f"{self.namespace}/{self.name}" if self.namespace else self.name

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def sort_findings(findings: Iterable[Finding]) -> list[Finding]:
    return sorted(
        findings,
        key=lambda f: (SEVERITY_ORDER.get(f.severity, 9), f.kind != "node", f.ref, f.reason),
    )


def _events_for(events: dict[Key, list[EventRow]] | None, key: Key) -> list[EventRow]:
    return (events or {}).get(key, [])


def _event_msg(evs: list[EventRow], *reasons: str) -> list[str]:
    out = []
    for e in reversed(evs):  # newest first
        if e.reason in reasons:
            count = f" (x{e.count})" if e.count > 1 else ""
            text = f"event {e.reason}{count}: {e.message}"
            if text not in out:
                out.append(text)
        if len(out) >= 2:
            break
    return out


def _container_spec(pod: PodRow, name: str) -> dict[str, Any]:
    spec = (pod.raw or _E).get("spec") or _E
    for c in list(spec.get("containers") or ()) + list(spec.get("initContainers") or ()):
        if c.get("name") == name:
            return c
    return _E


def _gpu_request(raw: dict[str, Any] | None) -> int:
    total = 0
    for c in ((raw or _E).get("spec") or _E).get("containers") or ():
        res = c.get("resources") or _E
        val = (res.get("limits") or _E).get(GPU) or (res.get("requests") or _E).get(GPU)
        if val:
            try:
                total += int(val)
            except (TypeError, ValueError):
                total += 1
    return total


# --- pods ---------------------------------------------------------------------------------


def analyze_pod(
    pod: PodRow,
    events: list[EventRow] | None = None,
    usage: UsageRow | None = None,
    log_tail: dict[str, list[str]] | None = None,
) -> list[Finding]:
    """Findings for one pod. ``log_tail`` maps container name -> last (previous) log lines."""
    evs = events or []
    out: list[Finding] = []
    ns, name = pod.namespace, pod.name

    def add(
        sev: str,
        reason: str,
        evidence: list[str],
        suggestion: str,
        *,
        cause: list[str] | None = None,
        logs: list[str] | None = None,
    ) -> None:
        """``cause``: the evidence about the pod itself (not its events or logs); ``logs``:
        the last log lines quoted; both also kept as facts for programs."""
        facts: dict[str, Any] = {}
        if cause is not None:
            facts["cause"] = [e for e in cause if e]
        if logs:
            facts["last_log_lines"] = logs
        ev = [e for e in evidence if e]
        out.append(Finding(sev, "pod", ns, name, reason, ev, suggestion, facts=facts))

    def tail_of(container: str) -> list[str]:
        return [t.strip() for t in ((log_tail or {}).get(container) or [])[-3:]]

    for c in pod.containers:
        where = f"container {c.name}"
        if c.reason == "CrashLoopBackOff" or (c.restart_count and c.last_reason and not c.ready):
            if c.last_reason == "OOMKilled":
                cause = _oom_evidence(pod, c.name, usage, c.restart_count)
                tail = tail_of(c.name)
                ev = cause + (["last log lines: " + " | ".join(tail)] if tail else [])
                add("high", "OOMKilled", ev, _OOM, cause=cause, logs=tail)
                continue
            if c.reason != "CrashLoopBackOff" and c.state == "running":
                continue  # restarted before but running now: FrequentRestarts below
            cause = [
                f"{where}: status {c.reason or c.state}, restarts={c.restart_count}, last exit "
                f"code {c.last_exit_code} ({c.last_reason or 'unknown'})"
            ]
            tail = tail_of(c.name)
            ev = cause + (["last log lines: " + " | ".join(tail)] if tail else [])
            ev += _event_msg(evs, "BackOff")
            add("high", "CrashLoopBackOff", ev, _CRASH, cause=cause, logs=tail)
        elif c.state == "terminated" and c.reason == "OOMKilled":
            cause = _oom_evidence(pod, c.name, usage, c.restart_count)
            add("high", "OOMKilled", cause, _OOM, cause=cause)
        elif c.reason in ("ImagePullBackOff", "ErrImagePull", "InvalidImageName"):
            cause = [f"{where}: image {c.image}", f"{c.reason}: {c.message}" if c.message else ""]
            pulls = [e for e in evs if "pull" in e.message.lower() and "image" in e.message.lower()]
            ev = cause + _event_msg(pulls or evs, "Failed", "BackOff", "InspectFailed")
            add("high", c.reason, ev, _IMAGE, cause=cause)
        elif c.reason in (
            "CreateContainerConfigError",
            "CreateContainerError",
            "RunContainerError",
        ):
            cause = [f"{where}: {c.reason}: {c.message}"]
            ev = cause + _event_msg(evs, "Failed")
            add("high", "CreateContainerConfigError", ev, _CONFIG, cause=cause)
        elif c.state == "terminated" and c.exit_code not in (0, None) and not c.init:
            cause = [f"{where}: exit code {c.exit_code} ({c.reason or 'Error'})", c.message]
            tail = tail_of(c.name)
            ev = cause + (["last log lines: " + " | ".join(tail)] if tail else [])
            add("high", "ContainerError", ev, _CRASH, cause=cause, logs=tail)

    status = pod.status
    if pod.phase == "Pending" and not any(f.reason in _CONTAINER_REASONS for f in out):
        sched = _event_msg(evs, "FailedScheduling")
        gpus = _gpu_request(pod.raw)
        unscheduled = not pod.node
        if unscheduled:
            if gpus:
                cause = [f"requests {GPU}={gpus}"]
                add("high", "GPUUnschedulable", cause + sched, _GPU, cause=cause)
            elif sched or status == "Pending":
                cause = [] if sched else ["pod has no node yet"]
                add("high", "FailedScheduling", sched or cause, _SCHED, cause=cause)
    if status in ("Unknown", "NodeLost") or pod.phase == "Unknown":
        cause = [f"status {status} on node {pod.node or '?'}"]
        add("high", "PodUnknown", cause, _UNKNOWN, cause=cause)
    elif pod.phase == "Failed" and not out:
        raw_status = (pod.raw or _E).get("status") or _E
        cause = [f"phase Failed: {raw_status.get('reason', '')} {raw_status.get('message', '')}"]
        add("medium", "PodFailed", cause, _FAILED, cause=cause)

    if pod.phase == "Running" and not out:
        unhealthy = [e for e in evs if e.reason == "Unhealthy"]
        readiness = [e for e in unhealthy if "eadiness" in e.message]
        liveness = [e for e in unhealthy if "iveness" in e.message]
        not_ready = [c for c in pod.containers if not c.ready and not c.init]
        if not_ready and (readiness or not liveness):
            cause = [
                f"container {c.name} not ready (running={c.state == 'running'})" for c in not_ready
            ]
            ev = cause + [
                f"event Unhealthy (x{e.count}): {e.message}" if e.count > 1 else e.message
                for e in readiness[-2:]
            ]
            probe = (_container_spec(pod, not_ready[0].name).get("readinessProbe")) or None
            if probe and "httpGet" in probe:
                hg = probe["httpGet"]
                ev.append(f"readinessProbe http-get :{hg.get('port')}{hg.get('path', '/')}")
            add("medium", "ReadinessProbeFailed", ev, _READY, cause=cause)
        elif liveness:
            ev = [f"event Unhealthy (x{e.count}): {e.message}" for e in liveness[-2:]]
            add("medium", "LivenessProbeFailed", ev, _LIVE, cause=[])
        elif pod.restarts >= 5:
            c = max(pod.containers, key=lambda x: x.restart_count)
            cause = [f"container {c.name}: restarts={c.restart_count}, last {c.last_reason or '?'}"]
            add("low", "FrequentRestarts", cause, _CRASH, cause=cause)
    return out


_CONTAINER_REASONS = {
    "CrashLoopBackOff",
    "OOMKilled",
    "ImagePullBackOff",
    "ErrImagePull",
    "InvalidImageName",
    "CreateContainerConfigError",
    "ContainerError",
}
_CRASH = "read the previous container's logs (get_pod_logs) for the crash cause; fix the "
_CRASH += "config or command it fails on, then let it restart"
_OOM = "raise the memory limit or reduce the process's memory use (heap/cache settings)"
_IMAGE = "check the image name and tag exist in the registry and the pull secret is valid"
_CONFIG = "create the missing Secret/ConfigMap or fix the reference in the pod spec"
_SCHED = "free or add capacity, or lower the pod's requests / fix its node selector"
_GPU = "add GPU capacity (scale the GPU node pool) or check GPU taints/tolerations"
_UNKNOWN = "the node stopped reporting; check the node (get_nodes)"
_READY = "check the readiness endpoint and what it depends on (database, config)"
_LIVE = "check the liveness endpoint; the container is being restarted"
_FAILED = "look at the pod's events and logs"


def _oom_evidence(pod: PodRow, cname: str, usage: UsageRow | None, restarts: int) -> list[str]:
    res = _container_spec(pod, cname).get("resources") or _E
    limit = (res.get("limits") or _E).get("memory")
    ev = [f"container {cname}: last state OOMKilled (exit code 137), restarts={restarts}"]
    ev.append(f"memory limit {limit}" if limit else "no memory limit set")
    if usage is not None and usage.memory_bytes:
        used = fmt_bytes(usage.memory_bytes)
        if limit and memory_bytes(limit):
            pct = 100 * usage.memory_bytes / memory_bytes(limit)
            ev.append(f"current usage {used} ({pct:.0f}% of the limit)")
        else:
            ev.append(f"current usage {used}")
    return ev


def analyze_pods(
    pods: Iterable[PodRow],
    events: dict[Key, list[EventRow]] | None = None,
    usage: dict[Key, UsageRow] | None = None,
    logs: dict[Key, dict[str, list[str]]] | None = None,
) -> list[Finding]:
    out: list[Finding] = []
    for p in pods:
        out += analyze_pod(
            p,
            _events_for(events, p.key),
            (usage or {}).get(p.key),
            (logs or {}).get(p.key),
        )
    return out


def events_by_object(events: Iterable[EventRow], kind: str = "Pod") -> dict[Key, list[EventRow]]:
    out: dict[Key, list[EventRow]] = {}
    for e in events:
        if e.object_kind == kind:
            out.setdefault((e.namespace, e.object_name), []).append(e)
    return out


# --- deployments, nodes, services ---------------------------------------------------------


def analyze_deployments(deps: Iterable[DeploymentRow]) -> list[Finding]:
    out = []
    for d in deps:
        if d.replicas > 0 and (d.unavailable > 0 or d.available < d.replicas):
            sev = "high" if d.available == 0 else "medium"
            ev = [
                f"ready {d.ready}/{d.replicas}, available {d.available}, unavailable "
                f"{d.unavailable}"
            ]
            ev += [c for c in d.conditions if "=False" in c]
            out.append(
                Finding(
                    sev,
                    "deployment",
                    d.namespace,
                    d.name,
                    "DeploymentUnavailable",
                    ev,
                    _DEPLOY,
                )
            )
    return out


def analyze_nodes(nodes: Iterable[dict[str, Any]]) -> list[Finding]:
    out = []
    for raw in nodes:
        row = parse_node(raw)
        conds = {c.get("type"): c for c in (raw.get("status") or _E).get("conditions") or ()}
        ready = conds.get("Ready") or _E
        if not row.status.startswith("Ready"):
            ev = [
                f"Ready={ready.get('status', 'Unknown')}: {ready.get('reason', '')} "
                f"{ready.get('message', '')}".strip()
            ]
            out.append(Finding("critical", "node", None, row.name, "NodeNotReady", ev, _NODE))
        for p in row.pressure:
            c = conds.get(p) or _E
            ev = [f"{p}=True: {c.get('reason', '')} {c.get('message', '')}".strip()]
            ev += [f"taint {t}" for t in row.taints if "pressure" in t]
            out.append(Finding("high", "node", None, row.name, p, ev, _PRESSURE))
        if "SchedulingDisabled" in row.status:
            out.append(
                Finding("info", "node", None, row.name, "NodeUnschedulable", ["cordoned"], "")
            )
    return out


_NODE = "check the kubelet and the machine; pods on it will be evicted"
_PRESSURE = "free resources on the node or move workloads; the kubelet may evict pods"
_DEPLOY = "look at its unhealthy pods (find_unhealthy_pods / describe_pod)"
_SELECTOR = "fix the Service selector or the pod labels so they match"
_NOT_READY = "the pods behind it are not ready; look at them"


def _selector_matches(selector: dict[str, str], labels: dict[str, str]) -> bool:
    return all(labels.get(k) == v for k, v in selector.items())


def analyze_services(
    services: Iterable[dict[str, Any]],
    endpoints: Iterable[dict[str, Any]],
    pods: Iterable[PodRow],
) -> list[Finding]:
    eps: dict[Key, int] = {}
    for ep in endpoints:
        meta = ep.get("metadata") or _E
        ready = sum(len(s.get("addresses") or ()) for s in ep.get("subsets") or ())
        eps[(meta.get("namespace", ""), meta.get("name", ""))] = ready
    by_ns: dict[str, list[PodRow]] = {}
    for p in pods:
        by_ns.setdefault(p.namespace, []).append(p)
    out = []
    for svc in services:
        meta = svc.get("metadata") or _E
        spec = svc.get("spec") or _E
        sel = spec.get("selector") or {}
        if not sel or spec.get("type") == "ExternalName":
            continue
        ns, name = meta.get("namespace", ""), meta.get("name", "")
        matching = [p for p in by_ns.get(ns, []) if _selector_matches(sel, p.labels)]
        sel_text = ",".join(f"{k}={v}" for k, v in sel.items())
        ready_eps = eps.get((ns, name), 0)
        if not matching:
            ev = [f"selector {sel_text} matches no pod in {ns}", f"endpoints: {ready_eps} ready"]
            sugg = _SELECTOR
            out.append(
                Finding(
                    "medium",
                    "service",
                    ns,
                    name,
                    "ServiceNoEndpoints",
                    ev,
                    sugg,
                    facts={"selector": dict(sel)},
                )
            )
        elif ready_eps == 0 and not any(p.healthy for p in matching):
            ev = [f"selector {sel_text} matches {len(matching)} pod(s), none ready"]
            sugg = _NOT_READY
            out.append(
                Finding(
                    "medium",
                    "service",
                    ns,
                    name,
                    "ServiceNoReadyEndpoints",
                    ev,
                    sugg,
                    facts={"selector": dict(sel)},
                )
            )
    return out


# --- security -----------------------------------------------------------------------------

_PRIVILEGED = "drop privileged; grant only the capabilities it needs"
_ROOT = "run as a non-root user (runAsNonRoot: true, runAsUser > 0)"
_LATEST = "pin the image to a version tag or a digest"
_LIMITS = "set cpu and memory limits"
_SECRET_ENV = "move it to a Secret and use valueFrom.secretKeyRef"
_HOSTPATH = "avoid hostPath; use a PVC, configMap or emptyDir"
_HOST_NS = "do not share the host's namespaces"


def analyze_security(pods: Iterable[PodRow]) -> list[Finding]:
    """Pod-security findings from the raw pod spec (``PodRow.raw`` must be set)."""
    out: list[Finding] = []
    for p in pods:
        spec = (p.raw or _E).get("spec") or _E
        if not spec:
            continue
        psc = spec.get("securityContext") or _E

        def add(sev: str, reason: str, ev: list[str], sugg: str, _p: PodRow = p) -> None:
            out.append(Finding(sev, "pod", _p.namespace, _p.name, reason, ev, sugg))

        for c in spec.get("containers") or ():
            cname = c.get("name", "")
            sc = c.get("securityContext") or _E
            if sc.get("privileged"):
                add(
                    "high",
                    "PrivilegedContainer",
                    [f"container {cname}: privileged=true"],
                    _PRIVILEGED,
                )
            uid = sc.get("runAsUser", psc.get("runAsUser"))
            if uid == 0:
                add(
                    "medium",
                    "RunAsRoot",
                    [f"container {cname}: runAsUser=0"],
                    _ROOT,
                )
            image = c.get("image", "")
            last = image.rsplit("/", 1)[-1]
            if "@sha256:" not in image and (":" not in last or last.endswith(":latest")):
                add(
                    "low",
                    "LatestImageTag",
                    [f"container {cname}: image {image}"],
                    _LATEST,
                )
            limits = (c.get("resources") or _E).get("limits") or _E
            if not limits:
                add(
                    "low",
                    "NoResourceLimits",
                    [f"container {cname}: no resources.limits"],
                    _LIMITS,
                )
            for env in c.get("env") or ():
                ename = env.get("name", "")
                if "value" in env and env.get("value") and is_secret_key(ename):
                    add(
                        "high",
                        "SecretInEnv",
                        [f"container {cname}: env var {ename} holds a literal value"],
                        _SECRET_ENV,
                    )
        for v in spec.get("volumes") or ():
            if "hostPath" in v:
                path = (v.get("hostPath") or _E).get("path", "")
                add(
                    "high",
                    "HostPathVolume",
                    [f"volume {v.get('name')}: hostPath {path}"],
                    _HOSTPATH,
                )
        ns_flags = [k for k in ("hostNetwork", "hostPID", "hostIPC") if spec.get(k)]
        if ns_flags:
            add(
                "medium",
                "HostNamespace",
                [", ".join(f"{k}=true" for k in ns_flags)],
                _HOST_NS,
            )
    return out


# --- Chinese text of the suggestions --------------------------------------------------------

#: every suggestion above in Chinese, for answers given in Chinese (the offline planner)
SUGGESTIONS_ZH: dict[str, str] = {
    _CRASH: "查看上一个容器的日志（get_pod_logs previous）找出崩溃原因；"
    "修正它出错的配置或启动命令，然后让它重启",
    _OOM: "调高内存 limit，或降低进程的内存占用（堆/缓存设置）",
    _IMAGE: "确认镜像名与 tag 在镜像仓库中存在，且拉取凭据（pull secret）有效",
    _CONFIG: "创建缺失的 Secret/ConfigMap，或修正 Pod 规格里的引用",
    _SCHED: "释放或增加集群容量，或降低 Pod 的 requests / 修正它的节点选择器",
    _GPU: "增加 GPU 容量（扩容 GPU 节点池），或检查 GPU 污点与容忍",
    _UNKNOWN: "节点停止上报状态；检查该节点（get_nodes）",
    _READY: "检查就绪检查接口及其依赖（数据库、配置）",
    _LIVE: "检查存活检查接口；容器正被反复重启",
    _FAILED: "查看该 Pod 的事件和日志",
    _NODE: "检查 kubelet 与该机器；其上的 Pod 会被驱逐",
    _PRESSURE: "释放节点资源或迁走工作负载；kubelet 可能会驱逐 Pod",
    _DEPLOY: "查看它不健康的 Pod（find_unhealthy_pods / describe_pod）",
    _SELECTOR: "修正 Service 的 selector 或 Pod 的标签，使两者一致",
    _NOT_READY: "它后面的 Pod 都未就绪；先查看这些 Pod",
    _PRIVILEGED: "去掉 privileged，只授予需要的 capabilities",
    _ROOT: "以非 root 用户运行（runAsNonRoot: true，runAsUser > 0）",
    _LATEST: "把镜像固定到版本 tag 或 digest",
    _LIMITS: "设置 cpu 与 memory 的 limits",
    _SECRET_ENV: "把它移到 Secret 中，用 valueFrom.secretKeyRef 引用",
    _HOSTPATH: "避免 hostPath；改用 PVC、configMap 或 emptyDir",
    _HOST_NS: "不要共享宿主机的命名空间（hostNetwork/hostPID/hostIPC）",
}


def suggestion_text(suggestion: str, language: str) -> str:
    """An analyzer's suggestion in ``language`` ("zh" or "en"); "" when there is no Chinese
    text for it (an answer in Chinese then leaves it out rather than mixing in English)."""
    text = suggestion.strip()
    if language != "zh" or not text:
        return text
    return SUGGESTIONS_ZH.get(text, "")
