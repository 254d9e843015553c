"""Fixtures for the console's Pilot tests: settings in a temp dir, the scripted model server,
and a helper that waits for a condition while the app runs."""

from __future__ import annotations

import asyncio
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from opsconsole.config import ModelSettings, SessionSettings, Settings  # noqa: E402
from tests.fakes.openai_server import ScriptedOpenAIServer  # noqa: E402

API_KEY_ENV = "OPSCONSOLE_TEST_MODEL_KEY"


@pytest.fixture(autouse=True)
def _private_dirs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPSCONSOLE_CONFIG_DIR", str(tmp_path / "config"))
    monkeypatch.setenv("OPSCONSOLE_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("OPSCONSOLE_STATE_DIR", str(tmp_path / "state"))
    monkeypatch.setenv("OPSCONSOLE_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.delenv("DEEPSEEK_API_KEY", raising=False)
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)


@pytest.fixture
def model_server(monkeypatch: pytest.MonkeyPatch) -> Iterator[ScriptedOpenAIServer]:
    monkeypatch.setenv(API_KEY_ENV, "sk-test")
    with ScriptedOpenAIServer() as srv:
        yield srv


def make_settings(
    tmp_path: Path, *, base_url: str | None = None, record: bool = True, **agent: object
) -> Settings:
    model = ModelSettings(
        provider="openai",
        name="fake-model",
        base_url=base_url or "http://127.0.0.1:9/v1",
        api_key_env=API_KEY_ENV,
        max_retries=0,
    )
    settings = Settings(
        model=model, sessions=SessionSettings(record=record, dir=str(tmp_path / "sessions"))
    )
    if agent:
        settings = settings.replace(agent=settings.agent.replace(**dict(agent)))
    return settings


async def wait_for(
    pilot: object, predicate: Callable[[], object], timeout: float = 30.0, what: str = ""
) -> None:
    """Pause until ``predicate()`` is true (fails after ``timeout``). The timeout is generous:
    a loaded machine is slow, only a broken console never gets there; a passing wait returns
    as soon as the condition holds."""
    start = time.monotonic()
    while True:
        if predicate():
            return
        if time.monotonic() - start > timeout:
            raise AssertionError(f"timed out after {timeout}s waiting for {what or predicate}")
        await asyncio.sleep(0.02)


def chat_text(app: object) -> str:
    """All text in the chat log (user lines, notices and answers' Markdown sources), on
    screen or not."""
    return app.main.chat.log_view.plain_text()  # type: ignore[attr-defined]


def trace_text(app: object) -> str:
    """All text in the trace (steps, calls, observations' previews, run lines)."""
    return app.main.trace.plain_text()  # type: ignore[attr-defined]


def screen_text(app: object) -> str:
    """What the screen shows, as text (the compositor's lines of the current screen)."""
    strips = app.screen._compositor.render_strips()  # type: ignore[attr-defined]
    return "\n".join("".join(segment.text for segment in strip) for strip in strips)
