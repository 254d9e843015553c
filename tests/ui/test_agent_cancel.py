"""The agent in its worker: answers stream into the chat, Esc cancels a hung request within
1 s while the input keeps echoing, the next question works; no cluster -> a clear banner."""

from __future__ import annotations

from pathlib import Path

from opsconsole.ui.factory import build_app
from tests.fakes.openai_server import Hang, ScriptedOpenAIServer, reply

from .conftest import chat_text, make_settings, trace_text, wait_for


def _no_cluster_app(tmp_path: Path, srv: ScriptedOpenAIServer):
    settings = make_settings(tmp_path, base_url=srv.base_url)
    return build_app(settings, kubeconfig=str(tmp_path / "missing-kubeconfig"), frozen=True)


async def _ask(pilot, app, text: str) -> None:
    chat_input = app.main.chat.input
    chat_input.focus()
    chat_input.value = text
    await pilot.press("enter")


async def test_no_cluster_banner_and_streamed_answer(tmp_path: Path, model_server) -> None:
    model_server.push(reply("集群未连接。**Markdown** answer, 中文也可以。", chunk_size=4))
    app = _no_cluster_app(tmp_path, model_server)
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_for(pilot, lambda: app.backend is not None, what="backend")
        banner = app.main.query_one("#banner")
        assert banner.has_class("-visible")
        assert "no kubeconfig" in str(banner.render())
        assert app.main.status.context == "none"
        await _ask(pilot, app, "你好")
        await wait_for(pilot, lambda: "中文也可以" in chat_text(app), what="answer")
        await wait_for(pilot, lambda: not app.bridge.running, what="run end")
        assert "› 你好" in chat_text(app)
        assert app.main.status.state == "ready"
        assert app.main.status.tokens == 120  # usage (100, 20) of the scripted reply
        assert "finished" in trace_text(app)
    assert model_server.rejections == []


async def test_escape_cancels_hung_request_and_next_question_works(
    tmp_path: Path, model_server
) -> None:
    model_server.push(Hang(30))
    app = _no_cluster_app(tmp_path, model_server)
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_for(pilot, lambda: app.backend is not None, what="backend")
        await _ask(pilot, app, "first question")
        await wait_for(pilot, lambda: len(model_server.requests) == 1, what="request sent")
        assert app.bridge.running and app.main.status.state == "running"
        # the UI keeps echoing keystrokes while the model request hangs
        app.main.chat.input.focus()
        await pilot.press("a", "b", "c")
        assert app.main.chat.input.value == "abc"
        app.main.chat.input.value = ""
        await pilot.press("escape")  # the first Esc leaves the input, the second stops
        await pilot.press("escape")
        await wait_for(pilot, lambda: "Cancelled" in chat_text(app), timeout=15, what="cancel")
        assert not app.bridge.running
        assert app.main.status.state == "cancelled"
        await wait_for(pilot, lambda: "cancelled" in trace_text(app), timeout=15)

        model_server.push(reply("second answer"))
        await _ask(pilot, app, "second question")
        await wait_for(pilot, lambda: "second answer" in chat_text(app), what="answer")
        await wait_for(pilot, lambda: not app.bridge.running)
    assert model_server.rejections == []
    # the follow-up continued the same conversation
    second = model_server.requests[-1]["messages"]
    users = [m["content"] for m in second if m["role"] == "user"]
    assert users == ["first question", "second question"]


async def test_stop_button_cancels(tmp_path: Path, model_server) -> None:
    model_server.push(Hang(30))
    app = _no_cluster_app(tmp_path, model_server)
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_for(pilot, lambda: app.backend is not None)
        assert not app.main.query("#stop-button")  # mounted with the first run
        await _ask(pilot, app, "hang")
        await wait_for(pilot, lambda: len(model_server.requests) == 1)
        await wait_for(pilot, lambda: app.main.query("#stop-button"), what="stop button")
        stop = app.main.query_one("#stop-button")
        await wait_for(pilot, lambda: stop.display, what="stop button shown")
        await pilot.click("#stop-button")
        await wait_for(pilot, lambda: "Cancelled" in chat_text(app), timeout=15)
        await wait_for(pilot, lambda: not stop.display, what="stop button hidden")


async def test_model_error_is_shown_not_raised(tmp_path: Path, model_server) -> None:
    from tests.fakes.openai_server import error

    model_server.push(error(401, "Authentication Fails, Your api key is invalid"))
    app = _no_cluster_app(tmp_path, model_server)
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_for(pilot, lambda: app.backend is not None)
        await _ask(pilot, app, "hello")
        await wait_for(pilot, lambda: "✗" in chat_text(app), what="error in chat")
        await wait_for(pilot, lambda: not app.bridge.running)
        assert app.main.status.state == "failed"
        assert app.return_code is None or app.return_code == 0
        assert app.is_running
