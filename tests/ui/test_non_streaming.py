"""A model configured with ``stream: false`` (some vLLM / Ollama set-ups): the console shows
the answer, which arrives whole with no streamed text before it."""

from __future__ import annotations

from pathlib import Path

from opsconsole.ui.factory import build_app
from tests.fakes.openai_server import reply

from .conftest import chat_text, make_settings, wait_for


async def test_non_streamed_answer_is_shown(tmp_path: Path, model_server) -> None:
    settings = make_settings(tmp_path, base_url=model_server.base_url)
    settings = settings.replace(model=settings.model.replace(stream=False))
    model_server.push(reply("非流式的回答：一切正常。"), reply("第二个回答。"))
    app = build_app(settings, demo=True, frozen=True)
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_for(pilot, lambda: app.backend is not None, 30, "backend")
        app.main.chat.input.value = "hi"
        await pilot.press("enter")
        await wait_for(pilot, lambda: "一切正常" in chat_text(app), 10, "first answer")
        app.main.chat.input.value = "again"
        await pilot.press("enter")
        await wait_for(pilot, lambda: "第二个回答" in chat_text(app), 10, "second answer")
    assert all(body.get("stream") in (None, False) for body in model_server.requests)
