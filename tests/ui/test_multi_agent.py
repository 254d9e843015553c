"""The console with the multi-agent Scheduler: the agent tree in the trace; Esc during a
fan-out stops every branch within 1 s and the next question works (real openai client
against the scripted server)."""

from __future__ import annotations

from pathlib import Path

from opsconsole.ui.factory import build_app
from opsconsole.ui.widgets.trace import ToolBlock
from tests.fakes.openai_server import Hang, reply, tool_call

from .conftest import chat_text, make_settings, trace_text, wait_for


async def test_cancel_during_fan_out_then_follow_up(tmp_path: Path, model_server) -> None:
    model_server.push(
        reply(
            tool_calls=[
                tool_call("ask_ops", {"task": "看看 shop 的 pod"}),
                tool_call("ask_security", {"task": "检查 shop 的安全问题"}),
            ]
        ),
        Hang(30),
        Hang(30),
    )
    settings = make_settings(tmp_path, base_url=model_server.base_url)
    app = build_app(settings, demo=True, frozen=True, multi_agent=True)
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_for(pilot, lambda: app.backend is not None and app.feeds.pods_ready, 30)
        app.main.chat.input.value = "检查 shop 的 pod 和安全问题"
        await pilot.press("enter")
        await wait_for(pilot, lambda: len(model_server.requests) == 3, 15, "both specialists")
        trace = app.main.trace
        # the tree: each specialist's step sits inside the scheduler's ask_* call

        def nested() -> int:
            return sum(isinstance(s.parent, ToolBlock) for s in trace.steps.values())

        await wait_for(pilot, lambda: nested() == 2, 30, "two specialist steps in the tree")
        await pilot.press("escape")  # the first Esc leaves the chat input, the second stops
        await pilot.press("escape")
        await wait_for(pilot, lambda: "Cancelled" in chat_text(app), 15, "cancelled")
        assert all(s.state != "running" for s in trace.steps.values())
        model_server.push(reply("好的，已停止。"))
        app.main.chat.input.focus()  # back to the input (Esc had left it)
        app.main.chat.input.value = "继续"
        await pilot.press("enter")
        await wait_for(pilot, lambda: "好的，已停止。" in chat_text(app), 15, "follow-up")
        assert "ask_ops" in trace_text(app)
    assert model_server.rejections == []
