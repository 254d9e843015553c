"""The offline planner's changes: scale, rollout restart and delete, only when offered.

In read-only mode the mutating tools are not offered, so the planner explains the change and
the command instead (:func:`offline_answers.mutate_answer`). In write mode it *proposes* the
call; the loop then asks the user to approve it (or the eval harness approves it), exactly as
for a model's call, and the answer reports what the cluster said. One request may name several
changes ("scale catalog to 3 and restart web"): each clause becomes one call in the same step.
"""

from __future__ import annotations

import re
from dataclasses import replace
from typing import Any

from opsconsole.agent import offline_answers as ans
from opsconsole.agent.offline_context import Call, Ctx, Decision, Final, Step
from opsconsole.agent.offline_intents import Intent, parse_intent

TOOL_FOR_VERB = {"scale": "scale_deployment", "restart": "rollout_restart", "delete": "delete_pod"}

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
        if not sub.target and prev is not None:
            sub = replace(sub, target=prev.target, namespace=sub.namespace or prev.namespace)
        if not sub.target:
            continue
        key = (TOOL_FOR_VERB.get(sub.verb or ""), sub.target)
        by_object.pop(key, None)
        by_object[key] = sub
        prev = sub
    return list(by_object.values()) or [intent]


def _call_for(intent: Intent, default_ns: str, ns_hint: str | None) -> Call | None:
    tool = TOOL_FOR_VERB.get(intent.verb or "")
    if tool is None or not intent.target:
        return None
    args: dict[str, Any] = {"namespace": intent.namespace or ns_hint or default_ns}
    if tool == "delete_pod":
        args["pod_name"] = intent.target
    else:
        args["name"] = intent.target
    if tool == "scale_deployment":
        n = replicas_in(intent.text)
        if n is None:
            return None
        args["replicas"] = n
    return Call(tool, args)


def plan_mutation(ctx: Ctx) -> Decision:
    intent = ctx.intent
    calls = [_call_for(c, ctx.default_ns, intent.namespace) for c in _clauses(intent)]
    if not calls or any(c is None or c.name not in ctx.offered for c in calls):
        return Final(ans.mutate_answer(intent))
    done = [o for o in ctx.tr.current if o.name in TOOL_FOR_VERB.values()]
    if done:
        return Final(_result_answer(intent, done))
    real = [c for c in calls if c is not None]
    what = "; ".join(f"{c.name}({_args_text(c.args)})" for c in real)
    thought = ctx.say(
        f"这是变更操作，需要你确认后才会执行：{what}。",
        f"This changes the cluster and needs your approval before it runs: {what}.",
    )
    return Step(thought, real)


def _args_text(args: dict[str, Any]) -> str:
    return ", ".join(f"{k}={v}" for k, v in args.items())


def _result_answer(intent: Intent, done: list[Any]) -> str:
    zh = intent.language == "zh"
    lines = [ans.HEADER, ""]
    lines.append("变更结果：" if zh else "Result of the change:")
    lines.append("")
    for o in done:
        first = (o.content or "").strip().splitlines()[:4]
        status = "\n  ".join(first) or ("（无输出）" if zh else "(no output)")
        lines.append(f"- `{o.name}({_args_text(o.args)})`: {status}")
    lines.append("")
    if zh:
        lines.append("可以用“查看 <命名空间> 命名空间下所有 Pod 的状态”确认新 Pod 已就绪。")
    else:
        lines.append("Ask “show the pods in <namespace>” to confirm the new pods became ready.")
    return "\n".join(lines) + "\n"
