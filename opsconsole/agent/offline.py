"""The built-in offline planner: a :class:`~opsconsole.agent.model.ModelClient` with no network.

It is used when no API key is configured or with ``--offline``, through the very same agent
loop as a real model. It is stateless: every call derives everything from ``messages`` — the
latest user message is the task, the tool messages after it are the observations so far, and
names seen in any earlier observation help resolve what the user refers to. Each turn either
asks for real tool calls (with a short "thought" first, so the trace shows a Thought) or gives
the final answer: root cause, evidence quoted from the observations, and next steps, labelled
as coming from the offline planner. It only calls tools present in the offered ``tools``
array, never plans a mutating call, and stops after a bounded number of steps.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

from opsconsole.agent import offline_answers as ans
from opsconsole.agent.model import (
    ModelStreamItem,
    ModelTurn,
    TextChunk,
    ToolCallRequest,
    Usage,
)
from opsconsole.agent.offline_intents import Intent, Known, parse_intent
from opsconsole.agent.offline_observe import (
    Finding,
    Observation,
    Transcript,
    all_findings,
    known_names,
    match_pods,
    parse_findings,
    read_transcript,
)

DEFAULT_NAMESPACE = "default"
MUTATING = frozenset({"delete_pod", "scale_deployment", "rollout_restart"})
_CRASHY = ("crashloop", "oomkilled", "error", "back-off", "backoff", "restart")


@dataclass(frozen=True)
class Call:
    name: str
    args: dict[str, Any]


@dataclass(frozen=True)
class Step:
    """Ask for tool calls; ``thought`` is shown before them."""

    thought: str
    calls: list[Call]


@dataclass(frozen=True)
class Final:
    text: str


Decision = Step | Final


# --- planning context --------------------------------------------------------------------


@dataclass
class _Ctx:
    tr: Transcript
    intent: Intent
    offered: dict[str, dict[str, Any]]
    known: Known
    findings: list[Finding]
    max_steps: int
    done: set[str] = field(default_factory=set)

    @property
    def zh(self) -> bool:
        return self.intent.language == "zh"

    def say(self, zh: str, en: str) -> str:
        return zh if self.zh else en

    def props(self, name: str) -> dict[str, Any]:
        schema = self.offered.get(name) or {}
        return dict(schema.get("properties") or {})

    def supports(self, name: str, arg: str) -> bool:
        return arg in self.props(name)

    def call(self, name: str, /, **args: Any) -> Call | None:
        """A call to ``name`` with the arguments its schema knows, unless done or not offered."""
        if name not in self.offered or name in MUTATING:
            return None
        props = self.props(name)
        required = set((self.offered[name] or {}).get("required") or [])
        clean = {k: v for k, v in args.items() if v is not None and (not props or k in props)}
        if any(r not in clean for r in required):
            return None
        key = _key(name, clean)
        if key in self.done:
            return None
        return Call(name, clean)

    def called(self, name: str, /, **match: Any) -> list[Observation]:
        out = []
        for o in self.tr.current:
            if o.name == name and all(o.args.get(k) == v for k, v in match.items()):
                out.append(o)
        return out


def _key(name: str, args: dict[str, Any]) -> str:
    return name + json.dumps(args, sort_keys=True, ensure_ascii=False)


def _offered(tools: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    out: dict[str, dict[str, Any]] = {}
    for tool in tools or []:
        fn = tool.get("function") if isinstance(tool, dict) else None
        if isinstance(fn, dict) and fn.get("name"):
            out[str(fn["name"])] = dict(fn.get("parameters") or {})
    return out


def _step(thought: str, calls: list[Call | None]) -> Step | None:
    real = [c for c in calls if c is not None]
    return Step(thought, real) if real else None


# --- the planner -------------------------------------------------------------------------


def plan(
    messages: list[dict[str, Any]],
    tools: list[dict[str, Any]],
    *,
    language: str = "auto",
    max_steps: int = 6,
) -> Decision:
    """Decide the next move from the transcript alone (pure; used by :class:`OfflinePlanner`)."""
    tr = read_transcript(messages)
    intent = parse_intent(tr.task, language=language, known=known_names(tr.earlier))
    all_obs = tr.all
    ctx = _Ctx(
        tr=tr,
        intent=intent,
        offered=_offered(tools),
        known=known_names(all_obs),
        findings=all_findings(all_obs),
        max_steps=max_steps,
        done={_key(o.name, o.args) for o in tr.current},
    )
    if intent.kind == "help":
        return Final(ans.help_answer(intent.language, unsupported=False, task=tr.task))
    if intent.kind == "unknown":
        return Final(ans.help_answer(intent.language, unsupported=True, task=tr.task))
    if intent.kind == "mutate":
        return Final(ans.mutate_answer(intent))
    if not ctx.offered:
        return Final(ans.help_answer(intent.language, unsupported=True, task=tr.task))
    handler = _HANDLERS[intent.kind]
    out_of_steps = tr.steps >= max_steps
    decision = handler(ctx, out_of_steps)
    if isinstance(decision, Step) and out_of_steps:
        return Final(_fallback(ctx))
    return decision


def _fallback(ctx: _Ctx) -> str:
    """An answer from whatever was observed, when steps ran out or nothing else applies."""
    if ctx.findings:
        return ans.findings_answer(ctx.intent, ctx.findings, None)
    if ctx.tr.current:
        last = ctx.tr.current[-1]
        return ans.listing_answer(ctx.intent, last, "观察结果", "What the tools returned")
    return ans.help_answer(ctx.intent.language, unsupported=True, task=ctx.tr.task)


def _first_error(obs: list[Observation]) -> Observation | None:
    for o in obs:
        if ans.is_error(o):
            return o
    return None


# --- simple listings -----------------------------------------------------------------------


def _listing(
    ctx: _Ctx, tool: str, args: dict[str, Any], thought: tuple[str, str], title: tuple[str, str]
) -> Decision:
    obs = ctx.called(tool)
    if not obs:
        step = _step(ctx.say(*thought), [ctx.call(tool, **args)])
        if step is None:
            return Final(_missing_tool(ctx, tool))
        return step
    err = _first_error(obs)
    if err is not None:
        return Final(ans.error_answer(ctx.intent, err))
    findings = parse_findings(obs[-1].content)
    if findings and tool == "find_unhealthy_pods":
        return Final(ans.findings_answer(ctx.intent, findings, obs[-1]))
    return Final(ans.listing_answer(ctx.intent, obs[-1], *title))


def _missing_tool(ctx: _Ctx, tool: str) -> str:
    head = ans.HEADER
    if ctx.zh:
        return f"{head}\n\n当前没有提供工具 `{tool}`，离线规划器无法完成这个请求。\n"
    return f"{head}\n\nThe tool `{tool}` is not offered, so the offline planner cannot do this.\n"


def _ns(ctx: _Ctx) -> str:
    return ctx.intent.namespace or DEFAULT_NAMESPACE


def _pods(ctx: _Ctx, out_of_steps: bool) -> Decision:
    ns = _ns(ctx)
    if (
        ctx.intent.all_namespaces
        and not ctx.intent.namespace
        and "find_unhealthy_pods" in ctx.offered
    ):
        return _unhealthy(ctx, out_of_steps)
    return _listing(
        ctx,
        "get_k8s_pods",
        {"namespace": ns},
        (
            f"先列出 {ns} 命名空间的 Pod，看看哪些不正常。",
            f"Listing the pods of namespace {ns} to see which are not healthy.",
        ),
        (f"{ns} 命名空间的 Pod", f"Pods in namespace {ns}"),
    )


def _unhealthy(ctx: _Ctx, out_of_steps: bool) -> Decision:
    ns = ctx.intent.namespace
    args: dict[str, Any] = {}
    if ns and ctx.supports("find_unhealthy_pods", "namespace"):
        args["namespace"] = ns
    if "find_unhealthy_pods" not in ctx.offered:
        return (
            _pods(ctx, out_of_steps)
            if "get_k8s_pods" in ctx.offered
            else Final(_missing_tool(ctx, "find_unhealthy_pods"))
        )
    return _listing(
        ctx,
        "find_unhealthy_pods",
        args,
        (
            "先用分析器扫描所有命名空间，找出不健康的 Pod 及其原因。",
            "Scanning all namespaces with the analyzers for unhealthy pods and their reasons.",
        ),
        ("不健康的 Pod", "Unhealthy pods"),
    )


def _usage(ctx: _Ctx, out_of_steps: bool) -> Decision:
    args: dict[str, Any] = {}
    if ctx.intent.namespace:
        args["namespace"] = ctx.intent.namespace
    where = f" {ctx.intent.namespace} " if ctx.intent.namespace else ""
    return _listing(
        ctx,
        "get_resource_usage",
        args,
        (
            f"读取{where or '集群的'}资源使用（metrics）。".replace("  ", " "),
            f"Reading resource usage (metrics){' in' + where if where else ''}.",
        ),
        ("资源使用情况", "Resource usage"),
    )


def _nodes(ctx: _Ctx, out_of_steps: bool) -> Decision:
    return _listing(
        ctx,
        "get_nodes",
        {},
        (
            "查看所有节点的状态、压力与容量。",
            "Checking every node's status, pressure and capacity.",
        ),
        ("节点状态", "Nodes"),
    )


def _events(ctx: _Ctx, out_of_steps: bool) -> Decision:
    args: dict[str, Any] = {}
    if ctx.intent.namespace:
        args["namespace"] = ctx.intent.namespace
    elif ctx.supports("get_events", "namespace") and "namespace" in (
        ctx.offered["get_events"].get("required") or []
    ):
        args["namespace"] = DEFAULT_NAMESPACE
    if ctx.supports("get_events", "warnings_only"):
        args["warnings_only"] = True
    return _listing(
        ctx,
        "get_events",
        args,
        ("查看最近的事件，重点看 Warning。", "Reading recent events, warnings first."),
        ("最近的事件", "Recent events"),
    )


def _deployments(ctx: _Ctx, out_of_steps: bool) -> Decision:
    ns = _ns(ctx)
    return _listing(
        ctx,
        "get_deployments",
        {"namespace": ns},
        (
            f"列出 {ns} 命名空间的 Deployment 及其副本可用情况。",
            f"Listing the deployments of namespace {ns} and their available replicas.",
        ),
        (f"{ns} 命名空间的 Deployment", f"Deployments in namespace {ns}"),
    )


# --- resolving a name -------------------------------------------------------------------


def _best_pod(ctx: _Ctx, matches: list[tuple[str, str]]) -> tuple[str, str]:
    """Of several matching pods, the one with a finding (the unhealthiest), else the first."""
    flagged = {(f.namespace, f.name) for f in ctx.findings if f.kind == "pod"}
    for m in matches:
        if m in flagged:
            return m
    return matches[0]


def _resolve_pod(ctx: _Ctx, target: str) -> tuple[str, str] | Step | None:
    """Find the pod ``target`` refers to, or the next calls that would find it, or None."""
    ns = ctx.intent.namespace
    matches = match_pods(target, ctx.known, ns)
    if matches:
        return _best_pod(ctx, matches)
    calls: list[Call | None] = []
    if ns:
        calls.append(ctx.call("get_k8s_pods", namespace=ns))
    if not ctx.called("find_unhealthy_pods"):
        calls.append(ctx.call("find_unhealthy_pods"))
    step = _step(
        ctx.say(
            f"先找到 {target} 对应的 Pod：列出 Pod 并用分析器扫描异常。",
            f"First finding the pod behind {target}: listing pods and scanning for problems.",
        ),
        calls,
    )
    if step is not None:
        return step
    # not in the unhealthy ones: list the namespaces seen so far (bounded), default first
    spaces = [DEFAULT_NAMESPACE] + sorted(ctx.known.namespaces - {DEFAULT_NAMESPACE})
    calls = [ctx.call("get_k8s_pods", namespace=s) for s in ([ns] if ns else spaces[:6])]
    return _step(
        ctx.say(f"在各命名空间里查找 {target}。", f"Looking for {target} in each namespace."), calls
    )


def _pod_is_crashy(ctx: _Ctx, ns: str, pod: str) -> bool:
    for f in ctx.findings:
        if f.namespace == ns and f.name == pod:
            low = (f.reason + " " + f.evidence).lower()
            if any(w in low for w in _CRASHY):
                return True
    for o in ctx.tr.all:
        if o.name not in ("get_k8s_pods", "find_unhealthy_pods"):
            continue
        for line in o.content.splitlines():
            if pod in line.split():
                low = line.lower()
                if any(w in low for w in ("crashloop", "oomkilled", "error")):
                    return True
    return ctx.intent.previous


def _log_calls(ctx: _Ctx, ns: str, pod: str) -> list[Call | None]:
    lines = ctx.intent.lines or 100
    calls = [ctx.call("get_pod_logs", namespace=ns, pod_name=pod, lines=lines)]
    if _pod_is_crashy(ctx, ns, pod) and ctx.supports("get_pod_logs", "previous"):
        calls.append(
            ctx.call("get_pod_logs", namespace=ns, pod_name=pod, lines=lines, previous=True)
        )
    return calls


# --- logs ----------------------------------------------------------------------------------


def _logs(ctx: _Ctx, out_of_steps: bool) -> Decision:
    target = ctx.intent.target
    if not target:
        if not ctx.called("get_k8s_pods"):
            return _pods(ctx, out_of_steps)
        text = ctx.say(
            "要看哪个 Pod 的日志？请告诉我 Pod 名称，例如 “看看 shop 里 api-xxx 的日志”。",
            'Which pod\'s logs? Tell me its name, e.g. "show logs of pod api-xxx in ns shop".',
        )
        return Final(f"{ans.HEADER}\n\n{text}\n")
    got = _resolve_pod(ctx, target)
    if isinstance(got, Step):
        return got
    if got is None:
        return Final(_not_found(ctx, target))
    ns, pod = got
    logs = ctx.called("get_pod_logs", pod_name=pod)
    if not logs:
        step = _step(
            ctx.say(f"读取 {ns}/{pod} 的日志。", f"Reading the logs of {ns}/{pod}."),
            _log_calls(ctx, ns, pod),
        )
        return step or Final(_missing_tool(ctx, "get_pod_logs"))
    ok = [o for o in logs if not ans.is_error(o)]
    if not ok:
        return Final(ans.error_answer(ctx.intent, logs[0]))
    mine = [f for f in ctx.findings if f.namespace == ns and f.name == pod]
    return Final(ans.logs_answer(ctx.intent, ns, pod, ok, mine))


# --- diagnosis -----------------------------------------------------------------------------


def _findings_about(ctx: _Ctx, target: str, ns: str | None = None) -> list[Finding]:
    out = []
    for f in ctx.findings:
        if ns and f.namespace and f.namespace != ns:
            continue
        if f.name == target or f.name.startswith(target + "-") or target in f.name:
            out.append(f)
    return out


def _diagnose(ctx: _Ctx, out_of_steps: bool) -> Decision:
    target = ctx.intent.target
    if not target:
        return _unhealthy(ctx, out_of_steps)
    kind = ctx.intent.target_kind
    if kind == "node" or (target in ctx.known.nodes and kind is None):
        return _diagnose_node(ctx, target)
    if kind == "service":
        return _diagnose_service(ctx, target)
    got = _resolve_pod(ctx, target)
    if isinstance(got, Step):
        return got
    if got is None:
        return _diagnose_other(ctx, target)
    ns, pod = got
    calls = [
        ctx.call("describe_pod", namespace=ns, pod_name=pod, name=pod),
        ctx.call("get_events", namespace=ns, pod_name=pod, name=pod)
        if not ctx.called("get_events", namespace=ns)
        else None,
        *(_log_calls(ctx, ns, pod) if not ctx.called("get_pod_logs", pod_name=pod) else []),
    ]
    step = _step(
        ctx.say(
            f"定位到 Pod {ns}/{pod}，接着查看它的 describe、事件和日志"
            "（含崩溃前的 previous 日志）。",
            f"Found pod {ns}/{pod}; now reading its description, events and logs (including "
            "the previous container's logs if it crashed).",
        ),
        calls,
    )
    if step is not None:
        return step
    findings = [f for f in ctx.findings if f.namespace == ns and f.name == pod]
    findings += [f for f in _findings_about(ctx, _deploy(pod), ns) if f not in findings]
    obs = [o for o in ctx.tr.current if o.name in ("describe_pod", "get_events", "get_pod_logs")]
    return Final(ans.diagnosis_answer(ctx.intent, f"{ns}/{pod}", ns, pod, findings, obs))


def _deploy(pod: str) -> str:
    return ans._deployment_of(pod)


def _diagnose_node(ctx: _Ctx, target: str) -> Decision:
    calls = [ctx.call("get_nodes")]
    if not ctx.called("find_unhealthy_pods"):
        calls.append(ctx.call("find_unhealthy_pods"))
    step = _step(
        ctx.say(
            f"查看节点 {target} 的状态与压力条件。",
            f"Checking node {target}'s status and pressure conditions.",
        ),
        calls,
    )
    if step is not None:
        return step
    nodes = ctx.called("get_nodes")
    findings = _findings_about(ctx, target)
    obs = []
    for o in nodes:
        lines = [ln for ln in o.content.splitlines() if target in ln]
        obs.append(Observation(o.call_id, o.name, o.args, "\n".join(lines) or o.content))
    if not findings and not any(target in o.content for o in nodes):
        return Final(_not_found(ctx, target))
    return Final(ans.diagnosis_answer(ctx.intent, f"node/{target}", None, target, findings, obs))


def _diagnose_service(ctx: _Ctx, target: str) -> Decision:
    ns = ctx.intent.namespace
    calls = [ctx.call("find_unhealthy_pods")]
    if ns:
        calls.append(ctx.call("get_events", namespace=ns))
    step = _step(
        ctx.say(
            f"检查 Service {target} 的后端 Pod 与相关告警。",
            f"Checking service {target}'s backing pods and related warnings.",
        ),
        calls,
    )
    if step is not None:
        return step
    findings = _findings_about(ctx, target, ns)
    if findings:
        f = findings[0]
        obs = [o for o in ctx.tr.current if o.name == "get_events"]
        return Final(ans.diagnosis_answer(ctx.intent, f.ref, f.namespace, f.name, findings, obs))
    return _diagnose_other(ctx, target)


def _diagnose_other(ctx: _Ctx, target: str) -> Decision:
    """No pod matched: a deployment with no pods, a node, or a finding about something else."""
    ns = ctx.intent.namespace
    findings = _findings_about(ctx, target, ns)
    if findings:
        f = findings[0]
        obs: list[Observation] = []
        if f.namespace and not ctx.called("get_events", namespace=f.namespace):
            step = _step(
                ctx.say(
                    f"分析器指出了 {f.ref} 的问题，再看看相关事件。",
                    f"The analyzers flag {f.ref}; reading the related events.",
                ),
                [ctx.call("get_events", namespace=f.namespace)],
            )
            if step is not None:
                return step
        obs = [o for o in ctx.tr.current if o.name == "get_events"]
        return Final(ans.diagnosis_answer(ctx.intent, f.ref, f.namespace, f.name, findings, obs))
    deps = [d for d in ctx.known.deployments if d[1] == target and (not ns or d[0] == ns)]
    if not deps:
        spaces = [ns] if ns else sorted(ctx.known.namespaces | {DEFAULT_NAMESPACE})[:6]
        calls: list[Call | None] = [ctx.call("get_deployments", namespace=s) for s in spaces]
        if not ctx.called("get_nodes"):
            calls.append(ctx.call("get_nodes"))
        step = _step(
            ctx.say(
                f"没有名为 {target} 的异常 Pod，再查 Deployment 和节点。",
                f"No pod named {target}; checking deployments and nodes.",
            ),
            calls,
        )
        if step is not None:
            return step
        if target in ctx.known.nodes:
            return _diagnose_node(ctx, target)
        deps = [d for d in ctx.known.deployments if d[1] == target and (not ns or d[0] == ns)]
    if deps:
        dns, name = deps[0]
        obs = []
        for o in ctx.called("get_deployments"):
            lines = [ln for ln in o.content.splitlines() if name in ln]
            if lines:
                obs.append(Observation(o.call_id, o.name, o.args, "\n".join(lines)))
        if not ctx.called("get_events", namespace=dns):
            step = _step(
                ctx.say(f"查看 {dns} 命名空间的事件。", f"Reading events in {dns}."),
                [ctx.call("get_events", namespace=dns)],
            )
            if step is not None:
                return step
        obs += [o for o in ctx.called("get_events", namespace=dns)]
        return Final(
            ans.diagnosis_answer(ctx.intent, f"deployment/{dns}/{name}", dns, name, [], obs)
        )
    return Final(_not_found(ctx, target))


def _not_found(ctx: _Ctx, target: str) -> str:
    pods = sorted(f"{ns}/{p}" for ns, p in ctx.known.pods)
    return ans.not_found_answer(ctx.intent, target, ctx.findings, pods)


_HANDLERS = {
    "pods": _pods,
    "logs": _logs,
    "diagnose": _diagnose,
    "unhealthy": _unhealthy,
    "usage": _usage,
    "nodes": _nodes,
    "events": _events,
    "deployments": _deployments,
}


# --- the model client ----------------------------------------------------------------------


def _estimate_tokens(*parts: Any) -> int:
    n = 0
    for p in parts:
        n += len(p) if isinstance(p, str) else len(json.dumps(p, ensure_ascii=False, default=str))
    return max(1, n // 4)


class OfflinePlanner:
    """A ModelClient that plans tool calls and answers without any network or model."""

    label = "offline planner"
    offline = True

    def __init__(self, language: str = "auto", *, max_steps: int = 6) -> None:
        self.language = language if language in ("auto", "zh", "en") else "auto"
        self.max_steps = max_steps

    async def run_turn(
        self, messages: list[dict[str, Any]], tools: list[dict[str, Any]]
    ) -> AsyncIterator[ModelStreamItem]:
        decision = plan(messages, tools, language=self.language, max_steps=self.max_steps)
        prompt = _estimate_tokens(messages, tools)
        if isinstance(decision, Final):
            text = decision.text
            for piece in _pieces(text):
                yield TextChunk(piece)
            yield ModelTurn(
                content=text,
                finish_reason="stop",
                usage=Usage(prompt_tokens=prompt, completion_tokens=_estimate_tokens(text)),
            )
            return
        base = read_transcript(messages).total_calls
        calls = [
            ToolCallRequest(
                id=f"call_offline_{base + i + 1}",
                name=c.name,
                arguments=json.dumps(c.args, ensure_ascii=False),
            )
            for i, c in enumerate(decision.calls)
        ]
        yield TextChunk(decision.thought)
        yield ModelTurn(
            content=decision.thought,
            tool_calls=calls,
            finish_reason="tool_calls",
            usage=Usage(
                prompt_tokens=prompt,
                completion_tokens=_estimate_tokens(decision.thought, [c.arguments for c in calls]),
            ),
        )


def _pieces(text: str, size: int = 400) -> list[str]:
    """The answer in a few chunks, cut at line ends, so it streams like a model's."""
    out: list[str] = []
    buf = ""
    for line in text.splitlines(keepends=True):
        buf += line
        if len(buf) >= size:
            out.append(buf)
            buf = ""
    if buf:
        out.append(buf)
    return out or [text]
