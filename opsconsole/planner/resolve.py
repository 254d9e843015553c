"""Finding the object a change is about, before the offline planner proposes the change.

A request names a deployment or a pod loosely: "restart the checkout deployment" (in which
namespace?), "delete the ledger pod" (which of its pods?), "delete the crashlooping pods" (a
state, not a name). :func:`resolve` turns one :class:`Want` into the calls to propose
(:class:`Resolved`), the read-only lookups still needed (a list of calls), or a
:class:`Problem` to explain (not found, ambiguous, no replica count). Lookups are always made
in the current turn, so a change is never proposed from a stale listing.

Rules, as an SRE would expect them:

- A namespace the user names is taken as given; a deployment of that name elsewhere is only
  suggested, never silently substituted.
- Without one, the object is looked up in every namespace. One match is used (the thought says
  where it was found); several: the console's namespace wins if it has one, else the user is
  asked which.
- "the crashlooping pod(s)" selects the pods the analyzers report in that state; each one
  becomes its own call, so each deletion gets its own approval. More than :data:`MAX_PODS`:
  the user is asked to narrow it down.
- "the ledger pod" (a workload's name): its only pod, or its only unhealthy pod; else the user
  is asked which one.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from opsconsole.planner.causes import is_security
from opsconsole.planner.context import Call, Ctx
from opsconsole.planner.facts import (
    Finding,
    all_findings,
    deployment_of,
    error_text,
    known_names,
    match_pods,
)
from opsconsole.planner.intents import Intent
from opsconsole.planner.observations import Observation
from opsconsole.planner.vocabulary import vocabulary

TOOL_FOR_VERB = {"scale": "scale_deployment", "restart": "rollout_restart", "delete": "delete_pod"}
#: at most this many pods are proposed for one state ("the crashlooping pods")
MAX_PODS = 5


@dataclass(frozen=True)
class Want:
    """One change the user asked for."""

    verb: str  # delete | scale | restart | rollback
    intent: Intent
    target: str | None
    namespace: str | None
    state: str | None = None
    replicas: int | None = None

    @property
    def tool(self) -> str | None:
        return TOOL_FOR_VERB.get(self.verb)


@dataclass(frozen=True)
class Resolved:
    """The calls that make the change (one per pod for a state), and why these objects."""

    calls: list[Call]
    note_zh: str = ""
    note_en: str = ""
    #: for a state selection: (namespace, pod, reason, evidence) of each pod
    pods: list[tuple[str, str, str, str]] = field(default_factory=list)


@dataclass(frozen=True)
class Problem:
    zh: str
    en: str


Resolution = Resolved | Problem | list[Call]


def resolve(ctx: Ctx, want: Want) -> Resolution:
    if want.verb == "delete":
        if want.target:
            return _pod_by_name(ctx, want)
        if want.state:
            return _pods_by_state(ctx, want)
        return Problem(
            "要删除哪个 Pod？请写出 Pod 名称（或状态，例如“删除 CrashLoopBackOff 的 Pod”）。",
            'Which pod? Name it, or a state (e.g. "delete the crashlooping pods").',
        )
    if not want.target:
        return Problem(
            "要变更哪个 Deployment？请写出它的名称。",
            "Which deployment? Please name it.",
        )
    return _deployment(ctx, want)


# --- helpers -------------------------------------------------------------------------------


def _ok(ctx: Ctx, name: str) -> list[Observation]:
    return [o for o in ctx.called(name) if not o.failed]


def _first_error(ctx: Ctx, name: str) -> Observation | None:
    return next((o for o in ctx.called(name) if o.failed), None)


def _pending(*calls: Call | None) -> list[Call]:
    return [c for c in calls if c is not None]


def _refs(items: list[tuple[str, str]], limit: int = 10) -> str:
    return ", ".join(f"`{ns}/{name}`" for ns, name in items[:limit])


def _requires(ctx: Ctx, tool: str, arg: str) -> bool:
    return arg in ((ctx.offered.get(tool) or {}).get("required") or [])


# --- deployments ---------------------------------------------------------------------------


def _deployment_reads(ctx: Ctx, ns: str | None) -> list[Call]:
    """Listings that show where a deployment lives: all namespaces at once when the tool
    allows it, else the named (or the console's) namespace and the ones seen so far."""
    if "get_deployments" not in ctx.offered:
        return []
    if ns:
        if _ok(ctx, "get_deployments") and any(
            o.args.get("namespace") in (None, ns) for o in _ok(ctx, "get_deployments")
        ):
            return []
        return _pending(ctx.call("get_deployments", namespace=ns))
    if not _requires(ctx, "get_deployments", "namespace"):
        if any("namespace" not in o.args for o in ctx.called("get_deployments")):
            return []
        return _pending(ctx.call("get_deployments"))
    spaces = [ctx.default_ns, *sorted(ctx.known.namespaces - {ctx.default_ns})][:6]
    return _pending(*(ctx.call("get_deployments", namespace=s) for s in spaces))


def _deployment(ctx: Ctx, want: Want) -> Resolution:
    name, ns = str(want.target), want.namespace
    reads = _deployment_reads(ctx, ns)
    if reads:
        return reads
    deployments = sorted(known_names(_ok(ctx, "get_deployments")).deployments)
    if not deployments and (ns or "get_deployments" not in ctx.offered):
        # nothing to look it up with (or the listing failed): the user's namespace as given;
        # the dry run in the approval dialog still checks it exists
        return _deployment_call(want, ns or ctx.default_ns, "", "")
    if not deployments:
        err = _first_error(ctx, "get_deployments")
        why = error_text(err).splitlines()[0][:200] if err else "no deployments listed"
        return Problem(
            f"无法列出 Deployment（{why}），不知道 `{name}` 在哪个命名空间。请写明命名空间，"
            f"例如“重启 NAMESPACE 命名空间的 {name}”。",
            f"Cannot list deployments ({why}), so I do not know which namespace `{name}` is "
            f'in. Please name it, e.g. "restart {name} in namespace NAMESPACE".',
        )
    exact = [d for d in deployments if d[1] == name]
    similar = [d for d in deployments if d[1] != name and name in d[1]]
    if ns:
        if (ns, name) in exact:
            return _deployment_call(want, ns, "", "")
        elsewhere = exact or similar
        hint_zh = f"其他命名空间里有：{_refs(elsewhere)}。" if elsewhere else ""
        hint_en = f" Found elsewhere: {_refs(elsewhere)}." if elsewhere else ""
        return Problem(
            f"命名空间 `{ns}` 里没有名为 `{name}` 的 Deployment。{hint_zh}"
            "没有做任何变更；请确认名称与命名空间后再说一次。",
            f"There is no deployment `{name}` in namespace `{ns}`.{hint_en} Nothing was "
            "changed; check the name and namespace and ask again.",
        )
    if len(exact) == 1:
        where = exact[0][0]
        return _deployment_call(
            want,
            where,
            f"Deployment `{name}` 在命名空间 `{where}` 里。",
            f"Deployment `{name}` lives in namespace `{where}`.",
        )
    if exact:
        if (ctx.default_ns, name) in exact:
            others = [d for d in exact if d[0] != ctx.default_ns]
            return _deployment_call(
                want,
                ctx.default_ns,
                f"多个命名空间都有 `{name}`（另有 {_refs(others)}），按当前命名空间 "
                f"`{ctx.default_ns}` 处理。",
                f"`{name}` exists in several namespaces (also {_refs(others)}); using the "
                f"current namespace `{ctx.default_ns}`.",
            )
        return Problem(
            f"有多个名为 `{name}` 的 Deployment：{_refs(exact)}。没有做任何变更；请写明命名空间，"
            f"例如“重启 {exact[0][0]} 命名空间的 {name}”。",
            f"There are several deployments named `{name}`: {_refs(exact)}. Nothing was "
            f'changed; say which namespace, e.g. "restart {name} in namespace {exact[0][0]}".',
        )
    hint_zh = f"名称相近的有：{_refs(similar)}。" if similar else ""
    hint_en = f" Similar names: {_refs(similar)}." if similar else ""
    return Problem(
        f"在所有命名空间里都没有找到名为 `{name}` 的 Deployment。{hint_zh}没有做任何变更。",
        f"No deployment named `{name}` was found in any namespace.{hint_en} Nothing was changed.",
    )


def _deployment_call(want: Want, ns: str, note_zh: str, note_en: str) -> Resolution:
    name = str(want.target)
    if want.tool is None:  # rollback: no tool; the answer gives the command
        return Resolved([Call("rollout_undo", {"namespace": ns, "name": name})], note_zh, note_en)
    args: dict[str, Any] = {"namespace": ns, "name": name}
    if want.tool == "scale_deployment":
        if want.replicas is None:
            return Problem(
                f"要把 `{ns}/{name}` 扩缩到几个副本？请写明副本数，"
                f"例如“把 {name} 扩容到 3 个副本”。",
                f'How many replicas for `{ns}/{name}`? Say the count, e.g. "scale {name} to 3".',
            )
        args["replicas"] = want.replicas
    return Resolved([Call(want.tool, args)], note_zh, note_en)


# --- pods by state ---------------------------------------------------------------------------


def _state_matches(ctx: Ctx, state: str, ns: str | None) -> list[tuple[str, str, str, str]]:
    """(namespace, pod, reason, evidence) of the pods in ``state``, from this turn's reads."""
    spec = vocabulary().states[state]
    reasons, statuses = spec.reasons, spec.statuses
    out: dict[tuple[str, str], tuple[str, str, str, str]] = {}
    findings: list[Finding] = all_findings(_ok(ctx, "find_unhealthy_pods"))
    for f in findings:
        if f.kind != "pod" or not f.namespace or (ns and f.namespace != ns):
            continue
        if is_security(f):
            continue
        if reasons and f.reason not in reasons:
            continue
        out.setdefault((f.namespace, f.name), (f.namespace, f.name, f.reason, f.evidence))
    for o in _ok(ctx, "get_k8s_pods"):
        pod_ns = str(o.args.get("namespace") or "")
        if not pod_ns or (ns and pod_ns != ns) or not statuses:
            continue
        for item in o.items:
            name, status = str(item.get("name") or ""), str(item.get("status") or "")
            if name and status in statuses:
                line = str(item.get("line") or "").strip()
                out.setdefault((pod_ns, name), (pod_ns, name, status, line))
    return sorted(out.values())


def _pods_by_state(ctx: Ctx, want: Want) -> Resolution:
    state, ns = str(want.state), want.namespace
    scan_args = {"namespace": ns} if ns and ctx.supports("find_unhealthy_pods", "namespace") else {}
    reads = _pending(
        None if ctx.called("find_unhealthy_pods") else ctx.call("find_unhealthy_pods", **scan_args),
        ctx.call("get_k8s_pods", namespace=ns) if ns else None,
    )
    if reads:
        return reads
    if not _ok(ctx, "find_unhealthy_pods") and not _ok(ctx, "get_k8s_pods"):
        return Problem(
            "没能查到各 Pod 的状态（没有可用的扫描工具或读取失败），"
            "请直接写出 Pod 名称和命名空间。",
            "Could not read the pods' states (no scan tool, or the reads failed); please name "
            "the pod and its namespace.",
        )
    pods = _state_matches(ctx, state, ns)
    where_zh = f"命名空间 `{ns}` 里" if ns else "集群里"
    where_en = f"in namespace `{ns}`" if ns else "in the cluster"
    label = vocabulary().states[state].label
    if not pods:
        return Problem(
            f"{where_zh}没有处于 {label} 状态的 Pod，没有需要删除的，没有做任何变更。",
            f"No pod {where_en} is {label}: there is nothing to delete, and nothing was changed.",
        )
    refs = [(p[0], p[1]) for p in pods]
    if len(pods) > MAX_PODS:
        return Problem(
            f"{where_zh}有 {len(pods)} 个 {label} 的 Pod：{_refs(refs, 15)}。"
            "一次删除这么多风险较大，没有做任何变更；请缩小范围（写明命名空间或 Pod 名称）。",
            f"{len(pods)} pods {where_en} are {label}: {_refs(refs, 15)}. That is too many to "
            "delete at once; nothing was changed. Narrow it down (a namespace or pod names).",
        )
    calls = [Call("delete_pod", {"namespace": p[0], "pod_name": p[1]}) for p in pods]
    if len(pods) == 1:
        return Resolved(
            calls,
            f"{where_zh}只有一个 {label} 的 Pod：{_refs(refs)}。",
            f"Exactly one pod {where_en} is {label}: {_refs(refs)}.",
            pods,
        )
    return Resolved(
        calls,
        f"{where_zh}有 {len(pods)} 个 {label} 的 Pod：{_refs(refs)}。",
        f"{len(pods)} pods {where_en} are {label}: {_refs(refs)}.",
        pods,
    )


# --- a pod by name ---------------------------------------------------------------------------


def _pod_by_name(ctx: Ctx, want: Want) -> Resolution:
    target, ns = str(want.target), want.namespace
    if ns:
        reads = _pending(ctx.call("get_k8s_pods", namespace=ns))
        listed = ctx.called("get_k8s_pods", namespace=ns)
        if not reads and not any(not o.failed for o in listed):
            # no pod listing offered, or it failed: take the user's words as given (the dry
            # run in the approval dialog still checks that the pod exists)
            return _delete((ns, target), "", "")
    else:
        reads = _pending(
            None if ctx.called("find_unhealthy_pods") else ctx.call("find_unhealthy_pods"),
            *_deployment_reads(ctx, None),
        )
    if reads:
        return reads
    current = known_names(ctx.tr.current)
    matches = match_pods(target, current, ns)
    if not matches and not ns:
        # the pods of the workload the name points at, and of the console's namespace
        workload = deployment_of(target)
        spaces = sorted(
            {d[0] for d in current.deployments if d[1] in (workload, target)}
            | {d[0] for d in current.deployments if d[1].startswith(target)}
        )[:3] or [ctx.default_ns]
        reads = _pending(*(ctx.call("get_k8s_pods", namespace=s) for s in spaces))
        if reads:
            return reads
        matches = match_pods(target, current, None)
    if not matches:
        where_zh = f"命名空间 `{ns}` 里" if ns else ""
        where_en = f" in namespace `{ns}`" if ns else ""
        return Problem(
            f"{where_zh}没有找到名为 `{target}` 的 Pod，没有做任何变更。请确认名称与命名空间。",
            f"No pod named `{target}` was found{where_en}; nothing was changed. Check the name "
            "and namespace.",
        )
    exact = [m for m in matches if m[1] == target]
    if len(exact) == 1:
        return _delete(exact[0], "", "")
    if len(exact) > 1:
        if (ctx.default_ns, target) in exact:
            return _delete((ctx.default_ns, target), "", "")
        return Problem(
            f"有多个名为 `{target}` 的 Pod：{_refs(exact)}。没有做任何变更；请写明命名空间。",
            f"Several pods are named `{target}`: {_refs(exact)}. Nothing was changed; say "
            "which namespace.",
        )
    if len(matches) == 1:
        pod = matches[0]
        return _delete(
            pod,
            f"`{target}` 只有一个 Pod：`{pod[0]}/{pod[1]}`。",
            f"`{target}` has exactly one pod: `{pod[0]}/{pod[1]}`.",
        )
    flagged = {(f.namespace, f.name) for f in all_findings(ctx.tr.current) if f.kind == "pod"}
    sick = [m for m in matches if m in flagged]
    if len(sick) == 1:
        pod = sick[0]
        return _delete(
            pod,
            f"`{target}` 有 {len(matches)} 个 Pod，其中只有 `{pod[0]}/{pod[1]}` 不健康，"
            "所以删除它（ReplicaSet 会重新创建一个）。",
            f"`{target}` has {len(matches)} pods and only `{pod[0]}/{pod[1]}` is unhealthy, "
            "so that is the one to delete (its ReplicaSet creates a fresh one).",
        )
    return Problem(
        f"`{target}` 有 {len(matches)} 个 Pod：{_refs(matches)}。没有做任何变更；"
        "请说明删除哪一个（写出完整的 Pod 名称）。",
        f"`{target}` matches {len(matches)} pods: {_refs(matches)}. Nothing was changed; say "
        "which one to delete (its full name).",
    )


def _delete(pod: tuple[str, str], note_zh: str, note_en: str) -> Resolved:
    return Resolved(
        [Call("delete_pod", {"namespace": pod[0], "pod_name": pod[1]})], note_zh, note_en
    )
