"""Offline planner: resolving a name to a pod, reading its logs, diagnosing a failure.

Diagnosis resolves the name the user gave (``ledger``, ``checkout``, ``shop/api-1``) to a pod
through earlier observations, ``find_unhealthy_pods`` and ``get_k8s_pods``; then reads the pod's
description, events and logs (the previous container's too when it crashed) in one parallel
step, and answers with the analyzers' reason and the evidence. Nodes, services and deployments
without pods have their own short paths.
"""

from __future__ import annotations

from typing import Any

from opsconsole.planner import answers as ans
from opsconsole.planner import fixes as fx
from opsconsole.planner import report as rep
from opsconsole.planner.causes import is_security
from opsconsole.planner.context import (
    CRASHY,
    Call,
    Ctx,
    Decision,
    Final,
    Step,
    deploy_of,
    findings_about,
    make_step,
    missing_tool,
    not_found,
)
from opsconsole.planner.facts import Finding, all_namespaces, match_pods, pod_row, shown_name
from opsconsole.planner.markdown import HEADER
from opsconsole.planner.observations import Observation


def _best_pod(ctx: Ctx, matches: list[tuple[str, str]]) -> tuple[str, str]:
    """Of several matching pods, the one with a finding (the unhealthiest), else the first."""
    flagged = {(f.namespace, f.name) for f in ctx.findings if f.kind == "pod"}
    for m in matches:
        if m in flagged:
            return m
    return matches[0]


def resolve_pod(ctx: Ctx, target: str) -> tuple[str, str] | Step | None:
    """Find the pod ``target`` refers to, or the next calls that would find it, or None.

    Sources, in order: names already observed; the namespace's pod list and the analyzers'
    scan of the cluster; the pod lists of every namespace seen so far plus the deployments of
    all namespaces; finally the pod list of the namespace of a deployment named ``target``.
    """
    ns = ctx.intent.namespace
    matches = match_pods(target, ctx.known, ns)
    if matches:
        return _best_pod(ctx, matches)
    listing = ctx.call("get_k8s_pods", namespace=ns) if ns else None
    scan = None if ctx.called("find_unhealthy_pods") else ctx.call("find_unhealthy_pods")
    if listing is not None and scan is not None:
        thought = ctx.say(
            f"先找到 {target} 对应的 Pod：列出 {ns} 命名空间的 Pod，并用分析器扫描异常。",
            f"First finding the pod behind {target}: listing the pods of namespace {ns} and "
            "scanning for problems with the analyzers.",
        )
    elif listing is not None:
        thought = ctx.say(
            f"先找到 {target} 对应的 Pod：列出 {ns} 命名空间的 Pod。",
            f"First finding the pod behind {target}: listing the pods of namespace {ns}.",
        )
    else:
        thought = ctx.say(
            f"先找到 {target} 对应的 Pod：用分析器扫描所有命名空间的异常。",
            f"First finding the pod behind {target}: scanning all namespaces for problems "
            "with the analyzers.",
        )
    step = make_step(thought, [listing, scan])
    if step is not None:
        return step
    if not ns:
        spaces = [ctx.default_ns] + sorted(ctx.known.namespaces - {ctx.default_ns})
        calls = [ctx.call("get_k8s_pods", namespace=s) for s in spaces[:6]]
        if not ctx.called("get_deployments"):
            calls.append(ctx.call("get_deployments"))
        real = [c for c in calls if c is not None]
        listed = [str(c.args["namespace"]) for c in real if c.name == "get_k8s_pods"]
        deps = any(c.name == "get_deployments" for c in real)
        where_zh = "、".join(listed) + " 命名空间的 Pod" if listed else ""
        where_en = f"the pods of {', '.join(listed)}" if listed else ""
        if deps:
            where_zh += ("和" if listed else "") + "所有命名空间的 Deployment"
            where_en += (" and " if listed else "") + "the deployments of all namespaces"
        step = make_step(
            ctx.say(
                f"在{where_zh}里查找 {target}。",
                f"Looking for {target} in {where_en}.",
            ),
            calls,
        )
        if step is not None:
            return step
        found = sorted(d for d in ctx.known.deployments if d[1] == target or target in d[1])
        calls = [ctx.call("get_k8s_pods", namespace=d[0]) for d in found[:3]]
        refs = ", ".join(f"{d[0]}/{d[1]}" for d in found[:3])
        return make_step(
            ctx.say(
                f"找到了 Deployment {refs}，列出它所在命名空间的 Pod。",
                f"Found deployment {refs}; listing the pods of its namespace.",
            ),
            calls,
        )
    # not in the namespace the user named: a pod of that name elsewhere will do
    elsewhere = match_pods(target, ctx.known)
    return _best_pod(ctx, elsewhere) if elsewhere else None


def _pod_is_crashy(ctx: Ctx, ns: str, pod: str) -> bool:
    for f in ctx.findings:
        if f.namespace == ns and f.name == pod:
            low = (f.reason + " " + f.evidence).lower()
            if any(w in low for w in CRASHY):
                return True
    for o in ctx.tr.all:
        row = pod_row(o, pod) if o.name == "get_k8s_pods" and not o.failed else None
        if row is not None:
            low = f"{row.get('status')} {row.get('note')}".lower()
            if any(w in low for w in ("crashloop", "oomkilled", "error")):
                return True
    return ctx.intent.previous


#: pods in these states have no container that ever ran: their logs hold nothing
_NO_LOGS = (
    "failedscheduling",
    "gpuunschedulable",
    "imagepullbackoff",
    "errimagepull",
    "invalidimagename",
    "createcontainerconfigerror",
)


def _never_ran(ctx: Ctx, ns: str, pod: str) -> bool:
    for f in ctx.findings:
        if f.namespace == ns and f.name == pod and f.reason.lower() in _NO_LOGS:
            return True
    for o in ctx.tr.all:
        if o.name == "get_k8s_pods" and o.args.get("namespace") == ns and not o.failed:
            row = pod_row(o, pod)
            if row is not None:
                status = str(row.get("status") or "").lower()
                return status in ("pending", *_NO_LOGS, "containercreating")
    return False


def _log_calls(ctx: Ctx, ns: str, pod: str, *, always: bool = False) -> list[Call | None]:
    """The log reads for a pod (none for a pod that never ran, unless ``always``)."""
    if not always and _never_ran(ctx, ns, pod):
        return []
    lines = ctx.intent.lines or 100
    calls = [ctx.call("get_pod_logs", namespace=ns, pod_name=pod, lines=lines)]
    if _pod_is_crashy(ctx, ns, pod) and ctx.supports("get_pod_logs", "previous"):
        calls.append(
            ctx.call("get_pod_logs", namespace=ns, pod_name=pod, lines=lines, previous=True)
        )
    return calls


def logs(ctx: Ctx, target: str) -> Decision:
    """The logs of the pod ``target`` names (the previous container's too if it crashed)."""
    got = resolve_pod(ctx, target)
    if isinstance(got, Step):
        return got
    if got is None:
        return Final(not_found(ctx, target))
    ns, pod = got
    seen = ctx.called("get_pod_logs", pod_name=pod)
    if not seen:
        step = make_step(
            ctx.say(f"读取 {ns}/{pod} 的日志。", f"Reading the logs of {ns}/{pod}."),
            _log_calls(ctx, ns, pod, always=True),
        )
        return step or Final(missing_tool(ctx, "get_pod_logs"))
    ok = [o for o in seen if not o.failed]
    if not ok:
        return Final(ans.error_answer(ctx.intent, seen[0]))
    mine = [f for f in ctx.findings if f.namespace == ns and f.name == pod]
    return Final(rep.logs_answer(ctx.intent, ns, pod, ok, mine))


def diagnose(ctx: Ctx, target: str) -> Decision:
    """Root cause of why ``target`` (a pod, deployment, node or service) is failing."""
    kind = ctx.intent.target_kind
    if kind == "node" or (target in ctx.known.nodes and kind is None):
        return _diagnose_node(ctx, target)
    if kind == "service":
        got_service = _diagnose_service(ctx, target)
        if got_service is not None:
            return got_service
    scanned = any(o.name == "find_unhealthy_pods" for o in ctx.tr.all)
    if not scanned and "find_unhealthy_pods" in ctx.offered:
        # scan first even when the name is known: the findings are the evidence
        ns = ctx.intent.namespace
        listing = (
            ctx.call("get_k8s_pods", namespace=ns)
            if ns and not match_pods(target, ctx.known, ns)
            else None
        )
        step = make_step(
            ctx.say(
                f"先用分析器扫描集群，看看 {target} 有哪些问题"
                + (f"，并列出 {ns} 命名空间的 Pod。" if listing else "。"),
                f"Scanning the cluster with the analyzers for problems with {target} first"
                + (f", and listing the pods of namespace {ns}." if listing else "."),
            ),
            [ctx.call("find_unhealthy_pods"), listing],
        )
        if step is not None:
            return step
    # a finding about a node or service with exactly this name wins over a pod-name guess
    exact = [f for f in findings_about(ctx, target, ctx.intent.namespace) if f.name == target]
    flagged = {(f.namespace, f.name) for f in ctx.findings if f.kind == "pod"}
    pods = match_pods(target, ctx.known, ctx.intent.namespace)
    if exact and exact[0].kind in ("node", "service") and not (set(pods) & flagged):
        if exact[0].kind == "node":
            return _diagnose_node(ctx, target)
        return _finding_answer(ctx, exact)
    got = resolve_pod(ctx, target)
    if isinstance(got, Step):
        return got
    if got is None:
        return _diagnose_other(ctx, target)
    return _diagnose_pod(ctx, *got)


def _diagnose_pod(ctx: Ctx, ns: str, pod: str) -> Decision:
    log_calls = _log_calls(ctx, ns, pod) if not ctx.called("get_pod_logs", pod_name=pod) else []
    calls = [
        ctx.call("describe_pod", namespace=ns, pod_name=pod),
        ctx.call("get_events", namespace=ns, name=pod),
        *log_calls,
    ]
    if any(c is not None for c in log_calls):
        # say "the crashed container's too" only when that read is really among the calls
        crashed = any(c is not None and c.args.get("previous") for c in log_calls)
        what_zh = " describe、事件和日志" + ("（含崩溃前的日志）" if crashed else "")
        what_en = "description, events and logs" + (
            " (the crashed container's too)" if crashed else ""
        )
    else:
        what_zh, what_en = (
            " describe 和事件（容器从未运行，没有日志）",
            ("description and events (its container never ran: no logs)"),
        )
    step = make_step(
        ctx.say(
            f"定位到 Pod {ns}/{pod}，接着查看它的{what_zh}。",
            f"Found pod {ns}/{pod}; now reading its {what_en}.",
        ),
        calls,
    )
    if step is not None:
        return step
    findings = [f for f in ctx.findings if f.namespace == ns and f.name == pod]
    workload = deploy_of(pod)
    findings += [
        f
        for f in ctx.findings
        if f.namespace == ns and f.kind != "pod" and f.name == workload and f not in findings
    ]
    step = make_step(
        ctx.say(
            f"再读 {ns}/{pod} 背后的对象（它的 Deployment 以及它的故障指向的对象），找出要改什么。",
            f"Now reading the objects behind {ns}/{pod} (its deployment and what its failure "
            "points at) to find what to change.",
        ),
        fx.pod_reads(ctx, ns, pod, findings),
    )
    if step is not None:
        return step
    fix = fx.pod_fix(ctx, ns, pod, findings)
    done = fx.proposed(ctx)
    if fix is not None and fix.call is not None and done is None and fx.can_propose(ctx, fix):
        return Step(fx.fix_thought(ctx, fix), [fix.call])
    obs = [o for o in ctx.tr.current if o.name in ("describe_pod", "get_events", "get_pod_logs")]
    if not any(o.name == "describe_pod" for o in obs):  # no describe: the pod's row will do
        obs += _pod_rows(ctx, ns, pod)
    scanned = any(o.name == "find_unhealthy_pods" and not o.failed for o in ctx.tr.all)
    health = [f for f in findings if not is_security(f)]
    if fix is not None and not health:  # healthy by its status: the cause is in its objects
        return Final(f"{HEADER}\n\n{fx.fix_text(ctx, fix, done)}\n")
    answer = rep.diagnosis_answer(
        ctx.intent,
        f"{ns}/{pod}",
        ns,
        pod,
        findings,
        obs,
        scanned=scanned,
        related=ctx.findings,
        note=_namespace_note(ctx, ns),
    )
    return Final(_with_fix(ctx, answer, fix, done))


def _with_fix(ctx: Ctx, answer: str, fix: fx.Fix | None, done: Observation | None) -> str:
    if fix is None:
        return answer
    return answer.rstrip("\n") + "\n\n" + fx.fix_text(ctx, fix, done) + "\n"


def _pod_rows(ctx: Ctx, ns: str, pod: str) -> list[Observation]:
    """The pod's row of the latest pod list of its namespace, as a one-row observation."""
    for o in reversed(ctx.tr.all):
        if o.name == "get_k8s_pods" and o.args.get("namespace") == ns and not o.failed:
            row = pod_row(o, pod)
            if row is not None:
                return [o.narrowed([row])]
    return []


def _namespace_note(ctx: Ctx, ns: str) -> str:
    asked = ctx.intent.namespace
    if not asked or asked == ns:
        return ""
    return ctx.say(
        f"（命名空间 `{asked}` 里没有找到它；找到的是 `{ns}` 命名空间里的同名工作负载。）",
        f"(Not found in namespace `{asked}`; this is the workload of that name in `{ns}`.)",
    )


def _diagnose_node(ctx: Ctx, target: str) -> Decision:
    """A node's conditions and events; under memory pressure, also its biggest memory users."""
    calls = [ctx.call("get_nodes"), ctx.call("get_events", name=target)]
    if not ctx.called("find_unhealthy_pods"):
        calls.append(ctx.call("find_unhealthy_pods"))
    step = make_step(
        ctx.say(
            f"查看节点 {target} 的状态、压力条件和事件。",
            f"Checking node {target}'s status, pressure conditions and events.",
        ),
        calls,
    )
    if step is not None:
        return step
    nodes = ctx.called("get_nodes")
    findings = [f for f in findings_about(ctx, target) if f.kind == "node"]
    if not findings and not any(target in str(i.get("name")) for o in nodes for i in o.items):
        return Final(not_found(ctx, target))
    memory = any("memory" in f.reason.lower() for f in findings)
    heavy: list[dict[str, Any]] = []
    if memory and "get_resource_usage" in ctx.offered:
        step = make_step(
            ctx.say(
                f"节点 {target} 内存紧张：看看哪些 Pod 占用内存最多。",
                f"Node {target} is short of memory: finding the pods that use the most.",
            ),
            [ctx.call("get_resource_usage", sort_by="memory")],
        )
        if step is not None:
            return step
        top = _usage_rows(ctx)[:8]
        spaces = sorted({ns for ns, _, _ in top})[:4]
        step = make_step(
            ctx.say(
                "再看这些 Pod 分别运行在哪个节点上。",
                "Checking which node each of them runs on.",
            ),
            [ctx.call("get_k8s_pods", namespace=ns) for ns in spaces],
        )
        if step is not None:
            return step
        heavy = [row for ns, pod, row in top if _node_of(ctx, ns, pod) == target][:3]
    obs = []
    for o in nodes:
        rows = [i for i in o.items if target in str(i.get("name"))]
        obs.append(o.narrowed(rows) if rows else o)
    obs += [o for o in ctx.tr.current if o.name == "get_events" and o.args.get("name") == target]
    if heavy:
        usage = ctx.called("get_resource_usage")[-1]
        obs.append(usage.narrowed(heavy))
    note = ""
    if heavy:
        pod, mem = f"{heavy[0].get('namespace')}/{heavy[0].get('name')}", heavy[0].get("memory")
        note = ctx.say(
            f"节点 `{target}` 上内存占用最高的是 `{pod}`（{mem}）。",
            f"The biggest memory user on node `{target}` is `{pod}` ({mem}).",
        )
    return Final(
        rep.diagnosis_answer(ctx.intent, f"node/{target}", None, target, findings, obs, note=note)
    )


def _usage_rows(ctx: Ctx) -> list[tuple[str, str, dict[str, Any]]]:
    """(namespace, pod, row) of a get_resource_usage result over all namespaces, top first."""
    out = []
    for o in ctx.called("get_resource_usage"):
        if o.failed or not all_namespaces(o):
            continue
        for item in o.items:
            if item.get("namespace"):
                out.append((str(item["namespace"]), str(item.get("name")), item))
    return out


def _node_of(ctx: Ctx, ns: str, pod: str) -> str | None:
    for o in ctx.tr.current:
        if o.name == "get_k8s_pods" and o.args.get("namespace") == ns and not o.failed:
            row = pod_row(o, pod)
            if row is not None:
                return str(row.get("node") or "-")
    return None


def _diagnose_service(ctx: Ctx, target: str) -> Decision | None:
    """A service whose selector matches no pod, from the analyzers; else None.

    A service whose pods exist but are not ready is answered through its pods (None here):
    their failure is the root cause.
    """
    scanned = any(o.name == "find_unhealthy_pods" for o in ctx.tr.all)
    step = (
        None
        if scanned
        else make_step(
            ctx.say(
                f"用分析器扫描集群（它也检查每个 Service 的 Endpoint），看看 Service {target} "
                "和它后面的 Pod 有什么问题。",
                f"Scanning the cluster with the analyzers (they also check every Service's "
                f"endpoints) for problems with service {target} and the pods behind it.",
            ),
            [ctx.call("find_unhealthy_pods")],
        )
    )
    if step is not None:
        return step
    findings = [
        f
        for f in findings_about(ctx, target, ctx.intent.namespace)
        if f.kind == "service" and f.reason != "ServiceNoReadyEndpoints"
    ]
    if not findings:
        return None
    return _finding_answer(ctx, findings)


def _finding_answer(ctx: Ctx, findings: list[Finding]) -> Decision:
    """Answer about the object of ``findings[0]`` after reading its events.

    For a Service whose selector matches no pod, also describe the pod that looks like its
    backend (same name prefix) so the answer can show the label mismatch.
    """
    f = findings[0]
    ns = f.namespace
    calls: list[Call | None] = []
    if ns:
        calls.append(ctx.call("get_events", namespace=ns, name=f.name))
    if ns and f.kind == "service" and f.reason == "ServiceNoEndpoints":
        backends = match_pods(f.name, ctx.known, ns)
        if backends:
            calls.append(ctx.call("describe_pod", namespace=ns, pod_name=backends[0][1]))
        elif not ctx.called("get_k8s_pods", namespace=ns):
            calls.append(ctx.call("get_k8s_pods", namespace=ns))
        else:  # no pod at all: maybe its deployment is scaled to zero
            calls.append(ctx.call("get_deployments", namespace=ns))
    if ns and f.kind == "service" and f.reason == "ServiceNoEndpoints":
        calls += fx.service_reads(ctx, ns, f.name)
    real = [c for c in calls if c is not None]
    zh_what, en_what = [], []
    for c in real:
        if c.name == "get_events":
            zh_what.append(f"{f.name} 的事件")
            en_what.append(f"the events of {f.name}")
        elif c.name == "describe_pod":
            zh_what.append(f"后端 Pod {c.args.get('pod_name')} 的 describe（看标签）")
            en_what.append(f"the description (labels) of backing pod {c.args.get('pod_name')}")
        elif c.name == "get_k8s_pods":
            zh_what.append(f"{ns} 命名空间的 Pod")
            en_what.append(f"the pods of namespace {ns}")
        elif c.name == "get_deployments":
            zh_what.append(f"{ns} 命名空间的 Deployment（是否缩到了 0）")
            en_what.append(f"the deployments of namespace {ns} (scaled to 0?)")
        elif c.name == "get_resource":
            zh_what.append(f"Service {f.name} 本身（选择器）")
            en_what.append(f"service {f.name} itself (its selector)")
        elif c.name == "check_service_path":
            zh_what.append(f"{f.name} 的流量路径")
            en_what.append(f"the traffic path of {f.name}")
    step = make_step(
        ctx.say(
            f"分析器指出了 {f.ref} 的问题（{f.reason}），接着查看{'、'.join(zh_what)}。",
            f"The analyzers flag {f.ref} ({f.reason}); now reading {' and '.join(en_what)}.",
        ),
        calls,
    )
    if step is not None:
        return step
    obs = [
        o
        for o in ctx.tr.current
        if (o.name == "get_events" and o.args.get("name") == f.name)
        or o.name in ("describe_pod", "get_deployments")
    ]
    fix = fx.service_fix(ctx, ns, f.name) if ns and f.kind == "service" else None
    done = fx.proposed(ctx)
    if fix is not None and fix.call is not None and done is None and fx.can_propose(ctx, fix):
        return Step(fx.fix_thought(ctx, fix), [fix.call])
    subject = f"{f.kind}/{f.ref}" if f.kind != "pod" else f.ref
    answer = rep.diagnosis_answer(
        ctx.intent, subject, f.namespace, f.name, findings, obs, related=ctx.findings
    )
    return Final(_with_fix(ctx, answer, fix, done))


def _diagnose_other(ctx: Ctx, target: str) -> Decision:
    """No pod matched: a finding about something else, a deployment without pods, a node."""
    ns = ctx.intent.namespace
    findings = findings_about(ctx, target, ns)
    if findings:
        return _finding_answer(ctx, findings)
    if not ctx.called("get_nodes"):
        step = make_step(
            ctx.say(
                f"没有找到叫 {target} 的 Pod，再查节点。",
                f"No pod named {target}; checking the nodes.",
            ),
            [ctx.call("get_nodes")],
        )
        if step is not None:
            return step
    if target in ctx.known.nodes:
        return _diagnose_node(ctx, target)
    deps = sorted(d for d in ctx.known.deployments if d[1] == target and (not ns or d[0] == ns))
    if deps:
        dns, name = deps[0]
        obs = []
        for o in ctx.called("get_deployments"):
            rows = [i for i in o.items if name in shown_name(o, i)]
            if rows:
                obs.append(o.narrowed(rows))
        step = make_step(
            ctx.say(
                f"查看 Deployment {dns}/{name} 的事件。",
                f"Reading the events of deployment {dns}/{name}.",
            ),
            [ctx.call("get_events", namespace=dns)],
        )
        if step is not None:
            return step
        obs += [o for o in ctx.called("get_events", namespace=dns)]
        return Final(
            rep.diagnosis_answer(ctx.intent, f"deployment/{dns}/{name}", dns, name, [], obs)
        )
    return Final(not_found(ctx, target))
