"""A scripted world for planning tests: tool schemas like the real ones, canned observations.

``drive`` plays the agent loop's part: it calls the planner, answers each tool call with the
canned text for that tool (a function of the arguments), appends the assistant message and the
tool messages, and repeats until the planner answers.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from opsconsole.agent.model import ModelTurn, ReasoningChunk, TextChunk
from opsconsole.planner import OfflinePlanner


def tool(name: str, props: dict[str, str], required: list[str]) -> dict[str, Any]:
    return {
        "type": "function",
        "function": {
            "name": name,
            "description": name,
            "parameters": {
                "type": "object",
                "properties": {k: {"type": v} for k, v in props.items()},
                "required": required,
            },
        },
    }


NS_POD = {"namespace": "string", "pod_name": "string"}
TOOLS = [
    tool("get_k8s_pods", {"namespace": "string"}, ["namespace"]),
    tool(
        "get_pod_logs",
        {**NS_POD, "lines": "integer", "previous": "boolean"},
        ["namespace", "pod_name"],
    ),
    tool("describe_pod", NS_POD, ["namespace", "pod_name"]),
    tool("get_events", {"namespace": "string"}, []),
    tool("get_deployments", {"namespace": "string"}, ["namespace"]),
    tool("get_nodes", {}, []),
    tool("get_resource_usage", {"namespace": "string"}, []),
    tool("find_unhealthy_pods", {"namespace": "string"}, []),
    tool("delete_pod", NS_POD, ["namespace", "pod_name"]),
]

Responder = Callable[[dict[str, Any]], str]


@dataclass
class Run:
    calls: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    steps: list[list[str]] = field(default_factory=list)
    thoughts: list[str] = field(default_factory=list)
    answer: str = ""
    messages: list[dict[str, Any]] = field(default_factory=list)


async def drive(
    task: str,
    world: dict[str, Responder | str],
    *,
    tools: list[dict[str, Any]] | None = None,
    language: str = "auto",
    history: list[dict[str, Any]] | None = None,
    max_turns: int = 12,
) -> Run:
    planner = OfflinePlanner(language)
    run = Run()
    messages = list(history or [{"role": "system", "content": "ops agent"}])
    messages.append({"role": "user", "content": task})
    for _ in range(max_turns):
        items = [item async for item in planner.run_turn(messages, tools or TOOLS)]
        turn = items[-1]
        assert isinstance(turn, ModelTurn)
        assert all(isinstance(i, TextChunk | ReasoningChunk) for i in items[:-1])
        # no model, no tokens: an explicit zero, so the loop does not estimate any
        assert turn.usage is not None
        assert (turn.usage.prompt_tokens, turn.usage.completion_tokens) == (0, 0)
        if not turn.tool_calls:
            assert turn.finish_reason == "stop"
            run.answer = turn.content
            assert "".join(i.text for i in items[:-1] if isinstance(i, TextChunk)) == turn.content
            break
        run.thoughts.append(turn.content)
        run.steps.append([c.name for c in turn.tool_calls])
        messages.append(
            {
                "role": "assistant",
                "content": turn.content,
                "tool_calls": [
                    {
                        "id": c.id,
                        "type": "function",
                        "function": {"name": c.name, "arguments": c.arguments},
                    }
                    for c in turn.tool_calls
                ],
            }
        )
        for c in turn.tool_calls:
            args = json.loads(c.arguments)
            run.calls.append((c.name, args))
            resp = world.get(c.name, f"error: no canned output for {c.name}")
            text = resp(args) if callable(resp) else resp
            messages.append({"role": "tool", "tool_call_id": c.id, "content": text})
    else:
        raise AssertionError("the planner never answered")
    run.messages = messages
    return run
