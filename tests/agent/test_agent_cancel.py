"""Cancelling at any moment leaves a transcript the (validating) API accepts (A12, DESIGN §3)."""

from __future__ import annotations

import asyncio
import contextlib
import json
import threading
from typing import Any

import pytest

from opsconsole.agent.events import (
    AgentEvent,
    Answer,
    RunCancelled,
    TextDelta,
    ToolCallFinished,
    ToolCallStarted,
)
from opsconsole.agent.loop import drive
from opsconsole.agent.tools import Tool
from tests.agent.agentkit import POD_SCHEMA, collect, make_loop, make_tools, of
from tests.fakes.openai_server import ScriptedOpenAIServer, reply, tool_call


async def _cancel_when(loop, task_text: str, predicate) -> list[AgentEvent]:
    """Run ``task_text`` in a task like the TUI worker does and cancel it when an event
    matches ``predicate``. Returns every event the consumer saw (RunCancelled last)."""
    seen: list[AgentEvent] = []
    hit = asyncio.Event()

    def on_event(ev: AgentEvent) -> None:
        seen.append(ev)
        if predicate(ev):
            hit.set()

    worker = asyncio.create_task(drive(loop, task_text, on_event))
    waiter = asyncio.create_task(hit.wait())
    done, _ = await asyncio.wait({worker, waiter}, timeout=10, return_when="FIRST_COMPLETED")
    assert waiter in done, f"predicate never matched; events: {[e.kind for e in seen]}"
    worker.cancel()
    with pytest.raises(asyncio.CancelledError):
        await worker
    return seen


async def test_cancel_mid_stream_discards_the_partial_reply(calls):
    with ScriptedOpenAIServer(strict_alternation=True) as srv:
        srv.push(reply("a slow answer " * 20, chunk_size=4, event_interval=0.02))
        loop = make_loop(srv, make_tools(calls))
        seen = await _cancel_when(loop, "q", lambda e: isinstance(e, TextDelta))
        assert isinstance(seen[-1], RunCancelled)
        assert sum(isinstance(e, RunCancelled) for e in seen) == 1
        assert loop.terminal_event is seen[-1]
        assert [m["role"] for m in loop.conversation.messages] == ["system", "user"]
        assert not loop.running
        srv.push(reply("second try"))
        events = await collect(loop, "q again")
        assert of(events, Answer)[0].text == "second try"
        assert srv.rejections == []


async def test_cancel_after_first_of_three_tools_keeps_one_result_and_two_cancelled(srv):
    release = threading.Event()
    slow_started = asyncio.Event()

    def fast(args: dict[str, Any]) -> str:
        return "fast result"

    async def slow_async(args: dict[str, Any]) -> str:
        slow_started.set()
        await asyncio.sleep(30)
        return "never"

    def slow_sync(args: dict[str, Any]) -> str:
        release.wait(30)
        return "never"

    tools = [
        Tool("fast", "f", POD_SCHEMA, fast, read_only=True),
        Tool("slow_async", "s", POD_SCHEMA, slow_async, read_only=True),
        Tool("slow_sync", "s", POD_SCHEMA, slow_sync, read_only=True),
    ]
    srv.push(
        reply(
            tool_calls=[
                tool_call("fast", {"namespace": "a"}, id="call_1"),
                tool_call("slow_async", {"namespace": "b"}, id="call_2"),
                tool_call("slow_sync", {"namespace": "c"}, id="call_3"),
            ]
        )
    )
    loop = make_loop(srv, tools)
    try:
        seen = await _cancel_when(loop, "three things", lambda e: isinstance(e, ToolCallFinished))
    finally:
        release.set()
    assert isinstance(seen[-1], RunCancelled)
    assert [e.tool_call_id for e in of(seen, ToolCallStarted)] == ["call_1", "call_2", "call_3"]
    tool_msgs = [m for m in loop.conversation.messages if m["role"] == "tool"]
    assert [m["tool_call_id"] for m in tool_msgs] == ["call_1", "call_2", "call_3"]
    assert tool_msgs[0]["content"] == "fast result"
    assert [json.loads(m["content"]) for m in tool_msgs[1:]] == [{"status": "cancelled"}] * 2
    srv.push(reply("ok, stopped"))
    events = await collect(loop, "never mind")
    assert of(events, Answer)[0].text == "ok, stopped"
    assert srv.rejections == []
    sent = [m for m in srv.requests[-1]["messages"] if m["role"] == "tool"]
    assert len(sent) == 3


async def test_cancel_while_waiting_for_approval(srv, calls):
    class NeverApprover:
        async def approve(self, request):
            await asyncio.sleep(60)

    srv.push(
        reply(
            tool_calls=[
                tool_call("get_k8s_pods", {"namespace": "a"}),
                tool_call("delete_pod", {"namespace": "a", "pod_name": "p"}),
            ]
        )
    )
    loop = make_loop(srv, make_tools(calls), write_mode=True, approver=NeverApprover())
    seen = await _cancel_when(loop, "clean up", lambda e: e.kind == "approval_requested")
    assert isinstance(seen[-1], RunCancelled)
    assert "delete_pod" not in calls.names()
    srv.push(reply("cancelled"))
    await collect(loop, "ok")
    assert srv.rejections == []


async def test_cancel_during_retry_wait_aborts_at_once(srv, calls):
    from tests.fakes.openai_server import error

    srv.push(error(429, "busy", headers={"Retry-After": "30"}))
    loop = make_loop(srv, make_tools(calls))
    seen = await _cancel_when(loop, "q", lambda e: e.kind == "retry_scheduled")
    assert isinstance(seen[-1], RunCancelled)
    assert len(srv.requests) == 1


async def test_aclose_of_an_abandoned_generator_repairs_the_transcript(srv):
    gate = asyncio.Event()

    async def blocked(args: dict[str, Any]) -> str:
        await gate.wait()
        return "late"

    tools = [Tool("blocked", "b", POD_SCHEMA, blocked, read_only=True)]
    srv.push(reply(tool_calls=[tool_call("blocked", {"namespace": "x"}, id="call_x")]))
    loop = make_loop(srv, tools)
    gen = loop.run("q")
    async for ev in gen:
        if isinstance(ev, ToolCallStarted):
            break
    await gen.aclose()
    assert isinstance(loop.terminal_event, RunCancelled)
    assert loop.conversation.messages[-1] == {
        "role": "tool",
        "tool_call_id": "call_x",
        "content": '{"status":"cancelled"}',
    }
    # and a consumer that neither closes nor cancels: the next run supersedes it
    srv.push(reply(tool_calls=[tool_call("blocked", {"namespace": "y"}, id="call_y")]))
    gen2 = loop.run("again")
    async for ev in gen2:
        if isinstance(ev, ToolCallStarted):
            break
    srv.push(reply("fresh"))
    events = await collect(loop, "third")
    assert of(events, Answer)[0].text == "fresh"
    assert srv.rejections == []
    with contextlib.suppress(Exception):
        await gen2.aclose()
    assert of(events, Answer)  # the stale generator's cleanup did not touch the new run


async def test_a_superseded_run_resumed_later_ends_cancelled_and_touches_nothing(srv):
    gate = asyncio.Event()

    async def blocked(args: dict[str, Any]) -> str:
        await gate.wait()
        return "late"

    tools = [Tool("blocked", "b", POD_SCHEMA, blocked, read_only=True)]
    srv.push(reply(tool_calls=[tool_call("blocked", {"namespace": "x"}, id="call_old")]))
    loop = make_loop(srv, tools)
    old = loop.run("first")
    async for ev in old:
        if isinstance(ev, ToolCallStarted):
            break
    srv.push(reply("new answer"))
    new_events = await collect(loop, "second")  # supersedes the abandoned run
    assert of(new_events, Answer)[0].text == "new answer"
    rest = [ev async for ev in old]  # the old consumer wakes up
    assert [type(e) for e in rest] == [RunCancelled]
    assert rest[0].run_id != new_events[0].run_id
    assert loop.terminal_event.kind == "run_finished"
    srv.push(reply("third"))
    await collect(loop, "third")
    assert srv.rejections == []
