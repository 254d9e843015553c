"""The offline planner's answers: concise Markdown in the language of the question.

Each answer opens with the planner's label, names the root cause when there is one, quotes the
evidence lines from the observations and suggests next steps. It never claims to have changed
anything: the offline planner only reads.
"""

from __future__ import annotations

import re

from opsconsole.k8s.analyzers import suggestion_text
from opsconsole.planner.causes import Cause, cause, finding_cause, is_security
from opsconsole.planner.evidence import evidence_lines
from opsconsole.planner.facts import (
    Finding,
    deployment_of,
    error_text,
    is_forbidden,
    lines_of,
)
from opsconsole.planner.intents import Intent, Language
from opsconsole.planner.markdown import HEADER, ask_more, block, code, numbered, quote, t
from opsconsole.planner.observations import Observation


def error_note(obs: Observation, lang: Language) -> str:
    """One line saying which read failed and why (forbidden reads name the RBAC gap)."""
    first = error_text(obs).splitlines()[0][:300]
    forbidden = is_forbidden(obs)
    if lang == "zh":
        why = "（权限不足：当前身份没有读取权限，RBAC 禁止）" if forbidden else ""
        return f"注意：`{obs.name}` 读取失败{why}：{first}"
    why = " (forbidden: this identity lacks the RBAC permission)" if forbidden else ""
    return f"Note: `{obs.name}` failed{why}: {first}"


def next_steps(
    c: Cause | None, lang: Language, ns: str | None, name: str | None, suggestion: str = ""
) -> str:
    return numbered(next_step_items(c, lang, ns, name, suggestion))


def next_step_items(
    c: Cause | None, lang: Language, ns: str | None, name: str | None, suggestion: str = ""
) -> list[str]:
    """The next steps for a cause (NAMESPACE and NAME filled in), then the analyzer's."""
    steps: tuple[str, ...]
    if c is None:
        steps = (
            ("查看该对象的 describe 与事件，确认具体的失败原因",)
            if lang == "zh"
            else ("Look at the object's describe output and events to pin down the failure",)
        )
    else:
        steps = c.next_zh if lang == "zh" else c.next_en
    out = []
    for step in steps:
        s = step
        if ns:
            s = re.sub(r"\bNAMESPACE\b", ns, s)
        if name:
            s = re.sub(r"\bNAME\b", deployment_of(name), s)
        out.append(s)
    suggestion = suggestion_text(suggestion, lang)
    if suggestion:
        lead = "分析器建议" if lang == "zh" else "Analyzer's suggestion"
        sep = "：" if lang == "zh" else ": "
        out.append(f"{lead}{sep}{suggestion}")
    return out


# --- answers -------------------------------------------------------------------------------


def help_answer(lang: Language, *, unsupported: bool, task: str = "") -> str:
    if lang == "zh":
        intro = (
            "抱歉，离线规划器无法处理这个请求。它不联网、不调用大模型，只能理解常见的运维请求。"
            if unsupported
            else "离线规划器不联网、不调用大模型，能理解这些常见的运维请求："
        )
        body = """我能做的：
- 查看某个命名空间的 Pod：“查看 default 命名空间下所有 Pod 的状态”
- 查看 Pod 日志：“看看 shop 里 api-xxx 的日志”
- 诊断故障：“为什么 payments 的 ledger 一直重启”
- 找出不健康的 Pod：“哪些 Pod 不健康”
- 资源使用：“资源使用情况”
- 节点状态：“节点状态”
- 最近的事件/告警：“最近的告警”
- Deployment 状态：“shop 命名空间的 deployment 状态”
- GPU：“哪些 Pod 在使用 GPU”
- 安全风险：“有哪些安全风险”

要获得完整的智能体能力，请配置一个模型：设置环境变量 `DEEPSEEK_API_KEY`（默认使用 DeepSeek），
或在配置文件中设置 `model.base_url` 与 `model.name`（以及 `model.api_key_env`），
即可接入 OpenAI、Ollama、vLLM 等任何 OpenAI 兼容的服务。"""
    else:
        intro = (
            "Sorry, the offline planner cannot handle this request. It runs without a network or "
            "a language model and understands only common operations requests."
            if unsupported
            else "The offline planner runs without a network or a language model. It understands "
            "these common requests:"
        )
        body = """What I can do:
- pods of a namespace: "show pods in namespace default"
- the logs of a pod: "show logs of pod api-xxx in ns shop"
- diagnose a failure: "why is checkout failing"
- unhealthy pods: "what's broken in the cluster"
- resource usage: "top pods"
- nodes: "node status"
- recent events and warnings: "recent warning events"
- deployments: "list deployments in shop"
- GPUs: "which pods use GPUs"
- security risks: "any security issues in shop?"

For the full agent, configure a model: set `DEEPSEEK_API_KEY` (DeepSeek is the default), or set
`model.base_url` and `model.name` (and `model.api_key_env`) in the config file to use OpenAI,
Ollama, vLLM or any OpenAI-compatible endpoint."""
    return f"{HEADER}\n\n{intro}\n\n{body}\n"


def greeting_answer(lang: Language) -> str:
    if lang == "zh":
        text = (
            "不客气！需要时可以继续问我，比如“哪些 Pod 不健康”或“为什么 checkout 一直重启”。"
            "（问“你能做什么”查看全部支持的请求。）"
        )
    else:
        text = (
            "You're welcome! Ask me anything else, e.g. \"what's broken in the cluster\" or "
            '"why is checkout failing" (ask "what can you do" for the full list).'
        )
    return f"{HEADER}\n\n{text}\n"


def mutate_answer(intent: Intent) -> str:
    target = intent.target or "NAME"
    ns = intent.namespace or "NAMESPACE"
    cmd = {
        "delete": f"kubectl delete pod {target} -n {ns}",
        "scale": f"kubectl scale deployment/{target} --replicas=N -n {ns}",
        "restart": f"kubectl rollout restart deployment/{target} -n {ns}",
        "rollback": f"kubectl rollout undo deployment/{target} -n {ns}",
    }.get(intent.verb or "", f"kubectl ... -n {ns}")
    if intent.language == "zh":
        return (
            f"{HEADER}\n\n当前是只读模式，不会执行变更操作（删除、扩缩容、重启、回滚）。\n\n"
            f"如果确认需要，可以手动执行：\n\n```\n{cmd}\n```\n\n"
            "或者开启写模式（控制台中输入 `/write`，或启动时加 `--write`）后再说一次"
            "（扩缩容请写明副本数）：变更会在你确认后执行。\n"
        )
    return (
        f"{HEADER}\n\nThis is read-only mode: no changes (delete, scale, restart, rollback) are "
        f"made.\n\nIf you are sure, run it yourself:\n\n```\n{cmd}\n```\n\n"
        "Or turn on write mode (`/write` in the console, or start with `--write`) and ask again "
        "(say the replica count for a scale): the change then runs after your approval.\n"
    )


def error_answer(intent: Intent, obs: Observation) -> str:
    lang = intent.language
    first = error_text(obs).splitlines()[:6]
    if lang == "zh":
        tail = "请检查集群连接与权限（kubeconfig、context、RBAC）后重试。"
    else:
        tail = (
            "Check the cluster connection and permissions (kubeconfig, context, RBAC), then retry."
        )
    return f"{HEADER}\n\n{t('tool_error', lang)} `{obs.name}`\n\n{quote(first)}\n\n{tail}\n"


def unreachable_answer(
    intent: Intent, errors: list[Observation], kind: str, context: str | None = None
) -> str:
    """Every read failed because the cluster cannot be used (unreachable, no cluster
    configured, credentials rejected): say so and how to check; never guess from the errors."""
    zh = intent.language == "zh"
    ctx = f" --context {context}" if context else ""
    lines = [f"{o.name}: {error_text(o).splitlines()[0][:240]}" for o in errors]
    lines = list(dict.fromkeys(lines))
    changed = intent.kind == "mutate"
    if zh:
        head = {
            "unreachable": "**无法连接集群**：这一轮的工具调用都没能连上 Kubernetes API server，"
            "所以什么都没查到",
            "no_cluster": "**没有配置集群**：工具没有可用的 kubeconfig/context，所以什么都没查到",
            "auth": "**集群拒绝了当前凭据**：工具调用都因认证失败而被拒绝，所以什么都没查到",
        }[kind]
        head += "（这不代表你问的对象不存在）。"
        if changed:
            head += "没有做任何变更。"
        steps = {
            "unreachable": [
                f"确认 API server 正常且从这里可达：`kubectl cluster-info{ctx}`"
                "（地址见上面的错误），并检查 VPN、代理和防火墙",
                "确认用的是正确的 kubeconfig 与 context：`kubectl config current-context`；"
                "在控制台里可用 `/context` 查看或切换",
                "集群恢复响应后再问一次",
            ],
            "no_cluster": [
                "用 `--kubeconfig FILE --context NAME` 启动，或设置环境变量 `KUBECONFIG`",
                "想先试用，可以用 `--demo` 连接内置的沙箱集群",
            ],
            "auth": [
                f"重新登录或刷新凭据后确认可用：`kubectl get ns{ctx}`",
                "确认用的是正确的 context：`kubectl config current-context`",
            ],
        }[kind]
        label, how = "工具返回的错误：", "**如何检查**："
    else:
        head = {
            "unreachable": "**The cluster is unreachable**: no tool call of this turn could "
            "reach the Kubernetes API server, so nothing could be checked",
            "no_cluster": "**No cluster is configured**: the tools have no usable "
            "kubeconfig/context, so nothing could be checked",
            "auth": "**The cluster rejected the credentials**: every tool call failed to "
            "authenticate, so nothing could be checked",
        }[kind]
        head += " (this does not mean that what you asked about does not exist)."
        if changed:
            head += " Nothing was changed."
        steps = {
            "unreachable": [
                f"Check that the API server is up and reachable from here: `kubectl cluster-info"
                f"{ctx}` (the address is in the error above); check VPN, proxy and firewall",
                "Check that the right kubeconfig and context are in use: "
                "`kubectl config current-context`; in the console `/context` shows and "
                "switches it",
                "Ask again once the cluster answers",
            ],
            "no_cluster": [
                "Start with `--kubeconfig FILE --context NAME`, or set `KUBECONFIG`",
                "To try things out, `--demo` connects to the built-in sandbox cluster",
            ],
            "auth": [
                f"Log in again or refresh the credentials, then check: `kubectl get ns{ctx}`",
                "Check that the right context is in use: `kubectl config current-context`",
            ],
        }[kind]
        label, how = "The tools returned errors:", "**How to check**:"
    numbered = "\n".join(f"{i}. {step}" for i, step in enumerate(steps, 1))
    return f"{HEADER}\n\n{head}\n\n{label}\n{quote(lines[:6])}\n\n{how}\n{numbered}\n"


def _short(item: dict[str, object], have: str, want: str) -> bool:
    """Fewer ``have`` than ``want`` (ready of replicas)."""
    a, b = item.get(have), item.get(want)
    return isinstance(a, int) and isinstance(b, int) and a < b


def _ready_short(ready: object) -> bool:
    m = re.match(r"^(\d+)/(\d+)$", str(ready or ""))
    return m is not None and int(m.group(1)) < int(m.group(2))


def attention_items(obs: Observation) -> list[dict[str, object]]:
    """The rows of a listing that need attention, by their fields."""
    out = []
    for item in obs.items:
        if obs.name == "get_k8s_pods":
            status = item.get("status")
            bad = status not in ("Running", "Completed", "Succeeded") or _ready_short(
                item.get("ready")
            )
            keep = bad or bool(item.get("note"))
        elif obs.name == "get_nodes":
            keep = item.get("status") != "Ready" or bool(item.get("pressure"))
        elif obs.name == "get_deployments":
            keep = _short(item, "ready", "replicas")
        elif obs.name == "get_events":
            keep = item.get("type") == "Warning"
        elif obs.name == "get_resource_usage":
            pct = item.get("memory_used_pct")
            keep = isinstance(pct, int) and pct >= 80
        else:
            keep = False
        if keep:
            out.append(item)
    return out


def attention_rows(obs: Observation) -> list[str]:
    """The rows of a listing that need attention, as the listing shows them; for other
    results, the lines that look like evidence."""
    if obs.items:
        return [str(i.get("line") or "").strip() for i in attention_items(obs)]
    out: list[str] = []
    for line in lines_of(obs)[1:]:
        out += evidence_lines([line], limit=1)
    return out


_ATTENTION = {
    "get_resource_usage": ("内存接近上限（≥80%）：", "Close to the memory limit (>= 80%):"),
    "get_events": ("Warning 事件：", "Warning events:"),
}


def _mentions(item: dict[str, object], name: str) -> bool:
    """A row that names ``name`` (as a whole name or the start of one) in one of its fields."""
    rx = re.compile(rf"(?<![a-z0-9-]){re.escape(name)}")
    return any(rx.search(str(v)) for k, v in item.items() if k != "line")


def listing_answer(
    intent: Intent, obs: Observation, title_zh: str, title_en: str, *, only: str | None = None
) -> str:
    lang = intent.language
    title = title_zh if lang == "zh" else title_en
    if only:
        keep = [i for i in obs.items if _mentions(i, only)]
        if keep:
            obs = obs.narrowed(keep, columns=False)
            title += f"（{only}）" if lang == "zh" else f" ({only})"
    parts = [HEADER, "", f"**{title}**", ""]
    total = obs.data.get("total")
    if obs.name == "get_k8s_pods" and isinstance(total, int):
        good, bad = obs.data.get("healthy", 0), obs.data.get("attention", 0)
        if lang == "zh":
            parts += [f"共 {total} 个 Pod：{good} 个正常，{bad} 个需要关注。", ""]
        else:
            parts += [f"{total} pods: {good} healthy, {bad} need attention.", ""]
    parts.append(block("\n".join(lines_of(obs)), lang))
    problems = attention_rows(obs)
    if problems:
        zh, en = _ATTENTION.get(obs.name, ("需要关注：", "Needs attention:"))
        parts += ["", zh if lang == "zh" else en, quote(problems[:10])]
        if obs.name == "get_nodes":
            c = cause("node")
            sep = "：" if lang == "zh" else ": "
            parts += ["", f"{t('cause', lang)}{sep}{c.zh if lang == 'zh' else c.en}"]
        parts += ["", ask_more(lang, _example(obs))]
    else:
        parts += ["", "没有发现异常。" if lang == "zh" else "Nothing looks wrong here."]
    return "\n".join(parts) + "\n"


def _example(obs: Observation) -> tuple[str | None, str] | None:
    """(namespace, workload) of the first row that needs attention, for the follow-up tip."""
    rows = attention_items(obs) if obs.name in ("get_k8s_pods", "get_deployments") else []
    if not rows:
        return None
    first = rows[0]
    ns = first.get("namespace") or obs.args.get("namespace")
    return (str(ns) if ns else None), deployment_of(str(first.get("name") or ""))


#: findings that follow from another one (a deployment whose pods fail, a service whose pods
#: are not ready): listed after the root causes, in one line
DERIVED = frozenset({"DeploymentUnavailable", "ServiceNoReadyEndpoints"})


def findings_answer(intent: Intent, findings: list[Finding], obs: Observation | None) -> str:
    """Unhealthy things, root causes first, pods grouped by workload, derived ones after."""
    lang = intent.language
    zh = lang == "zh"
    health = [f for f in findings if not is_security(f)]
    security = [f for f in findings if is_security(f)]
    primary = [f for f in health if f.reason not in DERIVED]
    derived = [f for f in health if f.reason in DERIVED]
    if not health:
        parts = [HEADER, "", t("no_findings", lang)]
        shown = lines_of(obs) if obs is not None else []
        if shown and not security:
            parts += ["", block("\n".join(shown), lang, max_lines=15)]
    else:
        groups: dict[tuple[str, str, str], list[Finding]] = {}
        for f in primary:
            name = deployment_of(f.name) if f.kind == "pod" else f.name
            ref = f"{f.namespace}/{name}" if f.namespace else name
            groups.setdefault((f.kind, ref, f.reason), []).append(f)
        n = len(groups)
        title = f"发现 {n} 个根本问题：" if zh else f"Found {n} root problem(s):"
        parts = [HEADER, "", f"**{title}**", ""]
        for (kind, ref, reason), group in list(groups.items())[:15]:
            c = finding_cause(group[0])
            what = (c.zh if zh else c.en) if c else reason
            label = {"node": "节点" if zh else "node", "service": "Service"}.get(kind, "")
            count = ""
            if kind == "pod":
                count = f"（{len(group)} 个 Pod）" if zh else f" ({len(group)} pod(s))"
            sev = f" [{group[0].severity}]" if group[0].severity else ""
            parts.append(f"- {label + ' ' if label else ''}**{ref}**{count}{sev} {reason}: {what}")
            if group[0].evidence:
                lead = "证据：" if zh else "evidence: "
                parts.append(f"  - {lead}{code(group[0].evidence[:300])}")
            if kind == "pod":
                names = ", ".join(f"`{f.name}`" for f in group[:5])
                parts.append(f"  - Pod: {names}")
        if len(groups) > 15:
            parts.append(t("more", lang, n=len(groups) - 15))
        if derived:
            refs = ", ".join(f"{f.kind} {f.ref} ({f.reason})" for f in derived[:12])
            lead = "因此受影响：" if zh else "Affected as a result: "
            parts += ["", f"{lead}{refs}"]
    if security:
        reasons = sorted({f.reason for f in security})
        if zh:
            parts += ["", f"另有 {len(security)} 条安全发现：{', '.join(reasons)}。"]
        else:
            parts += ["", f"Also {len(security)} security finding(s): {', '.join(reasons)}."]
    if health:
        pod = next((f for f in primary if f.kind == "pod"), None)
        example = (pod.namespace, deployment_of(pod.name)) if pod is not None else None
        parts += ["", ask_more(lang, example)]
    return "\n".join(parts) + "\n"


_SEC_ZH = {
    "PrivilegedContainer": "特权容器",
    "RunAsRoot": "以 root 运行",
    "HostPathVolume": "挂载 hostPath",
    "HostNamespace": "共享宿主机命名空间",
    "LatestImageTag": "使用 :latest 镜像",
    "NoResourceLimits": "未设置资源限制",
    "SecretInEnv": "环境变量中的明文密钥",
}


def security_answer(intent: Intent, findings: list[Finding], obs: Observation) -> str:
    lang = intent.language
    if not findings:
        text = "没有发现安全问题。" if lang == "zh" else "No security issues found."
        return f"{HEADER}\n\n{text}\n"
    n = len(findings)
    title = f"发现 {n} 条安全风险：" if lang == "zh" else f"Found {n} security risk(s):"
    parts = [HEADER, "", f"**{title}**", ""]
    for f in findings[:20]:
        label = _SEC_ZH.get(f.reason, f.reason) if lang == "zh" else f.reason
        sev = f" [{f.severity}]" if f.severity else ""
        parts.append(f"- **{f.ref}**{sev} {label}: {f.evidence[:200]}")
        fix = suggestion_text(f.suggestion, lang)
        if fix:
            parts.append(f"  - {'建议：' if lang == 'zh' else 'fix: '}{fix}")
    if n > 20:
        parts.append(t("more", lang, n=n - 20))
    return "\n".join(parts) + "\n"


def not_found_answer(
    intent: Intent, target: str, findings: list[Finding], known_pods: list[str]
) -> str:
    lang = intent.language
    if lang == "zh":
        head = f"没有找到名为 `{target}` 的 Pod、Deployment 或节点"
        head += f"（命名空间 `{intent.namespace}`）。" if intent.namespace else "。"
    else:
        head = f"No pod, deployment or node named `{target}` was found"
        head += f" in namespace `{intent.namespace}`." if intent.namespace else "."
    parts = [HEADER, "", head]
    if known_pods:
        label = "已知的 Pod：" if lang == "zh" else "Pods seen:"
        parts += ["", label + " " + ", ".join(f"`{p}`" for p in known_pods[:20])]
    if findings:
        label = "集群中发现的问题：" if lang == "zh" else "Problems found in the cluster:"
        parts += ["", label]
        parts += [f"- **{f.ref}** {f.reason}" for f in findings[:10]]
    tip = (
        "请确认名称与命名空间（例如 “为什么 shop 命名空间的 api 一直重启”）。"
        if lang == "zh"
        else 'Check the name and namespace (e.g. "why is api in namespace shop failing").'
    )
    parts += ["", tip]
    return "\n".join(parts) + "\n"
