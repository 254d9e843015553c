"""Reading observations for the offline planner: the text the tools returned.

Pure functions over the OpenAI-format transcript: which tool calls were made after the latest
user message and what they returned, the names (namespaces, pods, deployments, nodes) seen in
any observation, the analyzers' ``FINDING`` lines, and the lines worth quoting as evidence.
Root causes are recognised by keyword into a small set of categories.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any

from opsconsole.agent.offline_intents import Known

_NAME = r"[a-z0-9](?:[a-z0-9.-]{0,251}[a-z0-9])?"


@dataclass(frozen=True)
class Observation:
    call_id: str
    name: str
    args: dict[str, Any]
    content: str


@dataclass(frozen=True)
class Finding:
    severity: str
    reason: str
    kind: str  # pod | node | deployment | service | ...
    namespace: str | None
    name: str
    evidence: str
    line: str
    fields: dict[str, str] = field(default_factory=dict)
    suggestion: str = ""

    @property
    def ref(self) -> str:
        return f"{self.namespace}/{self.name}" if self.namespace else self.name


@dataclass
class Transcript:
    task: str
    #: observations after the latest user message, in call order
    current: list[Observation]
    #: observations from earlier turns of the conversation
    earlier: list[Observation]
    #: assistant messages after the latest user message (= steps already taken)
    steps: int
    #: tool calls made anywhere in the conversation (for unique call ids)
    total_calls: int
    #: the default namespace the system prompt names, if any
    default_namespace: str | None = None

    @property
    def all(self) -> list[Observation]:
        return self.earlier + self.current


def content_text(content: Any) -> str:
    """Message content as text (strings, or a list of ``{"type": "text"}`` parts)."""
    if content is None:
        return ""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        parts = []
        for part in content:
            if isinstance(part, dict):
                parts.append(str(part.get("text", "")))
            else:
                parts.append(str(part))
        return "\n".join(parts)
    return str(content)


def read_transcript(messages: list[dict[str, Any]]) -> Transcript:
    last_user = -1
    for i, msg in enumerate(messages):
        if msg.get("role") == "user":
            last_user = i
    results: dict[str, str] = {}
    for msg in messages:
        if msg.get("role") == "tool" and msg.get("tool_call_id"):
            results[str(msg["tool_call_id"])] = content_text(msg.get("content"))
    current: list[Observation] = []
    earlier: list[Observation] = []
    steps = 0
    total = 0
    for i, msg in enumerate(messages):
        if msg.get("role") != "assistant":
            continue
        if i > last_user:
            steps += 1
        for call in msg.get("tool_calls") or []:
            total += 1
            fn = call.get("function") or {}
            try:
                args = json.loads(fn.get("arguments") or "{}")
            except (TypeError, ValueError):
                args = {}
            if not isinstance(args, dict):
                args = {}
            obs = Observation(
                call_id=str(call.get("id", "")),
                name=str(fn.get("name", "")),
                args=args,
                content=results.get(str(call.get("id", "")), ""),
            )
            (current if i > last_user else earlier).append(obs)
    task = content_text(messages[last_user].get("content")) if last_user >= 0 else ""
    default_ns = None
    for msg in messages:
        if msg.get("role") == "system":
            m = _DEFAULT_NS_RE.search(content_text(msg.get("content")))
            if m:
                default_ns = m.group(1)
    return Transcript(
        task=task,
        current=current,
        earlier=earlier,
        steps=steps,
        total_calls=total,
        default_namespace=default_ns,
    )


_DEFAULT_NS_RE = re.compile(rf"(?:default namespace|默认命名空间)\s*[:：]\s*({_NAME})")


# --- findings ------------------------------------------------------------------------------

_FINDING_RE = re.compile(r"FINDING\b(?P<body>.*)$")
_KV_RE = re.compile(r"(\w[\w.-]*)=(\"[^\"]*\"|\S+)")


def parse_findings(text: str) -> list[Finding]:
    """``FINDING severity=... reason=... pod=ns/name evidence: ...`` lines in a tool output."""
    out: list[Finding] = []
    for raw in text.splitlines():
        line = raw.strip()
        m = _FINDING_RE.search(line)
        if not m:
            continue
        body = m.group("body")
        evidence = suggestion = ""
        if "evidence:" in body:
            body, evidence = body.split("evidence:", 1)
        if "| suggestion:" in evidence:
            evidence, suggestion = evidence.split("| suggestion:", 1)
        fields = {k.lower(): v.strip('"') for k, v in _KV_RE.findall(body)}
        kind, ns, name = "pod", None, ""
        for key in ("pod", "deployment", "node", "service", "svc", "object", "target", "resource"):
            if key in fields:
                ref = fields[key]
                kind = {"svc": "service"}.get(key, key)
                if "/" in ref:
                    parts = ref.split("/")
                    if len(parts) == 3:  # kind/ns/name or ns/kind/name
                        kind, ns, name = parts[0].lower(), parts[1], parts[2]
                    else:
                        ns, name = parts[-2], parts[-1]
                else:
                    name = ref
                break
        ns = fields.get("namespace", fields.get("ns", ns))
        out.append(
            Finding(
                severity=fields.get("severity", ""),
                reason=fields.get("reason", ""),
                kind=kind,
                namespace=ns,
                name=name,
                evidence=evidence.strip(),
                line=line,
                fields=fields,
                suggestion=suggestion.strip(),
            )
        )
    return out


def all_findings(observations: list[Observation]) -> list[Finding]:
    seen: set[str] = set()
    out: list[Finding] = []
    for obs in observations:
        for f in parse_findings(obs.content):
            if f.line not in seen:
                seen.add(f.line)
                out.append(f)
    return out


# --- names ---------------------------------------------------------------------------------

_HEADER_WORDS = frozenset(
    "name namespace ns pod pods status ready restarts age node nodes deployment deployments "
    "total showing omitted finding findings warning normal type reason message events".split()
)
_ROW_RE = re.compile(rf"^\s*(?:[-*•]\s*)?(?:({_NAME})/)?({_NAME})(?=\s|:|$)")
_NS_HEADER_RE = re.compile(rf"(?:namespace|ns)[\s=:]+[\"']?({_NAME})", re.I)


def _namespace_of(obs: Observation) -> str | None:
    ns = obs.args.get("namespace")
    return str(ns) if isinstance(ns, str) and ns and ns not in ("all", "*") else None


def row_names(text: str) -> list[tuple[str | None, str]]:
    """(namespace or None, name) for lines that start with a resource name, as tables do."""
    out: list[tuple[str | None, str]] = []
    for line in text.splitlines():
        if not line.strip() or line.lstrip().startswith(("FINDING", "#", "[", "...")):
            continue
        m = _ROW_RE.match(line)
        if not m:
            continue
        ns, name = m.group(1), m.group(2)
        if name in _HEADER_WORDS or name.isdigit() or len(name) < 2:
            continue
        out.append((ns, name))
    return out


def known_names(observations: list[Observation]) -> Known:
    namespaces: set[str] = set()
    pods: set[tuple[str, str]] = set()
    deployments: set[tuple[str, str]] = set()
    nodes: set[str] = set()
    for obs in observations:
        ns = _namespace_of(obs)
        if ns:
            namespaces.add(ns)
        if obs.content.lstrip().lower().startswith(("error", "tool error", '{"error"')):
            continue
        rows = row_names(obs.content)
        if obs.name in ("get_k8s_pods", "find_unhealthy_pods"):
            for rns, name in rows:
                if rns or ns:
                    pods.add((rns or ns or "", name))
                    namespaces.add(rns or ns or "")
        elif obs.name == "get_deployments":
            for rns, name in rows:
                if rns or ns:
                    deployments.add((rns or ns or "", name))
                    namespaces.add(rns or ns or "")
        elif obs.name == "get_nodes":
            for _rns, name in rows:
                nodes.add(name)
        elif obs.name in ("describe_pod", "get_pod_logs") and ns and obs.args.get("pod_name"):
            pods.add((ns, str(obs.args["pod_name"])))
        for f in parse_findings(obs.content):
            if f.kind == "pod" and f.namespace:
                pods.add((f.namespace, f.name))
            elif f.kind == "deployment" and f.namespace:
                deployments.add((f.namespace, f.name))
            elif f.kind == "node":
                nodes.add(f.name)
            if f.namespace:
                namespaces.add(f.namespace)
    namespaces.discard("")
    return Known(
        namespaces=frozenset(namespaces),
        pods=frozenset(pods),
        deployments=frozenset(deployments),
        nodes=frozenset(nodes),
    )


def match_pods(target: str, known: Known, namespace: str | None = None) -> list[tuple[str, str]]:
    """Pods whose name is ``target``, or starts with ``target-``, or contains it; best first."""
    pods = sorted(p for p in known.pods if namespace is None or p[0] == namespace)
    exact = [p for p in pods if p[1] == target]
    if exact:
        return exact
    prefix = [p for p in pods if p[1].startswith(target + "-")]
    if prefix:
        return prefix
    return [p for p in pods if target in p[1]]


# --- categories and evidence -------------------------------------------------------------


@dataclass(frozen=True)
class Cause:
    key: str
    zh: str
    en: str
    patterns: tuple[str, ...]
    next_zh: tuple[str, ...]
    next_en: tuple[str, ...]


CAUSES: tuple[Cause, ...] = (
    Cause(
        "oom",
        "容器内存超限被杀（OOMKilled）",
        "the container was killed for exceeding its memory limit (OOMKilled)",
        (
            "oomkilled",
            "oom-killed",
            "out of memory",
            "exit code 137",
            "exitcode=137",
            "exit_code=137",
            "memory limit",
        ),
        (
            "对比容器内存 limit 与实际用量（get_resource_usage），"
            "适当调大 `resources.limits.memory`，"
            "或排查内存泄漏/降低批处理大小",
            "修改后执行 `kubectl rollout restart deployment/<名称> -n <命名空间>`（需人工确认）",
        ),
        (
            "Compare the container's memory limit with its real usage (get_resource_usage) "
            "and raise "
            "`resources.limits.memory`, or fix the leak / lower the batch size",
            "Then `kubectl rollout restart deployment/<name> -n <namespace>` (needs your approval)",
        ),
    ),
    Cause(
        "image",
        "镜像拉取失败（ImagePullBackOff / ErrImagePull，镜像名或 tag 不存在或无权限）",
        "the image cannot be pulled (ImagePullBackOff / ErrImagePull: wrong name or tag, or no "
        "access)",
        (
            "imagepullbackoff",
            "errimagepull",
            "invalidimagename",
            "manifest unknown",
            "failed to pull image",
            "pull access denied",
            "image not found",
        ),
        (
            "确认镜像名与 tag 确实存在于镜像仓库，修正 Deployment 里的 `image:`",
            "私有仓库需检查 `imagePullSecrets`",
        ),
        (
            "Check that the image name and tag exist in the registry and fix `image:` in the "
            "Deployment",
            "For a private registry check `imagePullSecrets`",
        ),
    ),
    Cause(
        "gpu",
        "GPU 资源不足或没有可调度的 GPU 节点（nvidia.com/gpu）",
        "no schedulable node has the requested GPUs (nvidia.com/gpu)",
        ("insufficient nvidia.com/gpu", "nvidia.com/gpu"),
        (
            "检查 GPU 节点池的容量、污点（taints）与 Pod 的 tolerations / nodeSelector",
            "降低 `nvidia.com/gpu` 请求数，或扩容 GPU 节点",
        ),
        (
            "Check the GPU node pool's capacity and taints against the pod's tolerations and "
            "nodeSelector",
            "Lower the `nvidia.com/gpu` request or add GPU nodes",
        ),
    ),
    Cause(
        "unschedulable",
        "Pod 无法调度（FailedScheduling：节点资源不足）",
        "the pod cannot be scheduled (FailedScheduling: not enough resources on any node)",
        (
            "failedscheduling",
            "insufficient cpu",
            "insufficient memory",
            "unschedulable",
            "nodes are available",
            "didn't match",
            "didn't have free",
        ),
        (
            "降低 Pod 的 `resources.requests`（cpu/memory）或为集群扩容节点",
            "检查节点的污点与 Pod 的 nodeSelector/affinity 是否匹配",
        ),
        (
            "Lower the pod's `resources.requests` (cpu/memory) or add capacity to the cluster",
            "Check node taints against the pod's nodeSelector/affinity",
        ),
    ),
    Cause(
        "crashloop",
        "容器启动后反复崩溃（CrashLoopBackOff），多为配置错误导致进程退出",
        "the container keeps crashing after start (CrashLoopBackOff), typically a bad "
        "configuration that makes the process exit",
        ("crashloopbackoff", "back-off restarting", "backoff restarting", "crashloop"),
        (
            "根据 previous 日志里的报错修正配置（ConfigMap / 环境变量 / 启动参数）",
            "修正后执行 `kubectl rollout restart deployment/<名称> -n <命名空间>`（需人工确认）",
        ),
        (
            "Fix the configuration the previous logs complain about (ConfigMap / env / args)",
            "Then `kubectl rollout restart deployment/<name> -n <namespace>` (needs your approval)",
        ),
    ),
    Cause(
        "config",
        "容器配置错误（CreateContainerConfigError：引用的 ConfigMap/Secret 或键不存在）",
        "the container's configuration is invalid (CreateContainerConfigError: a referenced "
        "ConfigMap/Secret or key is missing)",
        ("createcontainerconfigerror", "configmap", 'secret "', "couldn't find key"),
        ("创建缺失的 ConfigMap/Secret 或修正引用的键名",),
        ("Create the missing ConfigMap/Secret or fix the referenced key",),
    ),
    Cause(
        "readiness",
        "就绪探针失败（Readiness probe failed），Pod 运行但不接收流量",
        "the readiness probe fails, so the pod runs but receives no traffic",
        ("readiness probe failed", "readiness", "notready", "not ready", "probe failed"),
        (
            "核对 readinessProbe 的 path/port 与应用实际监听的地址，或应用依赖是否可用",
            "必要时调大 `initialDelaySeconds` / `timeoutSeconds`",
        ),
        (
            "Check the readinessProbe path/port against what the app really serves, and the app's "
            "dependencies",
            "If the app is slow to start, raise `initialDelaySeconds` / `timeoutSeconds`",
        ),
    ),
    Cause(
        "liveness",
        "存活探针失败（Liveness probe failed），kubelet 反复重启容器",
        "the liveness probe fails, so the kubelet keeps restarting the container",
        ("liveness probe failed", "liveness"),
        ("核对 livenessProbe 配置与应用健康检查接口",),
        ("Check the livenessProbe against the app's health endpoint",),
    ),
    Cause(
        "endpoints",
        "Service 没有任何 Endpoint（selector 匹配不到就绪的 Pod）",
        "the Service has no endpoints (its selector matches no ready pod)",
        (
            "no endpoints",
            "noendpoints",
            "no ready endpoints",
            "matches no pod",
            "selector matches",
            "without endpoints",
            "0 endpoints",
            "has no endpoints",
        ),
        ("对比 Service 的 `spec.selector` 与 Pod 的 labels，修正不一致的标签",),
        ("Compare the Service's `spec.selector` with the pods' labels and fix the mismatch",),
    ),
    Cause(
        "node",
        "节点异常（NotReady 或资源压力：MemoryPressure/DiskPressure/PIDPressure）",
        "a node is unhealthy (NotReady, or under MemoryPressure/DiskPressure/PIDPressure)",
        (
            "nodenotready",
            "node notready",
            "notready",
            "memorypressure",
            "diskpressure",
            "pidpressure",
            "kubelet stopped posting",
            "node pressure",
            "nodehasdiskpressure",
            "nodehasinsufficientmemory",
        ),
        (
            "检查该节点 kubelet 与磁盘/内存使用，清理磁盘或扩容",
            "必要时 `kubectl cordon` 并 `kubectl drain` 该节点（需人工确认）",
        ),
        (
            "Check the node's kubelet and its disk/memory use; free disk or add capacity",
            "If needed, `kubectl cordon` and `kubectl drain` the node (needs your approval)",
        ),
    ),
    Cause(
        "unavailable",
        "Deployment 副本不可用（可用副本数低于期望）",
        "the Deployment has unavailable replicas (fewer available than desired)",
        (
            "unavailable",
            "minimumreplicasunavailable",
            "progressdeadlineexceeded",
            "does not have minimum availability",
            "replicas available",
        ),
        (
            "查看其 Pod 的状态与事件，找出 Pod 起不来的原因并修正",
            "修正后观察 `kubectl rollout status deployment/<名称> -n <命名空间>`",
        ),
        (
            "Look at its pods' status and events to see why they do not become available, and fix "
            "that",
            "Then watch `kubectl rollout status deployment/<name> -n <namespace>`",
        ),
    ),
    Cause(
        "error",
        "容器以错误退出（Error）",
        "the container exits with an error",
        ("exit code 1", "exitcode=1", "exit_code=1", "traceback", "exception", "panic:", "fatal"),
        ("根据日志中的报错修正应用或配置",),
        ("Fix the application or configuration error shown in the logs",),
    ),
)
_CAUSE_BY_KEY = {c.key: c for c in CAUSES}


def cause(key: str) -> Cause:
    return _CAUSE_BY_KEY[key]


#: the analyzers' reasons (opsconsole.k8s.analyzers) -> cause keys
REASON_CAUSE = {
    "crashloopbackoff": "crashloop",
    "frequentrestarts": "crashloop",
    "oomkilled": "oom",
    "imagepullbackoff": "image",
    "errimagepull": "image",
    "invalidimagename": "image",
    "createcontainerconfigerror": "config",
    "failedscheduling": "unschedulable",
    "gpuunschedulable": "gpu",
    "readinessprobefailed": "readiness",
    "livenessprobefailed": "liveness",
    "containererror": "error",
    "podfailed": "error",
    "podunknown": "node",
    "deploymentunavailable": "unavailable",
    "nodenotready": "node",
    "memorypressure": "node",
    "diskpressure": "node",
    "pidpressure": "node",
    "networkunavailable": "node",
    "nodeunschedulable": "node",
    "servicenoendpoints": "endpoints",
    "servicenoreadyendpoints": "endpoints",
}
#: pod-security reasons: real findings, but never the root cause of a failure
SECURITY_REASONS = frozenset(
    "privilegedcontainer runasroot hostpathvolume hostnamespace latestimagetag noresourcelimits "
    "secretinenv".split()
)


def finding_cause(f: Finding) -> Cause | None:
    """The cause of a health finding: by its reason, else by its words; None for security."""
    reason = f.reason.lower()
    if reason in SECURITY_REASONS:
        return None
    if reason in REASON_CAUSE:
        return _CAUSE_BY_KEY[REASON_CAUSE[reason]]
    return classify(f"{f.reason} {f.evidence}")


def is_security(f: Finding) -> bool:
    return f.reason.lower() in SECURITY_REASONS


def classify(text: str) -> Cause | None:
    """The first cause (in priority order) whose keywords appear in ``text``."""
    low = text.lower()
    for c in CAUSES:
        if any(p in low for p in c.patterns):
            return c
    return None


_EVIDENCE_RE = re.compile(
    r"(error|exception|traceback|fatal|panic|failed|failure|refused|denied|invalid|missing|"
    r"not found|no such|cannot|can't|unable|killed|oom|back-?off|crashloop|insufficient|"
    r"unschedul|pressure|notready|not ready|unavailable|probe|exit ?code|warning|timeout|"
    r"timed out|no endpoints|selector|pull|gpu|restart|pending|keyerror|valueerror)",
    re.I,
)


def evidence_lines(text: str, *, limit: int = 6, must: str | None = None) -> list[str]:
    """The lines of a tool output that look like evidence, in order, deduplicated."""
    out: list[str] = []
    for raw in text.splitlines():
        line = raw.strip()
        if not line or len(line) < 4 or line.startswith(("<", "```")):
            continue
        if must and must not in line:
            continue
        if _EVIDENCE_RE.search(line) and line not in out:
            out.append(line[:300])
            if len(out) >= limit:
                break
    return out


_LOG_OPEN_RE = re.compile(r"^<untrusted-log\b(?P<attrs>[^>]*)>\s*$")
_LOG_NOTE = "(log data from the cluster"


def log_body(text: str) -> list[tuple[bool, str]]:
    """(previous?, line) for the log lines inside ``<untrusted-log ...>`` blocks.

    Outputs without such blocks (other log tools, canned tests) count as one current block.
    """
    out: list[tuple[bool, str]] = []
    inside = False
    previous = False
    saw_block = False
    for raw in text.splitlines():
        line = raw.rstrip()
        m = _LOG_OPEN_RE.match(line.strip())
        if m:
            inside, saw_block = True, True
            previous = "previous=true" in m.group("attrs")
            continue
        if line.strip() == "</untrusted-log>":
            inside = False
            continue
        if inside and not line.startswith(_LOG_NOTE) and line.strip() != "(empty)":
            out.append((previous, line))
    if not saw_block:
        out = [(False, ln.rstrip()) for ln in text.splitlines() if ln.strip()]
    return out
