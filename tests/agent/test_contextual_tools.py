"""A contextual tool (an agent run as a tool) knows the call it serves and puts its own events
into the caller's stream: after the call's ToolCallStarted, before its ToolCallFinished; a
forwarded RunFinished of another run does not end the caller's run."""

from __future__ import annotations

from typing import Any

from opsconsole.agent.events import Notice, RunFinished, ToolCallFinished, ToolCallStarted
from opsconsole.agent.tools import Tool, ToolContext
from tests.agent.agentkit import collect, make_loop, of
from tests.fakes.openai_server import reply, tool_call


def _child_tool(seen: list[ToolContext]) -> Tool:
    async def handler(args: dict[str, Any], ctx: ToolContext) -> str:
        seen.append(ctx)
        ctx.emit(Notice(run_id="child-run", agent="helper", text=f"working on {args['task']}"))
        ctx.emit(RunFinished(run_id="child-run", agent="helper", steps=1))
        return "the helper's answer"

    return Tool(
        name="ask_helper",
        description="ask the helper agent",
        parameters={
            "type": "object",
            "properties": {"task": {"type": "string"}},
            "required": ["task"],
            "additionalProperties": False,
        },
        handler=handler,
        read_only=True,
        contextual=True,
    )


async def test_contextual_tool_gets_its_call_and_streams_its_events(srv) -> None:
    srv.push(
        reply("Asking the helper.", tool_calls=[tool_call("ask_helper", {"task": "x"}, id="c-1")]),
        reply("The helper said so."),
    )
    seen: list[ToolContext] = []
    loop = make_loop(srv, [_child_tool(seen)])
    events = await collect(loop, "ask the helper")

    [ctx] = seen
    started = of(events, RunFinished)
    own = [e for e in started if e.run_id == ctx.run_id]
    assert ctx.tool_call_id == "c-1" and ctx.agent == loop.agent and ctx.step == 1
    # the run went on after the forwarded RunFinished, to its own answer and end
    assert len(own) == 1 and events[-1] is own[0]
    assert loop.terminal_event is own[0]
    order = [
        type(e).__name__
        for e in events
        if isinstance(e, ToolCallStarted | ToolCallFinished | Notice | RunFinished)
    ]
    assert order[:4] == ["ToolCallStarted", "Notice", "RunFinished", "ToolCallFinished"]
    notice = of(events, Notice)[0]
    assert notice.agent == "helper" and notice.text == "working on x"
