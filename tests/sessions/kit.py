"""Helpers for the session tests: a sample session that uses every event type."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from opsconsole.agent import events as ev
from opsconsole.sessions.recorder import SessionRecorder

RUN = "run-1"
SUB = "run-2"


def every_event(t0: float = 1_700_000_000.0) -> list[ev.AgentEvent]:
    """One event of every type, in a plausible order (deltas never adjacent to each other)."""
    t = iter(t0 + i * 0.25 for i in range(100))
    return [
        ev.RunStarted(run_id=RUN, task="为什么 checkout 失败? why is checkout failing?",
                      model="fake-model", ts=next(t)),
        ev.StepStarted(run_id=RUN, step=1, ts=next(t)),
        ev.ReasoningDelta(run_id=RUN, step=1, text="look at pods", ts=next(t)),
        ev.TextDelta(run_id=RUN, step=1, text="Checking pods", ts=next(t)),
        ev.Thought(run_id=RUN, step=1, text="Checking pods", reasoning="look at pods", ts=next(t)),
        ev.ToolCallStarted(run_id=RUN, step=1, tool_call_id="c1", tool="get_k8s_pods",
                           arguments={"namespace": "shop"}, ts=next(t)),
        ev.ToolCallFinished(run_id=RUN, step=1, tool_call_id="c1", tool="get_k8s_pods",
                            status="ok", output="checkout-7d9: CrashLoopBackOff\ncart-1: Running",
                            duration=0.12, data={"rows": 2}, ts=next(t)),
        ev.UsageReported(run_id=RUN, step=1, prompt_tokens=100, completion_tokens=20,
                         cache_hit_tokens=64, cache_miss_tokens=36,
                         total_prompt_tokens=100, total_completion_tokens=20,
                         total_cache_hit_tokens=64, total_cache_miss_tokens=36, cost_usd=0.001,
                         ts=next(t)),
        ev.RetryScheduled(run_id=RUN, step=2, attempt=1, max_attempts=3, wait=2.0,
                          reason="429 rate limited", ts=next(t)),
        ev.AgentDispatched(run_id=RUN, step=2, target="security", task="check RBAC",
                           child_run_id=SUB, tool_call_id="c2", ts=next(t)),
        ev.RunStarted(run_id=SUB, agent="security", task="check RBAC", parent_run_id=RUN,
                      ts=next(t)),
        ev.RunFailed(run_id=SUB, agent="security", error="forbidden", error_type="forbidden",
                     hint="check RBAC", ts=next(t)),
        ev.ApprovalRequested(run_id=RUN, step=2, tool_call_id="c3", tool="delete_pod",
                             arguments={"namespace": "shop", "pod_name": "checkout-7d9"},
                             verb="delete", target="Pod/checkout-7d9", namespace="shop",
                             context="kind-dev", dry_run="pod deleted (dry run)", ts=next(t)),
        ev.ApprovalResolved(run_id=RUN, step=2, tool_call_id="c3", decision="approve",
                            ts=next(t)),
        ev.ToolCallStarted(run_id=RUN, step=2, tool_call_id="c3", tool="delete_pod",
                           arguments={"namespace": "shop", "pod_name": "checkout-7d9"},
                           mutating=True, ts=next(t)),
        ev.ToolCallFinished(run_id=RUN, step=2, tool_call_id="c3", tool="delete_pod",
                            status="ok", output="pod shop/checkout-7d9 deleted", ts=next(t)),
        ev.Notice(run_id=RUN, step=3, text="context compacted", level="warning", ts=next(t)),
        ev.PrefixChanged(run_id=RUN, step=3, reason="write_mode",
                         text="write mode on; the provider's prompt cache starts over",
                         ts=next(t)),
        ev.TextDelta(run_id=RUN, step=3, text="The checkout pod", ts=next(t)),
        ev.Answer(run_id=RUN, step=3, text="The checkout pod was crash-looping; deleted it.",
                  ts=next(t)),
        ev.RunFinished(run_id=RUN, step=3, steps=3, prompt_tokens=300, completion_tokens=60,
                       duration=4.5, ts=next(t)),
        ev.RunStarted(run_id="run-3", task="and now?", ts=next(t)),
        ev.RunCancelled(run_id="run-3", reason="cancelled by user", ts=next(t)),
    ]  # fmt: skip


def transcript() -> list[dict[str, Any]]:
    return [
        {"role": "system", "content": "you are an ops agent"},
        {"role": "user", "content": "why is checkout failing?"},
        {
            "role": "assistant",
            "content": "Checking pods",
            "tool_calls": [
                {
                    "id": "c1",
                    "type": "function",
                    "function": {"name": "get_k8s_pods", "arguments": '{"namespace":"shop"}'},
                }
            ],
        },
        {"role": "tool", "tool_call_id": "c1", "content": "checkout-7d9: CrashLoopBackOff"},
        {"role": "assistant", "content": "The checkout pod was crash-looping."},
    ]


def write_sample(directory: Path, **kw: Any) -> Path:
    """A complete session file with every event type, a transcript, an audit and snapshots."""
    rec = SessionRecorder.create(directory, model="fake-model", context="kind-dev", **kw)
    msgs: list[dict[str, Any]] = []
    script = transcript()
    for i, event in enumerate(every_event()):
        rec.record(event)
        if i % 4 == 0 and script:
            msgs.append(script.pop(0))
            rec.sync_messages(msgs)
        if event.kind == "tool_call_finished" and event.tool == "get_k8s_pods":
            rec.snapshot_pods(
                [{"namespace": "shop", "name": "checkout-7d9", "status": "CrashLoopBackOff"}],
                namespace="shop",
            )
        if event.kind == "approval_resolved":
            rec.audit(
                "before",
                tool_call_id="c3",
                tool="delete_pod",
                arguments={"namespace": "shop", "pod_name": "checkout-7d9"},
                context="kind-dev",
                approval_source="user",
                decision="approve",
            )
    msgs.extend(script)
    rec.sync_messages(msgs)
    rec.snapshot_logs(["boot", "panic: db down"], pod="checkout-7d9", namespace="shop")
    rec.close()
    return rec.path


def lines(path: Path) -> list[dict[str, Any]]:
    return [json.loads(x) for x in path.read_bytes().splitlines()]


# --- a real agent loop against the scripted OpenAI-compatible server ---------------------

DELETE_SCHEMA = {
    "type": "object",
    "properties": {"namespace": {"type": "string"}, "pod_name": {"type": "string"}},
    "required": ["namespace", "pod_name"],
}
PODS_SCHEMA = {
    "type": "object",
    "properties": {"namespace": {"type": "string"}},
    "required": ["namespace"],
}


class ScriptedApprover:
    def __init__(self, *decisions: str) -> None:
        self.decisions = list(decisions)
        self.requests: list[Any] = []

    async def approve(self, request: Any) -> Any:
        from opsconsole.agent.approval import ApprovalDecision

        self.requests.append(request)
        return ApprovalDecision(self.decisions.pop(0) if self.decisions else "decline")


def make_tools(on_delete: Any, calls: list[str]) -> list[Any]:
    from opsconsole.agent.tools import ActionSummary, Tool

    def pods(args: dict[str, Any]) -> str:
        calls.append("get_k8s_pods")
        return "checkout-7d9: CrashLoopBackOff"

    def delete(args: dict[str, Any]) -> str:
        calls.append("delete_pod")
        on_delete(args)
        return f"pod {args['namespace']}/{args['pod_name']} deleted"

    return [
        Tool("get_k8s_pods", "list pods", PODS_SCHEMA, pods, read_only=True),
        Tool(
            "delete_pod",
            "delete a pod",
            DELETE_SCHEMA,
            delete,
            read_only=False,
            summarize=lambda a: ActionSummary("delete", "Pod", a["pod_name"], a["namespace"]),
        ),
    ]


def make_loop(base_url: str, tools: list[Any], **kwargs: Any) -> Any:
    from opsconsole.agent.loop import AgentLoop
    from opsconsole.agent.model import OpenAIModelClient
    from opsconsole.agent.tools import ToolRegistry
    from opsconsole.config import Settings

    settings = Settings.from_data(
        {
            "model": {
                "base_url": base_url,
                "name": "fake-model",
                "api_key_env": "OPSCONSOLE_TEST_SESSION_KEY",
                "timeout": {"connect": 5, "read": 10, "total": 20},
            },
            "agent": {"language": "en"},
        }
    )
    client = OpenAIModelClient(settings.model, api_key="test-key", backoff_base=0.01)
    return AgentLoop(client, ToolRegistry(tools), settings=settings, **kwargs)


async def run_recorded(loop: Any, rec: SessionRecorder, task: str) -> list[Any]:
    out = []
    async for event in loop.run(task):
        rec.record(event)
        out.append(event)
    return out
