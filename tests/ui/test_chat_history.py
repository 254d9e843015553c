"""The chat input's ↑ recalls questions from earlier launches (like a shell), redacted, 0600,
and nothing is written when session recording is off."""

from __future__ import annotations

import os
from pathlib import Path

from opsconsole.ui.factory import build_app
from opsconsole.ui.history import history_file

from .conftest import make_settings


async def _ask_and_quit(settings, *questions: str) -> None:
    app = build_app(settings, demo=True, connect=False, frozen=True)
    async with app.run_test(size=(120, 40)) as pilot:
        for question in questions:
            app.main.chat.input.value = question
            await pilot.press("enter")
            await pilot.pause()


async def test_questions_come_back_in_the_next_launch(tmp_path: Path) -> None:
    settings = make_settings(tmp_path)
    await _ask_and_quit(settings, "/ns shop", "why does it fail? password=hunter2")
    path = history_file()
    assert path.exists() and (os.stat(path).st_mode & 0o777) == 0o600
    assert "hunter2" not in path.read_text()
    app = build_app(settings, demo=True, connect=False, frozen=True)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("up")
        assert app.main.chat.input.value == "why does it fail? password=[REDACTED]"
        await pilot.press("up")
        assert app.main.chat.input.value == "/ns shop"
        await pilot.press("down", "down")
        assert app.main.chat.input.value == ""


async def test_no_history_on_disk_when_recording_is_off(tmp_path: Path) -> None:
    settings = make_settings(tmp_path, record=False)
    await _ask_and_quit(settings, "/ns shop")
    assert not history_file().exists()
