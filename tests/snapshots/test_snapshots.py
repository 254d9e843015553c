"""How the console looks, at 120x40, in demo mode, built by the same factory as the CLI.

Frames are deterministic: ``frozen=True`` stops the status-bar clock, the trace spinner and
timings and the input cursor blink; we wait for the sandbox's pods before the shot. Update with
``pytest tests/snapshots --snapshot-update`` and review the SVGs (the report, or rsvg-convert).
"""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import pytest

from opsconsole.config import ModelSettings, SessionSettings, Settings
from opsconsole.ui.factory import build_app
from opsconsole.ui.theming import builtin_theme_names
from tests.fakes.openai_server import ScriptedOpenAIServer, reply, tool_call

SIZE = (120, 40)
KEY_ENV = "OPSCONSOLE_SNAPSHOT_MODEL_KEY"


def _settings(tmp_path: Path, *, theme: str | None = None, base_url: str | None = None):
    settings = Settings(sessions=SessionSettings(record=False, dir=str(tmp_path / "s")))
    if base_url:
        model = ModelSettings(
            provider="openai",
            name="fake-model",
            base_url=base_url,
            api_key_env=KEY_ENV,
            max_retries=0,
        )
        settings = settings.replace(model=model)
    if theme:
        settings = settings.replace(ui=settings.ui.replace(theme=theme))
    return settings


async def _until(predicate, timeout: float = 60.0) -> None:
    start = time.monotonic()
    while not predicate():
        if time.monotonic() - start > timeout:
            raise AssertionError("timed out waiting for the console")
        await asyncio.sleep(0.05)


async def _pods_loaded(pilot) -> None:
    app = pilot.app
    await _until(lambda: app.backend is not None and app.feeds.pods_ready)
    await pilot.pause(0.3)
    await pilot.wait_for_scheduled_animations()


@pytest.mark.parametrize("theme", builtin_theme_names())
def test_main_screen(snap_compare, tmp_path: Path, theme: str) -> None:
    app = build_app(_settings(tmp_path, theme=theme), demo=True, frozen=True)
    assert snap_compare(app, terminal_size=SIZE, run_before=_pods_loaded)


def test_help_screen(snap_compare, tmp_path: Path) -> None:
    app = build_app(_settings(tmp_path), demo=True, frozen=True)

    async def run_before(pilot) -> None:
        from opsconsole.ui.screens.help import HelpScreen

        await _pods_loaded(pilot)
        pilot.app.action_help()
        await _until(lambda: isinstance(pilot.app.screen, HelpScreen))

    assert snap_compare(app, terminal_size=SIZE, run_before=run_before)


def _approval_app(tmp_path: Path, srv: ScriptedOpenAIServer, arm_ms: int):
    srv.push(
        reply(
            "需要把 cart 扩容到 3 个副本。",
            tool_calls=[
                tool_call(
                    "scale_deployment",
                    {"namespace": "shop", "name": "cart", "replicas": 3},
                    id="call_scale_1",
                )
            ],
        )
    )
    settings = _settings(tmp_path, base_url=srv.base_url)
    settings = settings.replace(ui=settings.ui.replace(approval_arm_ms=arm_ms))
    return build_app(settings, demo=True, write=True, frozen=True)


async def _approval_shown(pilot) -> None:
    from opsconsole.ui.screens.modals import ApprovalModal

    await _pods_loaded(pilot)
    chat = pilot.app.main.chat
    chat.input.value = "把 shop 的 cart 扩容到 3 个副本"
    await pilot.press("enter")
    await _until(lambda: isinstance(pilot.app.screen, ApprovalModal))


def test_approval_modal(snap_compare, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Armed: the keys decide; what "for this session" would cover is spelled out."""
    monkeypatch.setenv(KEY_ENV, "sk-test")
    with ScriptedOpenAIServer() as srv:
        app = _approval_app(tmp_path, srv, 100)

        async def run_before(pilot) -> None:
            await _approval_shown(pilot)
            await _until(lambda: pilot.app.screen.armed)
            await pilot.pause(0.3)

        assert snap_compare(app, terminal_size=SIZE, run_before=run_before)


def test_approval_modal_arming(
    snap_compare, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Arming: buttons disabled, the keys typed meanwhile shown as kept in the chat input."""
    monkeypatch.setenv(KEY_ENV, "sk-test")
    with ScriptedOpenAIServer() as srv:
        app = _approval_app(tmp_path, srv, 60_000)

        async def run_before(pilot) -> None:
            await _approval_shown(pilot)
            await pilot.press(*"explain")
            await pilot.pause(0.3)

        assert snap_compare(app, terminal_size=SIZE, run_before=run_before)


def test_agent_tree(snap_compare, tmp_path: Path) -> None:
    """Multi-agent, offline: the Scheduler's ask_* calls with each specialist's steps inside."""
    app = build_app(_settings(tmp_path), demo=True, offline=True, frozen=True, multi_agent=True)

    async def run_before(pilot) -> None:
        await _pods_loaded(pilot)
        chat = pilot.app.main.chat
        chat.input.value = "shop 命名空间哪些 Pod 不健康？顺便做个安全扫描"
        await pilot.press("enter")
        backend = pilot.app.backend
        await _until(lambda: backend.loop is not None and backend.loop.terminal_event is not None)
        # the loop has ended; the console has shown its last event when the run is over
        await _until(lambda: not pilot.app.bridge.running)
        await pilot.wait_for_scheduled_animations()
        pilot.app.main.trace.focus()
        await pilot.pause(0.2)

    assert snap_compare(app, terminal_size=SIZE, run_before=run_before)


def test_approval_modal_with_diff_and_blast_radius(
    snap_compare, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A change of any kind: the field-level diff (removed red, added green) and the blast
    radius under the server's dry run."""
    from opsconsole.ui.screens.modals import ApprovalModal

    monkeypatch.setenv(KEY_ENV, "sk-test")
    with ScriptedOpenAIServer() as srv:
        srv.push(
            reply(
                "Rolling cart to 5.0.",
                tool_calls=[
                    tool_call(
                        "set_image",
                        {
                            "name": "cart",
                            "namespace": "shop",
                            "container": "cart",
                            "image": "registry.example.com/shop/cart:5.0.0",
                        },
                        id="call_image_1",
                    )
                ],
            )
        )
        settings = _settings(tmp_path, base_url=srv.base_url)
        settings = settings.replace(ui=settings.ui.replace(approval_arm_ms=100))
        app = build_app(settings, demo=True, write=True, frozen=True)

        async def run_before(pilot) -> None:
            await _pods_loaded(pilot)
            pilot.app.main.chat.input.value = "roll cart to 5.0.0"
            await pilot.press("enter")
            await _until(lambda: isinstance(pilot.app.screen, ApprovalModal))
            await _until(lambda: pilot.app.screen.armed)
            await pilot.pause(0.3)

        assert snap_compare(app, terminal_size=SIZE, run_before=run_before)
