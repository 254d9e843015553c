"""Shared pieces of the offline planner's planning: decisions, the planning context, helpers.

A :class:`Ctx` holds what one planning call knows: the transcript read from ``messages``, the
parsed intent, the offered tools (name -> JSON-schema parameters), the names and analyzer
findings seen in observations, and which calls were already made after the latest user message
(a call is never repeated).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any

from opsconsole.planner import answers as ans
from opsconsole.planner.causes import is_security
from opsconsole.planner.facts import Finding, deployment_of
from opsconsole.planner.intents import Intent, Known
from opsconsole.planner.markdown import HEADER
from opsconsole.planner.observations import Observation, Transcript

DEFAULT_NAMESPACE = "default"
MUTATING = frozenset({"delete_pod", "scale_deployment", "rollout_restart"})
CRASHY = ("crashloop", "oomkilled", "error", "back-off", "backoff", "restart")


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
class Ctx:
    tr: Transcript
    intent: Intent
    offered: dict[str, dict[str, Any]]
    known: Known
    findings: list[Finding]
    max_steps: int
    done: set[str] = field(default_factory=set)
    #: the session's default namespace (from the system prompt), else "default"
    default_ns: str = DEFAULT_NAMESPACE

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
        key = call_key(name, clean)
        if key in self.done:
            return None
        return Call(name, clean)

    def called(self, name: str, /, **match: Any) -> list[Observation]:
        out = []
        for o in self.tr.current:
            if o.name == name and all(o.args.get(k) == v for k, v in match.items()):
                out.append(o)
        return out


def call_key(name: str, args: dict[str, Any]) -> str:
    return name + json.dumps(args, sort_keys=True, ensure_ascii=False)


def offered_tools(tools: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    out: dict[str, dict[str, Any]] = {}
    for tool in tools or []:
        fn = tool.get("function") if isinstance(tool, dict) else None
        if isinstance(fn, dict) and fn.get("name"):
            out[str(fn["name"])] = dict(fn.get("parameters") or {})
    return out


def make_step(thought: str, calls: list[Call | None]) -> Step | None:
    real = [c for c in calls if c is not None]
    return Step(thought, real) if real else None


def first_error(obs: list[Observation]) -> Observation | None:
    for o in obs:
        if o.failed:
            return o
    return None


def missing_tool(ctx: Ctx, tool: str) -> str:
    head = HEADER
    if ctx.zh:
        return f"{head}\n\n当前没有提供工具 `{tool}`，离线规划器无法完成这个请求。\n"
    return f"{head}\n\nThe tool `{tool}` is not offered, so the offline planner cannot do this.\n"


def namespace_or_default(ctx: Ctx) -> str:
    return ctx.intent.namespace or ctx.default_ns


def findings_about(ctx: Ctx, target: str, ns: str | None = None) -> list[Finding]:
    """Health findings about ``target``: exact name first, then prefix, then substring."""
    exact, prefix, inside = [], [], []
    for f in ctx.findings:
        if (ns and f.namespace and f.namespace != ns) or is_security(f):
            continue
        if f.name == target:
            exact.append(f)
        elif f.name.startswith(target + "-"):
            prefix.append(f)
        elif len(target) >= 3 and target in f.name:
            inside.append(f)
    return exact + prefix + inside


def deploy_of(pod: str) -> str:
    return deployment_of(pod)


def not_found(ctx: Ctx, target: str) -> str:
    pods = sorted(f"{ns}/{p}" for ns, p in ctx.known.pods)
    return ans.not_found_answer(ctx.intent, target, ctx.findings, pods)


_PRONOUN_RE = re.compile(r"它|这个|那个|该 ?pod|\b(?:it|its|this|that|them|the same)\b", re.I)


def focus_pod(ctx: Ctx) -> tuple[str, str] | None:
    """The pod the conversation was last about (an earlier describe or log read)."""
    for o in reversed(ctx.tr.earlier):
        if o.name in ("describe_pod", "get_pod_logs"):
            ns, pod = o.args.get("namespace"), o.args.get("pod_name")
            if isinstance(ns, str) and isinstance(pod, str):
                return ns, pod
    return None


def refers_back(ctx: Ctx) -> bool:
    """The task points at something said before ("它", "this pod", "its logs")."""
    return bool(_PRONOUN_RE.search(ctx.tr.task))
