"""The offline planner's decision function: from the transcript to the next move.

:func:`plan` is pure: given the OpenAI-format ``messages`` and the offered ``tools`` it returns
either a :class:`Step` (a thought and the tool calls to make) or a :class:`Final` answer.
Simple requests (pods, usage, nodes, events, deployments, unhealthy pods) are one tool call and
an answer; logs and diagnosis live in :mod:`opsconsole.planner.diagnose`.
"""

from __future__ import annotations

from typing import Any

from opsconsole.planner import answers as ans
from opsconsole.planner.context import (
    DEFAULT_NAMESPACE,
    Ctx,
    Decision,
    Final,
    Step,
    call_key,
    first_error,
    focus_pod,
    make_step,
    missing_tool,
    namespace_or_default,
    not_found,
    offered_tools,
    refers_back,
)
from opsconsole.planner.diagnose import diagnose, logs
from opsconsole.planner.facts import (
    all_findings,
    connectivity_error,
    findings_in,
    known_names,
    match_pods,
)
from opsconsole.planner.gpu import gpu
from opsconsole.planner.intents import parse_intent
from opsconsole.planner.markdown import HEADER
from opsconsole.planner.mutate import plan_mutation
from opsconsole.planner.observations import Observation, read_transcript


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
    ctx = Ctx(
        tr=tr,
        intent=intent,
        offered=offered_tools(tools),
        known=known_names(all_obs),
        findings=all_findings(all_obs),
        max_steps=max_steps,
        done={call_key(o.name, o.args) for o in tr.current},
        default_ns=tr.default_namespace or DEFAULT_NAMESPACE,
    )
    if intent.kind == "greeting":
        return Final(ans.greeting_answer(intent.language))
    if intent.kind == "help":
        return Final(ans.help_answer(intent.language, unsupported=False, task=tr.task))
    if intent.kind == "unknown":
        return Final(ans.help_answer(intent.language, unsupported=True, task=tr.task))
    if not ctx.offered:
        return Final(ans.help_answer(intent.language, unsupported=True, task=tr.task))
    down = _cluster_down(ctx)
    if down is not None:
        kind, errors = down
        return Final(ans.unreachable_answer(intent, errors, kind, tr.context))
    if intent.kind == "mutate":
        return plan_mutation(ctx)
    handler = _HANDLERS[intent.kind]
    out_of_steps = tr.steps >= max_steps
    decision = handler(ctx, out_of_steps)
    if isinstance(decision, Step) and out_of_steps:
        return Final(_fallback(ctx))
    return decision


def _cluster_down(ctx: Ctx) -> tuple[str, list[Observation]] | None:
    """(kind, errors) when every call of this turn failed and at least one says the cluster
    cannot be used at all: there is nothing more to look up, and no name to conclude about."""
    current = ctx.tr.current
    if not current or not all(o.failed for o in current):
        return None
    kinds = [k for k in (connectivity_error(o) for o in current) if k is not None]
    if not kinds:
        return None
    return kinds[-1], [o for o in current if connectivity_error(o) is not None]


def _fallback(ctx: Ctx) -> str:
    """An answer from whatever was observed, when steps ran out or nothing else applies."""
    if ctx.findings:
        return ans.findings_answer(ctx.intent, ctx.findings, None)
    if ctx.tr.current:
        last = ctx.tr.current[-1]
        return ans.listing_answer(ctx.intent, last, "观察结果", "What the tools returned")
    return ans.help_answer(ctx.intent.language, unsupported=True, task=ctx.tr.task)


# --- simple listings ---------------------------------------------------------------------


def _listing(
    ctx: Ctx,
    tool: str,
    args: dict[str, Any],
    thought: tuple[str, str],
    title: tuple[str, str],
    *,
    only: str | None = None,
) -> Decision:
    """One call, then its output with the rows that need attention.

    ``only``: keep the rows that mention this name (a namespace or object the user named).
    """
    obs = ctx.called(tool)
    if not obs:
        step = make_step(ctx.say(*thought), [ctx.call(tool, **args)])
        if step is None:
            return Final(missing_tool(ctx, tool))
        return step
    err = first_error(obs)
    if err is not None:
        return Final(ans.error_answer(ctx.intent, err))
    findings = findings_in(obs[-1])
    if findings and tool == "find_unhealthy_pods":
        return Final(ans.findings_answer(ctx.intent, findings, obs[-1]))
    return Final(ans.listing_answer(ctx.intent, obs[-1], *title, only=only))


def _pods(ctx: Ctx, out_of_steps: bool) -> Decision:
    ns = namespace_or_default(ctx)
    if (
        ctx.intent.all_namespaces
        and not ctx.intent.namespace
        and "find_unhealthy_pods" in ctx.offered
    ):
        return _unhealthy(ctx, out_of_steps)
    target = ctx.intent.target
    if not ctx.intent.namespace and target:
        return _pods_of(ctx, target)
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


def _has_pods(o: Observation) -> bool:
    total = o.data.get("total")
    return not o.failed and isinstance(total, int) and total > 0


def _pods_of(ctx: Ctx, target: str) -> Decision:
    """Pods of "X": X is a namespace if it has pods, else a workload in the known namespaces."""
    as_ns = ctx.called("get_k8s_pods", namespace=target)
    if not as_ns:
        step = make_step(
            ctx.say(
                f"先把 {target} 当作命名空间列出 Pod。",
                f"Listing the pods of {target}, taken as a namespace first.",
            ),
            [ctx.call("get_k8s_pods", namespace=target)],
        )
        if step is not None:
            return step
    elif _has_pods(as_ns[-1]):
        title = (f"{target} 命名空间的 Pod", f"Pods in namespace {target}")
        return Final(ans.listing_answer(ctx.intent, as_ns[-1], *title))
    # not a namespace: the pods of a workload named so, in the namespace that has them
    matches = match_pods(target, ctx.known)
    if not matches:
        calls = [ctx.call("get_k8s_pods", namespace=ctx.default_ns)]
        if not ctx.called("find_unhealthy_pods"):
            calls.append(ctx.call("find_unhealthy_pods"))
        step = make_step(
            ctx.say(
                f"{target} 不是命名空间，找找叫这个名字的工作负载。",
                f"{target} is not a namespace; looking for a workload of that name.",
            ),
            calls,
        )
        if step is not None:
            return step
        matches = match_pods(target, ctx.known)
    if not matches:
        return Final(not_found(ctx, target))
    ns = matches[0][0]
    listed = ctx.called("get_k8s_pods", namespace=ns)
    if not listed:
        step = make_step(
            ctx.say(
                f"列出 {ns} 命名空间里 {target} 的 Pod。",
                f"Listing the pods of {target} in namespace {ns}.",
            ),
            [ctx.call("get_k8s_pods", namespace=ns)],
        )
        if step is not None:
            return step
        return Final(not_found(ctx, target))
    title = (f"{ns} 命名空间的 Pod", f"Pods in namespace {ns}")
    return Final(ans.listing_answer(ctx.intent, listed[-1], *title, only=target))


def _unhealthy(ctx: Ctx, out_of_steps: bool) -> Decision:
    focus = focus_pod(ctx)
    if focus is not None and refers_back(ctx) and not ctx.intent.namespace:
        return diagnose(ctx, focus[1])
    ns = ctx.intent.namespace
    args: dict[str, Any] = {}
    if ns and ctx.supports("find_unhealthy_pods", "namespace"):
        args["namespace"] = ns
    if "find_unhealthy_pods" not in ctx.offered:
        return (
            _pods(ctx, out_of_steps)
            if "get_k8s_pods" in ctx.offered
            else Final(missing_tool(ctx, "find_unhealthy_pods"))
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


def _usage(ctx: Ctx, out_of_steps: bool) -> Decision:
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


def _nodes(ctx: Ctx, out_of_steps: bool) -> Decision:
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


def _events(ctx: Ctx, out_of_steps: bool) -> Decision:
    args: dict[str, Any] = {}
    if ctx.intent.namespace:
        args["namespace"] = ctx.intent.namespace
    elif ctx.supports("get_events", "namespace") and "namespace" in (
        ctx.offered["get_events"].get("required") or []
    ):
        args["namespace"] = ctx.default_ns
    if ctx.supports("get_events", "warnings_only"):
        args["warnings_only"] = True
    return _listing(
        ctx,
        "get_events",
        args,
        ("查看最近的事件，重点看 Warning。", "Reading recent events, warnings first."),
        ("最近的事件", "Recent events"),
        only=None if ctx.intent.namespace else ctx.intent.target,
    )


def _deployments(ctx: Ctx, out_of_steps: bool) -> Decision:
    required = (ctx.offered.get("get_deployments") or {}).get("required") or []
    if not ctx.intent.namespace and "namespace" not in required:
        return _listing(
            ctx,
            "get_deployments",
            {},
            (
                "列出所有命名空间的 Deployment 及其副本可用情况。",
                "Listing the deployments of all namespaces and their available replicas.",
            ),
            ("所有命名空间的 Deployment", "Deployments in all namespaces"),
        )
    ns = namespace_or_default(ctx)
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


def _logs(ctx: Ctx, out_of_steps: bool) -> Decision:
    if ctx.intent.target:
        return logs(ctx, ctx.intent.target)
    focus = focus_pod(ctx)
    if focus is not None:
        return logs(ctx, focus[1])
    if not ctx.called("get_k8s_pods"):
        return _pods(ctx, out_of_steps)
    text = ctx.say(
        "要看哪个 Pod 的日志？请告诉我 Pod 名称，例如 “看看 shop 里 api-xxx 的日志”。",
        'Which pod\'s logs? Tell me its name, e.g. "show logs of pod api-xxx in ns shop".',
    )
    return Final(f"{HEADER}\n\n{text}\n")


def _diagnose(ctx: Ctx, out_of_steps: bool) -> Decision:
    if ctx.intent.target:
        return diagnose(ctx, ctx.intent.target)
    focus = focus_pod(ctx)
    if focus is not None and refers_back(ctx):
        return diagnose(ctx, focus[1])
    return _unhealthy(ctx, out_of_steps)


def _security(ctx: Ctx, out_of_steps: bool) -> Decision:
    args: dict[str, Any] = {}
    if ctx.intent.namespace:
        args["namespace"] = ctx.intent.namespace
    tool = "find_security_issues"
    obs = ctx.called(tool)
    if not obs:
        where = ctx.intent.namespace or ctx.say("所有命名空间", "all namespaces")
        step = make_step(
            ctx.say(
                f"扫描 {where} 的 Pod 规格，找出安全风险。",
                f"Scanning the pod specs in {where} for security risks.",
            ),
            [ctx.call(tool, **args)],
        )
        if step is None:
            text = ctx.say(
                "这是安全类问题，但这里没有提供安全扫描工具（find_security_issues）。"
                "请直接问安全 Agent，例如：“@security 检查 shop 命名空间的明文密码”。",
                "This is a security question, but no security scan tool (find_security_issues) "
                'is offered here. Ask the Security agent, e.g. "@security check shop for '
                'passwords in plain env vars".',
            )
            return Final(f"{HEADER}\n\n{text}\n")
        return step
    err = first_error(obs)
    if err is not None:
        return Final(ans.error_answer(ctx.intent, err))
    return Final(ans.security_answer(ctx.intent, findings_in(obs[-1]), obs[-1]))


def _gpu(ctx: Ctx, out_of_steps: bool) -> Decision:
    return gpu(ctx)


_HANDLERS = {
    "gpu": _gpu,
    "security": _security,
    "pods": _pods,
    "logs": _logs,
    "diagnose": _diagnose,
    "unhealthy": _unhealthy,
    "usage": _usage,
    "nodes": _nodes,
    "events": _events,
    "deployments": _deployments,
}
