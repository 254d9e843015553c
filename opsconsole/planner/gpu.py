"""GPUs: the nodes' GPU capacity, the pods on GPU nodes and their requests, GPU scheduling
problems, and one named pod's requests; planning the reads and the answer."""

from __future__ import annotations

import re

from opsconsole.planner.causes import cause
from opsconsole.planner.context import Call, Ctx, Decision, Final, Step, make_step
from opsconsole.planner.diagnose import resolve_pod
from opsconsole.planner.evidence import (
    field_lines,
    field_value,
    gpu_capacity,
    gpu_nodes,
    gpu_request,
    pods_on_nodes,
)
from opsconsole.planner.facts import Finding
from opsconsole.planner.intents import Intent
from opsconsole.planner.markdown import HEADER, quote, t
from opsconsole.planner.observations import Observation


def gpu(ctx: Ctx) -> Decision:
    """GPU capacity of the nodes, the pods on GPU nodes, GPU scheduling problems, and a named
    pod's GPU requests."""
    ns = ctx.intent.namespace
    calls: list[Call | None] = [ctx.call("get_nodes")]
    if not any(o.name == "find_unhealthy_pods" for o in ctx.tr.all):
        calls.append(ctx.call("find_unhealthy_pods"))
    if ns:
        calls.append(ctx.call("get_k8s_pods", namespace=ns))
    elif not ctx.intent.target:
        calls.append(ctx.call("get_deployments"))  # which namespaces there are
    step = make_step(
        ctx.say(
            "查看节点的 GPU 容量与使用，以及 GPU 相关的调度问题。",
            "Checking the nodes' GPU capacity and usage, and GPU scheduling problems.",
        ),
        calls,
    )
    if step is not None:
        return step
    if not ns and not ctx.intent.target:
        spaces = sorted(ctx.known.namespaces)[:8]
        step = make_step(
            ctx.say(
                "逐个命名空间列出 Pod，找出运行在 GPU 节点上的。",
                "Listing the pods of each namespace to find those on GPU nodes.",
            ),
            [ctx.call("get_k8s_pods", namespace=s) for s in spaces],
        )
        if step is not None and not out_of_budget(ctx):
            return step
    if not ctx.intent.target:
        step = make_step(
            ctx.say(
                "查看 GPU 节点上各个 Pod 的 GPU 请求。",
                "Reading the GPU requests of the pods on GPU nodes.",
            ),
            [ctx.call("describe_pod", namespace=p[0], pod_name=p[1]) for p in _on_gpu(ctx)[:8]],
        )
        if step is not None and not out_of_budget(ctx):
            return step
    target = ctx.intent.target
    pod: tuple[str, str] | None = None
    if target:
        got = resolve_pod(ctx, target)
        if isinstance(got, Step):
            return got
        pod = got
    if pod is not None:
        step = make_step(
            ctx.say(
                f"查看 Pod {pod[0]}/{pod[1]} 的 GPU 请求与所在节点。",
                f"Reading pod {pod[0]}/{pod[1]}'s GPU requests and node.",
            ),
            [ctx.call("describe_pod", namespace=pod[0], pod_name=pod[1])],
        )
        if step is not None:
            return step
    return Final(gpu_answer(ctx.intent, ctx.tr.current, ctx.findings, pod))


def _on_gpu(ctx: Ctx) -> list[tuple[str, str, str, str]]:
    names = {n for o in ctx.tr.current if o.name == "get_nodes" for n, _ in gpu_nodes(o)}
    out: list[tuple[str, str, str, str]] = []
    for o in ctx.tr.current:
        if o.name == "get_k8s_pods" and not o.failed:
            out += pods_on_nodes(o, names)
    return out


def out_of_budget(ctx: Ctx) -> bool:
    """One step short of the limit: the next turn must answer."""
    return ctx.tr.steps >= ctx.max_steps - 1


def gpu_answer(
    intent: Intent,
    observations: list[Observation],
    findings: list[Finding],
    pod: tuple[str, str] | None,
) -> str:
    """GPU nodes (capacity, taints), the pods that request GPUs and where they run, GPU
    scheduling findings, and one named pod's GPU requests."""
    lang = intent.language
    zh = lang == "zh"
    nodes: list[tuple[str, str]] = []
    capacity = 0
    for o in observations:
        if o.name == "get_nodes" and not o.failed:
            nodes += gpu_nodes(o)
            capacity += gpu_capacity(o)
    names = {n for n, _ in nodes}
    on_gpu: list[tuple[str, str, str, str]] = []
    for o in observations:
        if o.name == "get_k8s_pods" and not o.failed:
            on_gpu += pods_on_nodes(o, names)
    described = {
        (str(o.args.get("namespace")), str(o.args.get("pod_name"))): o
        for o in observations
        if o.name == "describe_pod" and not o.failed
    }
    gpu_findings = [
        f
        for f in findings
        if f.reason == "GPUUnschedulable"
        or re.search(r"insufficient nvidia\.com/gpu|requests nvidia\.com/gpu", f.evidence.lower())
    ]
    parts = [HEADER, ""]
    if pod is not None:
        ns, name = pod
        seen = described.get((ns, name))
        lines = field_lines(seen, "Node", "Status", "Requests", "Limits") if seen else []
        count = gpu_request(seen) if seen else 0
        node = (field_value(seen, "Node") if seen else None) or "?"
        if zh:
            parts.append(
                f"`{ns}/{name}` 请求了 **{count}** 块 GPU（nvidia.com/gpu），"
                f"运行在节点 `{node}` 上。"
            )
        else:
            parts.append(
                f"`{ns}/{name}` requests **{count}** GPU(s) (nvidia.com/gpu) and runs on node "
                f"`{node}`."
            )
        if lines:
            parts += ["", t("evidence", lang) + ("：" if zh else ":"), quote(lines)]
        parts.append("")
    parts += ["**GPU 节点**" if zh else "**GPU nodes**", ""]
    if nodes:
        parts.append(quote(line for _, line in nodes))
    else:
        parts.append("没有发现带 GPU 的节点。" if zh else "No node with GPUs was found.")
    users = [(p, described[(p[0], p[1])]) for p in on_gpu if (p[0], p[1]) in described]
    using = [(p, gpu_request(seen)) for p, seen in users if gpu_request(seen) > 0]
    if using:
        parts += ["", "**使用 GPU 的 Pod**" if zh else "**Pods using GPUs**", ""]
        for (ns, name, node, status), n in using:
            if zh:
                parts.append(f"- `{ns}/{name}`：nvidia.com/gpu={n}，节点 `{node}`（{status}）")
            else:
                parts.append(f"- `{ns}/{name}`: nvidia.com/gpu={n} on node `{node}` ({status})")
    if using and nodes:
        requested = sum(n for _, n in using)
        if zh:
            parts += [
                "",
                f"GPU 总量 {capacity} 块，已被请求 {requested} 块，"
                f"空闲 {capacity - requested} 块。",
            ]
        else:
            parts += [
                "",
                f"GPUs: {capacity} in total, {requested} requested, {capacity - requested} free.",
            ]
    others = [p for p in on_gpu if p not in [u[0] for u in using]]
    if others and (using or not users):
        title = "GPU 节点上的其他 Pod（未请求 GPU）" if zh else "Other pods on GPU nodes (no GPU"
        title += "" if zh else " request)"
        if not users:
            title = "GPU 节点上的 Pod" if zh else "Pods on GPU nodes"
        parts += ["", f"**{title}**", ""]
        parts += [f"- `{ns}/{name}` ({node}, {status})" for ns, name, node, status in others[:15]]
    parts.append("")
    if gpu_findings:
        parts.append("**GPU 相关问题**" if zh else "**GPU problems**")
        parts += [f"- **{f.ref}** {f.reason}: {f.evidence[:240]}" for f in gpu_findings[:10]]
        c = cause("gpu")
        steps = c.next_zh if zh else c.next_en
        parts += ["", t("next", lang) + ("：" if zh else ":")]
        parts += [f"{i}. {s}" for i, s in enumerate(steps, 1)]
    else:
        parts.append(
            "分析器没有发现 GPU 调度问题（没有因 nvidia.com/gpu 不足而 Pending 的 Pod）。"
            if zh
            else "The analyzers found no GPU scheduling problem (no pod Pending for lack of "
            "nvidia.com/gpu)."
        )
    return "\n".join(parts).rstrip() + "\n"
