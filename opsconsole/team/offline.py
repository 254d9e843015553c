"""Offline model clients for the multi-agent team (no network, no model), clearly labelled.

- :class:`OfflineRouter` (the scheduler): routes by keywords (:mod:`.routing`), asks every
  chosen specialist in one turn (so they run concurrently) and merges their answers.
- :class:`OfflineOps`: the built-in offline planner, plus ``get_alerts`` for alert questions.
- :class:`OfflineSecurity`: ``security_scan`` (or ``review_manifest`` for pasted YAML) and an
  answer listing every finding with severity, evidence and fix.
- :class:`OfflineCoder`: ``generate_manifest`` from the request's words, then
  ``validate_manifest``; for pasted YAML ``review_manifest`` + ``validate_manifest``.

Like :class:`opsconsole.planner.OfflinePlanner` they are stateless: each turn is derived
from ``messages`` (the latest user message and the tool results after it).

The agent package does not import the planner (:mod:`opsconsole.planner`): whoever builds
these clients (:func:`opsconsole.team.factory.offline_model`) passes the planner
to :class:`OfflineOps` and the planner's reading of a namespace in a request
(``namespace_of``) to all of them.
"""

from __future__ import annotations

import json
import re
from collections.abc import AsyncIterator, Callable, Sequence
from typing import Any

from opsconsole.agent.model import (
    OFFLINE_HEADER,
    ModelClient,
    ModelStreamItem,
    ModelTurn,
    TextChunk,
    ToolCallRequest,
    Usage,
)
from opsconsole.agent.prompts import resolve_language
from opsconsole.agent.transcript import LOCAL, estimate_tokens, split_state_note
from opsconsole.team._common import merge_answers, unwrap_agent_output
from opsconsole.team.routing import Route, looks_like_yaml, route

HEADER = OFFLINE_HEADER
#: the namespace a request names, or None (the offline planner's reading, injected)
NamespaceOf = Callable[[str], "str | None"]


def _no_namespace(text: str) -> str | None:
    return None


def _sent(messages: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The messages as a model API would get them (without what stays local)."""
    return [{k: v for k, v in m.items() if k != LOCAL} for m in messages]


def _estimate(*parts: Any) -> int:
    texts = [p if isinstance(p, str) else json.dumps(p, default=str) for p in parts]
    return max(1, sum(estimate_tokens(t) for t in texts))


def _latest(messages: list[dict[str, Any]]) -> tuple[str, list[tuple[str, dict, str]], int]:
    """(latest user text, [(tool name, args, content)] after it, calls made overall)."""
    idx = max((i for i, m in enumerate(messages) if m.get("role") == "user"), default=-1)
    task = split_state_note(str(messages[idx].get("content") or ""))[1] if idx >= 0 else ""
    names: dict[str, tuple[str, dict]] = {}
    total = 0
    for m in messages:
        for tc in m.get("tool_calls") or ():
            total += 1
            fn = tc.get("function") or {}
            try:
                args = json.loads(fn.get("arguments") or "{}")
            except ValueError:
                args = {}
            names[tc.get("id", "")] = (fn.get("name", ""), args)
    obs = []
    for m in messages[idx + 1 :]:
        if m.get("role") == "tool":
            name, args = names.get(m.get("tool_call_id", ""), ("", {}))
            obs.append((name, args, str(m.get("content") or "")))
    return task, obs, total


def _offered(tools: list[dict[str, Any]]) -> set[str]:
    return {str((t.get("function") or {}).get("name")) for t in tools or ()}


class _Offline:
    label = "offline planner"
    offline = True

    def __init__(self, language: str = "auto", *, namespace_of: NamespaceOf | None = None) -> None:
        self.language = language
        self.namespace_of: NamespaceOf = namespace_of or _no_namespace

    def lang(self, task: str) -> str:
        return resolve_language(self.language, task)

    def _final(self, text: str, messages: list[dict[str, Any]]) -> list[ModelStreamItem]:
        usage = Usage(prompt_tokens=_estimate(_sent(messages)), completion_tokens=_estimate(text))
        return [TextChunk(text), ModelTurn(content=text, finish_reason="stop", usage=usage)]

    def _calls(
        self,
        thought: str,
        calls: Sequence[tuple[str, dict[str, Any]]],
        total: int,
        messages: list,
    ) -> list[ModelStreamItem]:
        reqs = [
            ToolCallRequest(
                id=f"call_offline_{total + i + 1}",
                name=name,
                arguments=json.dumps(args, ensure_ascii=False),
            )
            for i, (name, args) in enumerate(calls)
        ]
        usage = Usage(
            prompt_tokens=_estimate(_sent(messages)), completion_tokens=_estimate(thought)
        )
        return [
            TextChunk(thought),
            ModelTurn(content=thought, tool_calls=reqs, finish_reason="tool_calls", usage=usage),
        ]

    def decide(self, messages: list[dict[str, Any]], tools: list[dict[str, Any]]) -> list:
        raise NotImplementedError

    async def run_turn(
        self, messages: list[dict[str, Any]], tools: list[dict[str, Any]]
    ) -> AsyncIterator[ModelStreamItem]:
        for item in self.decide(messages, tools):
            yield item


# --- the scheduler ----------------------------------------------------------------------------


class OfflineRouter(_Offline):
    """The scheduler with no model: keyword routing, fan-out in one turn, merged answer."""

    label = "offline router"

    def decide(self, messages: list[dict[str, Any]], tools: list[dict[str, Any]]) -> list:
        task, obs, total = _latest(messages)
        lang = self.lang(task)
        offered = _offered(tools)
        available = [n[4:] for n in sorted(offered) if n.startswith("ask_")]
        if not obs:
            r = route(task, available)
            previous = _previous_agents(messages)
            if previous and (r.default or _FOLLOW_UP.match(task.strip().lower())):
                # a follow-up ("那 shop 呢？", "what about shop?"): the same specialists
                r = Route(previous, {a: ["follow-up"] for a in previous})
            zh = lang == "zh"
            titles = {
                "ops": "运维 Agent" if zh else "Ops agent",
                "security": "安全 Agent" if zh else "Security agent",
                "coder": "编码 Agent" if zh else "Coder agent",
            }
            parts = []
            for a in r.agents:
                kw = ", ".join(r.matched.get(a, [])[:3])
                parts.append(f"{titles.get(a, a)}" + (f" ({kw})" if kw else ""))
            if r.default:
                why = "没有匹配的关键词，默认交给运维 Agent" if zh else "no keyword matched: Ops"
                thought = f"{HEADER} {why}。" if zh else f"{HEADER} {why}."
            else:
                joined = "、".join(parts) if zh else ", ".join(parts)
                thought = (
                    f"{HEADER} 按关键词分派给：{joined}。"
                    if zh
                    else f"{HEADER} Routing by keywords to: {joined}."
                )
            calls = [(f"ask_{a}", {"task": task}) for a in r.agents if f"ask_{a}" in offered]
            if not calls:
                return self._final(f"{HEADER}\n(no specialist available)", messages)
            return self._calls(thought, calls, total, messages)
        results = []
        for name, _args, content in obs:
            agent = name[4:] if name.startswith("ask_") else name
            un = unwrap_agent_output(content)
            if un is not None:
                results.append((un[0] or agent, un[1], un[2]))
            else:
                results.append((agent, "failed", _error_text(content)))
        why = "（离线：按关键词路由）" if lang == "zh" else " (offline: keyword routing)"
        return self._final(merge_answers(results, lang, why), messages)


_FOLLOW_UP = re.compile(r"^(?:那|那么|还有|然后|再看看|what about|how about|and (?:in|for|what))")


def _previous_agents(messages: list[dict[str, Any]]) -> list[str]:
    """The specialists the previous user request went to (for keyword-less follow-ups)."""
    idx = max((i for i, m in enumerate(messages) if m.get("role") == "user"), default=-1)
    agents: list[str] = []
    for m in reversed(messages[:idx]):
        if m.get("role") == "user" and agents:
            break
        for tc in m.get("tool_calls") or ():
            name = str((tc.get("function") or {}).get("name", ""))
            if name.startswith("ask_") and name[4:] not in agents:
                agents.insert(0, name[4:])
    return agents


def _error_text(content: str) -> str:
    try:
        data = json.loads(content)
    except ValueError:
        return content[:500]
    if isinstance(data, dict):
        return str(data.get("error") or data.get("status") or content)[:500]
    return content[:500]


# --- ops ---------------------------------------------------------------------------------------

_ALERT_WORDS = ("告警", "报警", "警报", "alert", "alerts", "alarm", "warning event")


class OfflineOps(_Offline):
    """The offline planner, with Warning events as alerts when the task asks for alerts."""

    def __init__(
        self,
        language: str = "auto",
        *,
        planner: ModelClient,
        namespace_of: NamespaceOf | None = None,
    ) -> None:
        super().__init__(language, namespace_of=namespace_of)
        self.planner = planner

    async def run_turn(
        self, messages: list[dict[str, Any]], tools: list[dict[str, Any]]
    ) -> AsyncIterator[ModelStreamItem]:
        task, obs, total = _latest(messages)
        wants_alerts = any(w in task.lower() for w in _ALERT_WORDS)
        if wants_alerts and "get_alerts" in _offered(tools):
            zh = self.lang(task) == "zh"
            if not obs:
                ns = namespace_hint(task, self.namespace_of)
                args = {"namespace": ns} if ns else {}
                thought = (
                    "读取 Warning 事件作为告警。" if zh else "Reading Warning events as alerts."
                )
                for item in self._calls(thought, [("get_alerts", args)], total, messages):
                    yield item
                return
            out = obs[-1][2]
            title = "告警（Warning 事件）" if zh else "Alerts (Warning events)"
            for item in self._final(f"{HEADER}\n\n**{title}**\n\n{out}\n", messages):
                yield item
            return
        async for item in self.planner.run_turn(messages, tools):
            yield item


# --- security ----------------------------------------------------------------------------------

FINDING_RE = re.compile(
    r"^FINDING severity=(?P<sev>\S+) reason=(?P<reason>\S+) (?P<kind>[a-z]+)=(?P<ref>\S+) "
    r"evidence: (?P<ev>.*?)(?: \| suggestion: (?P<fix>.*))?$"
)
_SEV_ZH = {"critical": "严重", "high": "高", "medium": "中", "low": "低", "info": "提示"}


def format_findings(text: str, zh: bool) -> tuple[str, list[str], list[str]]:
    """(summary line, bullet per finding, other lines) from security_scan / review output."""
    lines = text.splitlines()
    summary = lines[0] if lines else ""
    bullets, other = [], []
    for line in lines[1:]:
        m = FINDING_RE.match(line)
        if not m:
            if line.strip():
                other.append(line.strip())
            continue
        sev = m["sev"]
        label = f"{_SEV_ZH.get(sev, sev)}/{sev}" if zh else sev
        fix = m["fix"] or ""
        fix_txt = (f" 修复：{fix}" if zh else f" Fix: {fix}") if fix else ""
        ev_word = "证据" if zh else "evidence"
        bullets.append(
            f"- [{label}] {m['kind']} {m['ref']} — {m['reason']}; {ev_word}: {m['ev']}.{fix_txt}"
        )
    return summary, bullets, other


_NS_HINTS = [
    re.compile(r"(?<![a-z0-9-])([a-z0-9][a-z0-9-]{0,62})\s*(?:的|里|中|下|命名空间)"),
    re.compile(r"那\s*([a-z0-9][a-z0-9-]{0,62})\s*(?:呢|的)"),
    re.compile(r"\b(?:what about|and|in|namespace|ns)\s+([a-z0-9][a-z0-9-]{0,62})\b"),
]
_NS_EXPLICIT = re.compile(
    r"(?:\bnamespace|\bns|(?<!\S)-n|命名空间)[\s=:：]+([a-z0-9][a-z0-9-]{0,62})\b"
)
#: "the shop namespace" wins over a following "namespace expose ..."
_NS_THE = re.compile(r"\bthe\s+([a-z0-9][a-z0-9-]{0,62})\s+namespace\b")
_NS_BEFORE = re.compile(r"(?<![a-z0-9-])([a-z0-9][a-z0-9-]{0,62})\s*(?:命名空间|namespace\b)")
_NOT_NS = {
    "the",
    "list",
    "show",
    "check",
    "scan",
    "find",
    "tell",
    "give",
    "review",
    "fix",
    "all",
    "a",
    "an",
    "pods",
    "pod",
    "cluster",
    "security",
    "k8s",
    "yaml",
    "each",
    "every",
    "this",
    "that",
}


def namespace_hint(task: str, namespace_of: NamespaceOf | None = None) -> str | None:
    """A namespace the request names (``namespace shop``, ``shop 命名空间``, ``default 的``,
    ``what about shop``); ``namespace_of`` (the planner's reading) is asked after the explicit
    forms."""
    extract_namespace = namespace_of or _no_namespace
    t = task.lower()
    for rx in (_NS_THE, _NS_EXPLICIT, _NS_BEFORE):
        m = rx.search(t)
        if m and m.group(1) not in _NOT_NS:
            return m.group(1)
    ns = extract_namespace(t)
    if ns and ns not in _NOT_NS:
        return ns
    for rx in _NS_HINTS:
        m = rx.search(t)
        if m and m.group(1) not in _NOT_NS:
            return m.group(1)
    return None


class OfflineSecurity(_Offline):
    def decide(self, messages: list[dict[str, Any]], tools: list[dict[str, Any]]) -> list:
        task, obs, total = _latest(messages)
        zh = self.lang(task) == "zh"
        offered = _offered(tools)
        if not obs:
            if looks_like_yaml(task) and "review_manifest" in offered:
                thought = "审查粘贴的 YAML 的安全问题。" if zh else "Reviewing the pasted YAML."
                return self._calls(thought, [("review_manifest", {"yaml": task})], total, messages)
            if "security_scan" not in offered:
                return self._final(f"{HEADER}\n(security_scan not offered)", messages)
            ns = namespace_hint(task, self.namespace_of)
            where = ns or ("所有命名空间" if zh else "all namespaces")
            thought = (
                f"扫描 {where}：Pod 安全标准、RBAC、镜像、明文密钥、limits、对外暴露的服务。"
                if zh
                else f"Scanning {where}: Pod Security Standards, RBAC, images, secrets in env, "
                "limits, exposed services."
            )
            args = {"namespace": ns} if ns else {}
            return self._calls(thought, [("security_scan", args)], total, messages)
        name, _args, out = obs[-1]
        summary, bullets, other = format_findings(out, zh)
        title = "安全扫描结果" if zh else "Security scan"
        parts = [HEADER, "", f"**{title}**: {summary}"]
        if bullets:
            parts += ["", *bullets]
        else:
            parts += ["", "未发现高于提示级别的安全问题。" if zh else "No findings above info."]
        if other:
            parts += ["", *[f"> {o}" for o in other]]
        return self._final("\n".join(parts) + "\n", messages)


# --- coder -------------------------------------------------------------------------------------

_KIND_WORDS = [
    ("HorizontalPodAutoscaler", ("hpa", "autoscal", "自动扩缩", "弹性伸缩", "水平扩缩")),
    ("NetworkPolicy", ("networkpolicy", "network policy", "网络策略")),
    ("PodDisruptionBudget", ("pdb", "poddisruptionbudget", "disruption budget", "中断预算")),
    ("CronJob", ("cronjob", "cron job", "定时任务")),
    ("Job", ("job", "一次性任务", "批处理任务")),
    ("ConfigMap", ("configmap", "config map", "配置项", "配置文件")),
    ("Service", ("service", "svc", "服务")),
    ("Deployment", ("deployment", "deploy", "部署", "应用")),
]
_IMAGE_RE = re.compile(r"(?<![\w/.:-])([a-z0-9][a-z0-9._/-]*:[A-Za-z0-9][A-Za-z0-9._-]*)(?![\w])")
_NAME_RES = [
    re.compile(r"(?:名为|名字为|名称为|叫做|叫|命名为)\s*[\"'“`]?([a-z0-9][a-z0-9-]{0,62})"),
    re.compile(r"\b(?:named|called|name)\s+[\"'`]?([a-z0-9][a-z0-9-]{0,62})"),
    re.compile(r"\bfor\s+(?:the\s+|an?\s+)?[\"'`]?([a-z0-9][a-z0-9-]{0,62})\b"),
]
_PORT_RE = re.compile(r"(?:端口|port)\s*[:：=]?\s*(\d{2,5})")
_REPLICAS_RE = re.compile(
    r"(\d{1,3})\s*(?:个副本|副本|replicas?)|(?:副本数|replicas)\s*[:：=]?\s*(\d{1,3})"
)
_SKIP_NAMES = {"the", "a", "an", "it", "me", "my", "k8s", "kubernetes", "yaml", "manifest"}


def generation_args(
    task: str, default_ns: str | None = None, namespace_of: NamespaceOf | None = None
) -> dict[str, Any]:
    """generate_manifest arguments from a request's words."""
    extract_namespace = namespace_of or _no_namespace
    t = task.lower()
    kinds = [k for k, words in _KIND_WORDS if any(w in t for w in words)]
    if "CronJob" in kinds and "Job" in kinds:
        kinds.remove("Job")
    if not kinds:
        kinds = ["Deployment"]
    args: dict[str, Any] = {"kinds": kinds}
    image = None
    m = _IMAGE_RE.search(task)
    if m and "://" not in m.group(1):
        image = m.group(1)
        args["image"] = image
    name = None
    for rx in _NAME_RES:
        m2 = rx.search(t)
        if m2 and m2.group(1) not in _SKIP_NAMES:
            name = m2.group(1)
            break
    if name is None and image:
        name = re.sub(r"[^a-z0-9-]", "-", image.split(":")[0].rsplit("/", 1)[-1]).strip("-")
    if name is None:
        for word in ("nginx", "redis", "postgres", "mysql", "web", "api"):
            if word in t:
                name = word
                break
    args["name"] = name or "app"
    if "image" not in args and name in ("nginx", "redis", "postgres", "mysql"):
        args["image"] = {
            "nginx": "nginx:1.27",
            "redis": "redis:7.4",
            "postgres": "postgres:16.4",
            "mysql": "mysql:8.4",
        }[name]
    ns = extract_namespace(t)
    if ns or default_ns:
        args["namespace"] = ns or default_ns
    m = _PORT_RE.search(t)
    if m and 0 < int(m.group(1)) < 65536:
        args["port"] = int(m.group(1))
    m = _REPLICAS_RE.search(t)
    if m:
        args["replicas"] = int(m.group(1) or m.group(2))
    if "loadbalancer" in t or "负载均衡" in t:
        args["service_type"] = "LoadBalancer"
    elif "nodeport" in t:
        args["service_type"] = "NodePort"
    return args


def _strip_comment_header(text: str) -> str:
    lines = text.splitlines()
    while lines and lines[0].startswith("#"):
        lines.pop(0)
    return "\n".join(lines).strip() + "\n"


class OfflineCoder(_Offline):
    def decide(self, messages: list[dict[str, Any]], tools: list[dict[str, Any]]) -> list:
        task, obs, total = _latest(messages)
        zh = self.lang(task) == "zh"
        offered = _offered(tools)
        done = {name for name, _, _ in obs}
        if looks_like_yaml(task):
            if not obs:
                calls = [
                    (n, {"yaml": task})
                    for n in ("review_manifest", "validate_manifest")
                    if n in offered
                ]
                thought = (
                    "审查并用服务端 dry-run 校验粘贴的 YAML。"
                    if zh
                    else "Reviewing the pasted YAML and validating it with a server dry run."
                )
                return self._calls(thought, calls, total, messages)
            parts = [HEADER, ""]
            for name, _args, out in obs:
                title = {"review_manifest": "审查" if zh else "Review"}.get(
                    name, "校验" if zh else "Validation"
                )
                parts += [f"**{title}**", "", out, ""]
            return self._final("\n".join(parts), messages)
        if "generate_manifest" not in done:
            args = generation_args(task, namespace_of=self.namespace_of)
            thought = (
                f"用模板生成 {', '.join(args['kinds'])}（{args['name']}）。"
                if zh
                else f"Generating {', '.join(args['kinds'])} ({args['name']}) from templates."
            )
            return self._calls(thought, [("generate_manifest", args)], total, messages)
        gen = next(o for o in obs if o[0] == "generate_manifest")
        yaml_text = _strip_comment_header(gen[2])
        if gen[2].startswith("{") or "validate_manifest" not in offered:
            return self._final(f"{HEADER}\n\n{gen[2]}\n", messages)
        if "validate_manifest" not in done:
            thought = (
                "展示前先用服务端 dry-run 校验。"
                if zh
                else "Validating with a server dry run first."
            )
            return self._calls(
                thought, [("validate_manifest", {"yaml": yaml_text})], total, messages
            )
        val = next(o for o in obs if o[0] == "validate_manifest")[2]
        head = "生成的资源清单" if zh else "Generated manifests"
        vtitle = "校验结果" if zh else "Validation"
        note = (
            "未应用到集群；确认后可用 `kubectl apply -f <文件>` 应用。"
            if zh
            else "Nothing was applied; after review apply it with `kubectl apply -f <file>`."
        )
        text = f"{HEADER}\n\n**{head}**\n\n```yaml\n{yaml_text}```\n\n"
        return self._final(text + f"**{vtitle}**\n\n{val}\n\n{note}\n", messages)
