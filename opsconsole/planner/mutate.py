"""The offline planner's changes: scale, rollout restart and delete.

First the object is found (:mod:`opsconsole.planner.resolve`: in whatever namespace it
lives, or the pods in the state the user named), with read-only lookups in this turn. Then, in
write mode, the planner *proposes* the calls; the loop asks the user to approve each one (or
the eval harness approves it), exactly as for a model's call, and the answer reports what the
cluster said, or that nothing was changed when the user declined. In read-only mode (the
mutating tools are not offered) the answer gives the exact commands instead. One request may
name several changes ("scale catalog to 3 and restart web"): each clause becomes one change.
"""

from __future__ import annotations

import re
from dataclasses import replace
from typing import Any

from opsconsole.planner import answers as ans
from opsconsole.planner.context import (
    MUTATING,
    Call,
    Ctx,
    Decision,
    Final,
    Step,
    call_key,
    focus_pod,
    refers_back,
)
from opsconsole.planner.facts import Finding, all_findings, deployment_of, error_text
from opsconsole.planner.intents import Intent, parse_intent
from opsconsole.planner.markdown import HEADER, code
from opsconsole.planner.observations import Observation
from opsconsole.planner.resolve import (
    TOOL_FOR_VERB,
    Problem,
    Resolved,
    Want,
    resolve,
)
from opsconsole.planner.vocabulary import vocabulary

__all__ = ["TOOL_FOR_VERB", "plan_mutation", "replicas_in"]

_CLAUSE_SPLIT = re.compile(r"\band then\b|\bthen\b|\band\b|并且|并|然后|再|，|,|;|；|。|\.\s")
_REPLICAS = re.compile(
    r"(?:\bto\s+|到|为|成)\s*(\d{1,4})\b|(\d{1,4})\s*(?:replicas?\b|个副本|副本|个\s*pod)",
    re.IGNORECASE,
)


def replicas_in(text: str) -> int | None:
    m = _REPLICAS.search(text)
    if not m:
        return None
    return int(m.group(1) or m.group(2))


def _clauses(intent: Intent) -> list[Intent]:
    """One intent per change named in the request; a later clause about the same object
    wins ("scaled to 0 by mistake, bring it back to 2" is one change: to 2)."""
    parts = [p.strip() for p in _CLAUSE_SPLIT.split(intent.text) if p.strip()]
    by_object: dict[tuple[str | None, str], Intent] = {}
    prev: Intent | None = None
    for part in parts:
        sub = parse_intent(part, language=intent.language)
        if sub.kind != "mutate":
            continue
        if not sub.target and not sub.state and prev is not None:
            sub = replace(sub, target=prev.target, namespace=sub.namespace or prev.namespace)
        if not sub.target and not sub.state:
            continue
        if not sub.namespace and intent.namespace:
            sub = replace(sub, namespace=intent.namespace)
        key = (TOOL_FOR_VERB.get(sub.verb or ""), sub.target or f"state:{sub.state}")
        by_object.pop(key, None)
        by_object[key] = sub
        prev = sub
    return list(by_object.values()) or [intent]


def _wants(ctx: Ctx) -> list[Want]:
    out = []
    for c in _clauses(ctx.intent):
        target, ns = c.target, c.namespace
        if not target and not c.state and refers_back(ctx):  # "delete it", "重启它"
            focus = focus_pod(ctx)
            if focus is not None:
                ns = ns or focus[0]
                target = focus[1] if c.verb == "delete" else deployment_of(focus[1])
        replicas = replicas_in(c.text) if c.verb == "scale" else None
        out.append(Want(str(c.verb), c, target, ns, c.state, replicas))
    return out


def plan_mutation(ctx: Ctx) -> Decision:
    """Look the objects up, then propose the changes one per step: each gets its own approval,
    and declining one skips only that one (a policy refusal or a cancel stops them all)."""
    done = [o for o in ctx.tr.current if o.name in MUTATING]
    wants = _wants(ctx)
    results = [(w, resolve(ctx, w)) for w in wants]
    reads: dict[str, Call] = {}
    looking: list[Want] = []
    for want, r in results:
        if isinstance(r, list) and r:
            looking.append(want)
            for c in r:
                reads.setdefault(call_key(c.name, c.args), c)
    if reads and not done:
        calls = list(reads.values())
        return Step(_lookup_text(ctx, looking, calls), calls)
    problems = [r for _, r in results if isinstance(r, Problem)]
    resolved = [r for _, r in results if isinstance(r, Resolved)]
    calls = [c for r in resolved for c in r.calls]
    if not done:
        if problems:
            return Final(_problem_answer(ctx, problems))
        if not calls or any(c.name not in ctx.offered for c in calls):
            return Final(_commands_answer(ctx, resolved))
    ran = {call_key(o.name, o.args) for o in done}
    pending = [c for c in calls if call_key(c.name, c.args) not in ran]
    stop = any(_status(o) in ("refused", "cancelled") for o in done)
    if pending and not stop and not reads and not problems:
        return Step(_change_thought(ctx, resolved, pending[0], done), [pending[0]])
    return Final(result_answer(ctx, done, [] if not stop else pending))


# --- thoughts ------------------------------------------------------------------------------

_VERB = {
    "delete": ("删除", "deletion"),
    "scale": ("扩缩容", "scale"),
    "restart": ("滚动重启", "restart"),
    "rollback": ("回滚", "rollback"),
}


def _lookup_text(ctx: Ctx, wants: list[Want], reads: list[Call]) -> str:
    """What the lookup calls are for: names exactly the reads being made."""
    zh_what: list[str] = []
    en_what: list[str] = []
    for c in reads:
        ns = c.args.get("namespace")
        if c.name == "get_deployments":
            zh_what.append(f"{ns} 命名空间的 Deployment" if ns else "所有命名空间的 Deployment")
            en_what.append(
                f"the deployments of namespace {ns}" if ns else "the deployments of all namespaces"
            )
        elif c.name == "find_unhealthy_pods":
            zh_what.append(f"分析器对 {ns} 的扫描" if ns else "分析器对所有命名空间的扫描")
            en_what.append(
                f"the analyzers' scan of namespace {ns}"
                if ns
                else "the analyzers' scan of all namespaces"
            )
        elif c.name == "get_k8s_pods":
            zh_what.append(f"{ns} 命名空间的 Pod 列表")
            en_what.append(f"the pod list of namespace {ns}")
    objs_zh, objs_en, verbs_zh, verbs_en = [], [], [], []
    for want in wants:
        if want.target:
            kind_zh = "Pod" if want.verb == "delete" else "Deployment"
            objs_zh.append(f"{kind_zh} {want.target}")
            objs_en.append(f"{'pod' if want.verb == 'delete' else 'deployment'} {want.target}")
        else:
            label = _state_label(want.state)
            objs_zh.append(f"处于 {label} 状态的 Pod")
            objs_en.append(f"the pods in state {label}")
        verb_zh, verb_en = _VERB.get(want.verb, (want.verb, want.verb))
        verbs_zh.append(verb_zh)
        verbs_en.append(verb_en)
    verb_zh = "和".join(dict.fromkeys(verbs_zh))
    verb_en = " and the ".join(dict.fromkeys(verbs_en))
    return ctx.say(
        f"提出{verb_zh}之前，先在 {'、'.join(dict.fromkeys(zh_what))} 里找到 "
        f"{'、'.join(objs_zh)}。",
        f"Before proposing the {verb_en}, finding {' and '.join(objs_en)} in "
        f"{' and '.join(dict.fromkeys(en_what))}.",
    )


def _state_label(state: str | None) -> str:
    spec = vocabulary().states.get(state or "")
    return spec.label if spec is not None else state or "?"


def _args_text(args: dict[str, Any]) -> str:
    return ", ".join(f"{k}={v}" for k, v in args.items())


def _call_text(c: Call) -> str:
    return f"{c.name}({_args_text(c.args)})"


def _change_thought(ctx: Ctx, resolved: list[Resolved], call: Call, done: list[Observation]) -> str:
    """The thought before one proposed change: for the first, what was found and how the
    approvals go; for the next ones, where we are and how the previous one went."""
    calls = [c for r in resolved for c in r.calls]
    n, i = len(calls), len(done) + 1
    what = _call_text(call)
    if done:
        last = done[-1]
        outcome = {
            "ok": ctx.say("已执行", "done"),
            "declined": ctx.say("你拒绝了，未执行", "you declined it, not run"),
        }.get(_status(last), ctx.say("失败", "failed"))
        return ctx.say(
            f"上一个变更 {_call_text(Call(last.name, last.args))}：{outcome}。"
            f"下一个（{i}/{n}）：{what}，同样需要你确认后才会执行。",
            f"Previous change {_call_text(Call(last.name, last.args))}: {outcome}. "
            f"Next ({i} of {n}): {what}; it too needs your approval before it runs.",
        )
    notes = [ctx.say(r.note_zh, r.note_en) for r in resolved if ctx.say(r.note_zh, r.note_en)]
    text = " ".join(notes)
    if n > 1:
        text += ctx.say(
            f"我会逐个提出这 {n} 个变更，每个都单独请你确认：拒绝某一个只会跳过它"
            "（按 Esc 可停止整个任务）。",
            f"{' ' if text else ''}I will propose these {n} changes one at a time, each with "
            "its own approval: declining one skips only that one (Esc stops the whole run).",
        )
        text += ctx.say(
            f"第 1 个：{what}，需要你确认后才会执行。",
            f" First: {what}; it needs your approval before it runs.",
        )
    else:
        text += ctx.say(
            f"这是变更操作，需要你确认后才会执行：{what}。",
            f"{' ' if text else ''}This changes the cluster and needs your approval before it "
            f"runs: {what}.",
        )
    if any(r.pods for r in resolved):
        crashing = any(p[2] in ("CrashLoopBackOff", "OOMKilled") for r in resolved for p in r.pods)
        text += ctx.say(
            "删除属于 Deployment 的 Pod 后，ReplicaSet 会立即创建新的 Pod"
            + ("（重启退避计时也重新开始）" if crashing else "")
            + "，但这不会修复它失败的原因。",
            " Deleting a pod of a Deployment makes its ReplicaSet create a fresh one"
            + (" (the restart back-off starts over)" if crashing else "")
            + "; it does not fix why the pod fails.",
        )
    return text


# --- answers -------------------------------------------------------------------------------


def _command(c: Call) -> str:
    a = c.args
    ns = a.get("namespace", "NAMESPACE")
    if c.name == "delete_pod":
        return f"kubectl delete pod {a.get('pod_name')} -n {ns}"
    if c.name == "scale_deployment":
        return f"kubectl scale deployment/{a.get('name')} --replicas={a.get('replicas')} -n {ns}"
    if c.name == "rollout_restart":
        return f"kubectl rollout restart deployment/{a.get('name')} -n {ns}"
    return f"kubectl rollout undo deployment/{a.get('name')} -n {ns}"


def _commands_answer(ctx: Ctx, resolved: list[Resolved]) -> str:
    """Read-only mode (or a change without a tool, a rollback): the exact commands to run."""
    calls = [c for r in resolved for c in r.calls]
    write = any(t in ctx.offered for t in MUTATING)
    if not calls:  # nothing could be resolved: the generic explanation
        if write:
            text = ctx.say(
                "没能确定要变更的对象，没有做任何变更；请写出名称和命名空间。",
                "I could not tell which object to change, so nothing was changed; please name "
                "it and its namespace.",
            )
            return f"{HEADER}\n\n{text}\n"
        return ans.mutate_answer(ctx.intent)
    cmds = "\n".join(_command(c) for c in calls)
    notes = " ".join(ctx.say(r.note_zh, r.note_en) for r in resolved).strip()
    if write:  # write mode, but no tool for this change (rollback)
        head = ctx.say(
            "这里没有执行这个变更的工具（例如回滚），所以不会执行。",
            "There is no tool for this change here (e.g. a rollback), so it is not made.",
        )
        tail = ""
    else:
        head = ctx.say(
            "当前是只读模式，不会执行变更操作（删除、扩缩容、重启、回滚）。",
            "This is read-only mode: no changes (delete, scale, restart, rollback) are made.",
        )
        tail = ctx.say(
            "\n\n或者开启写模式（控制台中输入 `/write`，或启动时加 `--write`）后再说一次："
            "变更会在你确认后执行。",
            "\n\nOr turn on write mode (`/write` in the console, or start with `--write`) and "
            "ask again: the change then runs after your approval.",
        )
    lead = ctx.say("如果确认需要，可以手动执行：", "If you are sure, run it yourself:")
    parts = [HEADER, "", head]
    if notes:
        parts += ["", notes]
    parts += ["", lead, "", f"```\n{cmds}\n```"]
    return "\n".join(parts) + tail + "\n"


def _problem_answer(ctx: Ctx, problems: list[Problem]) -> str:
    return "\n\n".join([HEADER, *(ctx.say(p.zh, p.en) for p in problems)]) + "\n"


def _status(o: Observation) -> str:
    """ok | declined | refused | cancelled | error, from how a mutating call ended (a call
    refused as a repeat of an earlier one failed: it is no decision about the change)."""
    if o.status in ("declined", "refused", "cancelled") and o.error_code != "repeated_call":
        return o.status
    return "error" if o.failed else "ok"


def result_answer(ctx: Ctx, done: list[Observation], not_run: list[Call] | None = None) -> str:
    """What each proposed change did; "nothing was changed" when none ran. ``not_run``: the
    changes never proposed because a policy refused (or a cancel stopped) an earlier one."""
    zh = ctx.zh
    statuses = [(_status(o), o) for o in done]
    ran = [o for st, o in statuses if st == "ok"]
    lines = [HEADER, ""]
    if not ran:
        declined = [o for st, o in statuses if st == "declined"]
        if declined and len(declined) == len(statuses) and not not_run:
            many = len(declined) > 1
            lines.append(
                ("你拒绝了这些变更" if many else "你拒绝了这个变更") + "，**没有做任何变更**。"
                if zh
                else f"You declined the change{'s' if many else ''}: **nothing was changed**."
            )
        else:
            lines.append("**没有做任何变更**：" if zh else "**Nothing was changed**:")
    else:
        lines.append("变更结果：" if zh else "Result of the change:")
    lines.append("")
    for status, o in statuses:
        call = f"`{_call_text(Call(o.name, o.args))}`"
        if status == "ok":
            first = str(o.data.get("message") or "").strip().splitlines()[:4]
            what = "\n  ".join(first) or ("（无输出）" if zh else "(no output)")
        elif status == "declined":
            what = "已拒绝，未执行" if zh else "declined, not run"
        elif status == "refused":
            what = "被策略拒绝，未执行" if zh else "refused by policy, not run"
        elif status == "cancelled":
            what = "已取消，未执行" if zh else "cancelled, not run"
        else:
            first_line = error_text(o).splitlines()[0][:300]
            what = ("失败：" if zh else "failed: ") + first_line
        lines.append(f"- {call}: {what}")
    for c in not_run or []:
        what = "未提出（之前的变更被阻止）" if zh else "not proposed: an earlier one was stopped"
        lines.append(f"- `{_call_text(c)}`: {what}")
    if ran:
        lines += _after_change(ctx, ran)
    return "\n".join(lines) + "\n"


def _what_failed(f: Finding) -> str:
    """What the analyzers saw of a pod itself (its events left out), with the last log line
    before the crash, which tells most."""
    cause = f.facts.get("cause")
    if not isinstance(cause, list) or not cause:
        return f.evidence
    text = "; ".join(str(e) for e in cause)
    tail = f.facts.get("last_log_lines")
    if isinstance(tail, list) and tail:
        text += f"; last log line: {tail[-1]}"
    return text


def _after_change(ctx: Ctx, ran: list[Observation]) -> list[str]:
    """How to confirm the change took effect; for deleted crashing pods, why they crashed."""
    zh = ctx.zh
    spaces = sorted({str(o.args.get("namespace")) for o in ran if o.args.get("namespace")})
    out = [""]
    if spaces:
        out.append(
            "可以用"
            + "、".join(f"“查看 {ns} 命名空间下所有 Pod 的状态”" for ns in spaces)
            + "确认新 Pod 已就绪。"
            if zh
            else "Ask "
            + " or ".join(f"“show the pods in {ns}”" for ns in spaces)
            + " to confirm the new pods became ready."
        )
    deleted = {
        (str(o.args.get("namespace")), str(o.args.get("pod_name")))
        for o in ran
        if o.name == "delete_pod"
    }
    causes = [
        f
        for f in all_findings(ctx.tr.current)
        if f.kind == "pod" and (f.namespace, f.name) in deleted
    ]
    if causes:
        out += [
            "",
            "注意：删除只会让 Pod 重建，不会修复它失败的原因；分析器看到的原因："
            if zh
            else "Note: deleting only recreates the pods; it does not fix why they failed. "
            "What the analyzers saw:",
        ]
        seen: list[str] = []
        for f in causes:
            workload = f"{f.namespace}/{deployment_of(f.name)}"
            if workload in seen:
                continue
            seen.append(workload)
            evidence = _what_failed(f)[:240]
            out.append(f"- `{workload}` {f.reason}: {code(evidence)}")
        ns, name = seen[0].split("/", 1)
        out += [
            "",
            f"想找根因，可以问：“为什么 {ns} 的 {name} 一直重启”。"
            if zh
            else f'For the root cause, ask: "why is {name} in {ns} failing".',
        ]
    return out
