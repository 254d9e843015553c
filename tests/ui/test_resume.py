"""``opsconsole --resume``: the console continues a recorded session with a live model. The
earlier questions and answers are shown; a tool call the old run left unanswered is answered as
``interrupted`` (never re-run) and the validating model server accepts the next request."""

from __future__ import annotations

import json
from pathlib import Path

from opsconsole.sessions.recorder import SessionRecorder
from opsconsole.ui.factory import build_app
from tests.fakes.openai_server import reply

from .conftest import chat_text, make_settings, wait_for


def _interrupted_session(settings) -> Path:
    rec = SessionRecorder.from_settings(settings, model="fake-model", context="opsconsole-sandbox")
    assert rec is not None
    rec.sync_messages(
        [
            {"role": "system", "content": "你是一个运维 Agent。"},
            {"role": "user", "content": "之前的问题：shop 的 cart 怎么样？"},
            {"role": "assistant", "content": "cart 有 2 个副本，都在运行。"},
            {"role": "user", "content": "再看看 payments"},
            {
                "role": "assistant",
                "content": "",
                "tool_calls": [
                    {
                        "id": "call_old_1",
                        "type": "function",
                        "function": {
                            "name": "get_k8s_pods",
                            "arguments": '{"namespace":"payments"}',
                        },
                    }
                ],
            },
        ]
    )
    path = rec.path
    rec.close()
    return path


async def test_resume_continues_the_transcript(tmp_path: Path, model_server) -> None:
    settings = make_settings(tmp_path, base_url=model_server.base_url)
    path = _interrupted_session(settings)
    model_server.push(reply("继续之前的调查：payments 的 payment-api 在崩溃重启。"))
    app = build_app(settings, demo=True, frozen=True, resume=str(path))
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_for(pilot, lambda: app.backend is not None, 30, "backend")
        await wait_for(pilot, lambda: "Resumed session" in chat_text(app), 10, "resume note")
        text = chat_text(app)
        assert "之前的问题：shop 的 cart 怎么样？" in text
        assert "cart 有 2 个副本，都在运行。" in text
        assert "1 unfinished tool call(s) marked interrupted" in text
        app.main.chat.input.value = "继续"
        await pilot.press("enter")
        await wait_for(pilot, lambda: "payment-api 在崩溃重启" in chat_text(app), 15, "answer")
    assert model_server.rejections == []
    sent = model_server.requests[-1]
    body = sent if isinstance(sent, dict) else json.loads(sent)
    messages = body["messages"]
    tool_msgs = [m for m in messages if m["role"] == "tool"]
    assert [m["tool_call_id"] for m in tool_msgs] == ["call_old_1"]
    assert "interrupted" in tool_msgs[0]["content"]
    assert messages[-1] == {"role": "user", "content": "继续"} or messages[-1]["content"] == "继续"
    # the same file got the new run, and the old tool was never executed again
    records = [json.loads(line) for line in path.read_text().splitlines()]
    started = [r for r in records if r.get("event", {}).get("type") == "tool_call_started"]
    assert started == []
    assert any(r.get("event", {}).get("type") == "run_finished" for r in records)


async def test_sessions_picker_resumes_in_the_running_console(tmp_path: Path, model_server) -> None:
    from opsconsole.ui.screens.sessions import SessionsModal

    settings = make_settings(tmp_path, base_url=model_server.base_url)
    path = _interrupted_session(settings)
    model_server.push(reply("接着看 payments：payment-api 缺少配置项。"))
    app = build_app(settings, demo=True, frozen=True)
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_for(pilot, lambda: app.backend is not None, 30, "backend")
        app.main.chat.input.value = "/sessions"
        await pilot.press("enter")
        await wait_for(pilot, lambda: isinstance(app.screen, SessionsModal), 10, "picker")
        modal = app.screen
        assert [s.path for s in modal.summaries] == [str(path)]  # not the console's own file
        await pilot.press("enter")
        await wait_for(pilot, lambda: "cart 有 2 个副本" in chat_text(app), 10, "history")
        assert app.backend.recorder.path == path
        app.main.chat.input.value = "继续"
        await pilot.press("enter")
        await wait_for(pilot, lambda: "缺少配置项" in chat_text(app), 15, "answer")
    assert model_server.rejections == []
    tool_msgs = [m for m in model_server.requests[-1]["messages"] if m["role"] == "tool"]
    assert [m["tool_call_id"] for m in tool_msgs] == ["call_old_1"]


async def test_resume_shows_every_answer_of_a_console_session(tmp_path: Path, model_server) -> None:
    """A session recorded by the console itself (two questions, two answers), resumed in a new
    console: both answers are back in the chat, the last one included, and the model gets both."""
    settings = make_settings(tmp_path, base_url=model_server.base_url)
    model_server.push(reply("第一个回答：cart 正常。"))
    model_server.push(reply("second answer: payment-api lacks a ConfigMap key."))
    app = build_app(settings, demo=True, frozen=True)
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_for(pilot, lambda: app.backend is not None, 30, "backend")
        for question, answer in (
            ("cart 怎么样？", "cart 正常"),
            ("and payments?", "ConfigMap key"),
        ):
            app.main.chat.input.value = question
            await pilot.press("enter")
            await wait_for(pilot, lambda a=answer: a in chat_text(app), 15, "answer")
            await wait_for(pilot, lambda: not app.bridge.running, 15, "run finished")
        path = app.backend.recorder.path
    model_server.push(reply("third answer."))
    again = build_app(settings, demo=True, frozen=True, resume=str(path))
    async with again.run_test(size=(120, 40)) as pilot:
        await wait_for(pilot, lambda: "Resumed session" in chat_text(again), 30, "resume note")
        text = chat_text(again)
        assert "第一个回答：cart 正常。" in text
        assert "second answer: payment-api lacks a ConfigMap key." in text
        again.main.chat.input.value = "继续"
        await pilot.press("enter")
        await wait_for(pilot, lambda: "third answer." in chat_text(again), 15, "third answer")
    contents = [m.get("content") for m in model_server.requests[-1]["messages"]]
    assert "second answer: payment-api lacks a ConfigMap key." in contents
