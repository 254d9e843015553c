"""The log viewer's requests, wired by the app: selected lines become context for the next
question; `p` shows the previous (crashed) container; `c` picks a container."""

from __future__ import annotations

from pathlib import Path

from opsconsole.ui.factory import build_app
from opsconsole.ui.screens.modals import ContainerPickerModal
from tests.fakes.openai_server import reply

from .conftest import chat_text, make_settings, wait_for


async def _crashing_pod(pilot, app):
    await wait_for(pilot, lambda: app.backend is not None and app.feeds.pods_ready, 30, "pods")
    pod = next(r for r in app.main.pods.rows() if r.name.startswith("payment-api"))
    app.feeds.show_pod(pod.namespace, pod.name)
    logs = app.main.logs
    await wait_for(pilot, lambda: logs.line_count >= 3, 15, "log lines")
    return pod, logs


async def test_selected_log_lines_go_to_the_next_question(tmp_path: Path, model_server) -> None:
    model_server.push(reply("The config key PAYMENT_GATEWAY_URL is missing."))
    settings = make_settings(tmp_path, base_url=model_server.base_url)
    app = build_app(settings, demo=True, frozen=True)
    async with app.run_test(size=(120, 40)) as pilot:
        pod, logs = await _crashing_pod(pilot, app)
        logs.body.focus()
        await pilot.press("v", "up", "up", "a")
        await wait_for(pilot, lambda: "attached as context" in chat_text(app), 30, "context")
        assert app.main.focused is app.main.chat.input
        app.main.chat.input.value = "why does it crash?"
        await pilot.press("enter")
        await wait_for(pilot, lambda: "PAYMENT_GATEWAY_URL is missing" in chat_text(app), 15)
        # the chat shows only the question, not the attached lines
        assert "› why does it crash?" in chat_text(app)
    user = [m for m in model_server.requests[0]["messages"] if m["role"] == "user"][-1]
    assert user["content"].startswith("why does it crash?")
    assert "Selected log lines" in user["content"]
    # untrusted data (S7), named by its source
    assert f"<untrusted-log pod={pod.namespace}/{pod.name}" in user["content"]
    assert user["content"].rstrip().endswith("</untrusted-log>")


async def test_previous_container_and_container_picker(tmp_path: Path) -> None:
    app = build_app(make_settings(tmp_path), demo=True, offline=True, frozen=True)
    async with app.run_test(size=(120, 40)) as pilot:
        pod, logs = await _crashing_pod(pilot, app)
        logs.body.focus()
        await pilot.press("p")
        await wait_for(pilot, lambda: logs.previous and "(previous)" in app.feeds.log_source, 30)
        await wait_for(pilot, lambda: logs.line_count > 0, 15, "previous log lines")
        logs.body.focus()
        await pilot.press("c")
        await wait_for(pilot, lambda: isinstance(app.screen, ContainerPickerModal), 30, "picker")
        assert app.screen.containers == [c.name for c in pod.containers if not c.init]
        await pilot.press("enter")
        await wait_for(pilot, lambda: not isinstance(app.screen, ContainerPickerModal), 30)
        await wait_for(pilot, lambda: logs.container == pod.containers[0].name, 30, "container")
