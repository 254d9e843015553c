"""Root-cause categories for the offline planner's answers, in Chinese and English.

The analyzers' reasons (:mod:`opsconsole.k8s.analyzers`) map to a category directly; other text
is recognised by keywords. Each category carries a plain description and next steps (never
performed by the planner itself).
"""

from __future__ import annotations

from dataclasses import dataclass

from opsconsole.planner.facts import Finding


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
            "修改后执行 `kubectl rollout restart deployment/NAME -n NAMESPACE`（需人工确认）",
        ),
        (
            "Compare the container's memory limit with its real usage (get_resource_usage) "
            "and raise "
            "`resources.limits.memory`, or fix the leak / lower the batch size",
            "Then `kubectl rollout restart deployment/NAME -n NAMESPACE` (needs your approval)",
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
            "修正后执行 `kubectl rollout restart deployment/NAME -n NAMESPACE`（需人工确认）",
        ),
        (
            "Fix the configuration the previous logs complain about (ConfigMap / env / args)",
            "Then `kubectl rollout restart deployment/NAME -n NAMESPACE` (needs your approval)",
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
            "修正后观察 `kubectl rollout status deployment/NAME -n NAMESPACE`",
        ),
        (
            "Look at its pods' status and events to see why they do not become available, and fix "
            "that",
            "Then watch `kubectl rollout status deployment/NAME -n NAMESPACE`",
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
