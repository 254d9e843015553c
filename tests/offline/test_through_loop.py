"""The offline planner through the real agent loop, with scripted read-only tools.

Checks the contract with the loop: Thought events before the calls, one observation per call,
an Answer labelled as the offline planner, token usage reported, no mutating call, and a
follow-up question in the same conversation.
"""

from __future__ import annotations

import contextlib
from typing import Any

from opsconsole.agent.events import (
    Answer,
    RunFinished,
    Thought,
    ToolCallFinished,
    ToolCallStarted,
)
from opsconsole.agent.loop import AgentLoop
from opsconsole.agent.tools import Tool, ToolRegistry, ToolResult
from opsconsole.config import Settings
from opsconsole.planner import OfflinePlanner

from .scripted import TOOLS, answer
from .test_planning import WORLD

HEADER = "〔离线规划器 / offline planner〕"


def _registry(world: dict[str, Any], seen: list[tuple[str, dict[str, Any]]]) -> ToolRegistry:
    tools = []
    for spec in TOOLS:
        fn = spec["function"]
        name = fn["name"]

        def handler(args: dict[str, Any], _name: str = name) -> ToolResult:
            seen.append((_name, dict(args)))
            return answer(world, _name, args)

        tools.append(
            Tool(
                name=name,
                description=fn["description"],
                parameters=fn["parameters"],
                handler=handler,
                read_only=name != "delete_pod",
            )
        )
    return ToolRegistry(tools)


async def _run(loop: AgentLoop, task: str) -> list[Any]:
    events = []
    async with contextlib.aclosing(loop.run(task)) as stream:
        async for ev in stream:
            events.append(ev)
    return events


async def test_diagnosis_through_the_loop_then_follow_up() -> None:
    seen: list[tuple[str, dict[str, Any]]] = []
    loop = AgentLoop(OfflinePlanner(), _registry(WORLD, seen), settings=Settings())
    events = await _run(loop, "为什么 payments 的 ledger 一直重启")
    assert isinstance(events[-1], RunFinished), events[-1]
    thoughts = [e for e in events if isinstance(e, Thought)]
    started = [e for e in events if isinstance(e, ToolCallStarted)]
    finished = [e for e in events if isinstance(e, ToolCallFinished)]
    assert thoughts and "ledger" in thoughts[0].text
    assert {e.tool_call_id for e in started} == {e.tool_call_id for e in finished}
    assert all(e.status == "ok" for e in finished)
    assert not any(name == "delete_pod" for name, _ in seen)
    (answer,) = [e for e in events if isinstance(e, Answer)]
    assert answer.text.startswith(HEADER)
    assert "CrashLoopBackOff" in answer.text and "KeyError: 'LEDGER_DB_URL'" in answer.text
    assert (events[-1].prompt_tokens, events[-1].completion_tokens) == (0, 0)  # no model

    # a follow-up in the same conversation reuses what was observed
    seen.clear()
    events = await _run(loop, "再看看它的日志")
    assert isinstance(events[-1], RunFinished)
    assert seen and seen[0][0] == "get_pod_logs"
    assert seen[0][1]["pod_name"] == "ledger-6f7d8c9b4-k2x9p"
    (answer,) = [e for e in events if isinstance(e, Answer)]
    assert "KeyError" in answer.text

    # "why does it ..." diagnoses the pod the conversation is about
    seen.clear()
    events = await _run(loop, "why does it keep crashing?")
    assert ("describe_pod", {"namespace": "payments", "pod_name": "ledger-6f7d8c9b4-k2x9p"}) in seen
    (answer,) = [e for e in events if isinstance(e, Answer)]
    assert "Root cause" in answer.text and "CrashLoopBackOff" in answer.text


async def test_unsupported_request_through_the_loop() -> None:
    seen: list[tuple[str, dict[str, Any]]] = []
    loop = AgentLoop(OfflinePlanner(), _registry(WORLD, seen), settings=Settings())
    events = await _run(loop, "给我讲个笑话")
    assert isinstance(events[-1], RunFinished)
    assert seen == []
    (answer,) = [e for e in events if isinstance(e, Answer)]
    assert "DEEPSEEK_API_KEY" in answer.text and "无法处理" in answer.text


async def test_no_cluster_is_reported_not_crashed() -> None:
    """With the real tools but no cluster configured, the answer says so."""
    from opsconsole.k8s.tools import build_k8s_tools

    loop = AgentLoop(
        OfflinePlanner(), ToolRegistry(build_k8s_tools(None, Settings())), settings=Settings()
    )
    events = await _run(loop, "查看 default 命名空间下所有 Pod 的状态")
    assert isinstance(events[-1], RunFinished)
    (answer,) = [e for e in events if isinstance(e, Answer)]
    assert answer.text.startswith(HEADER)
    assert "no cluster configured" in answer.text and "错误" in answer.text
