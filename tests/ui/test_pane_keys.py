"""Keys around the chat input: Esc leaves it (so 1-4, z, ? work), Esc again stops the agent,
PageUp / PageDown scroll the conversation from the input, Tab / shift+Tab cycle the panes."""

from __future__ import annotations

from pathlib import Path

from opsconsole.ui.factory import build_app
from opsconsole.ui.screens.help import HelpScreen
from tests.fakes.openai_server import Hang

from .conftest import chat_text, make_settings, wait_for


def _shell(tmp_path: Path):
    return build_app(make_settings(tmp_path), demo=True, connect=False, frozen=True)


async def _panes_mounted(pilot, app) -> None:
    await wait_for(pilot, lambda: bool(app.main.query("#log-view")), 15, "panes mounted")


async def test_escape_leaves_the_chat_input_and_one_key_shortcuts_work(tmp_path: Path):
    app = _shell(tmp_path)
    async with app.run_test(size=(120, 40)) as pilot:
        await _panes_mounted(pilot, app)
        main = app.main
        chat_input = main.chat.input
        chat_input.focus()
        await pilot.press(*"why")
        await pilot.press("escape")
        assert app.focused is main.chat.log_view  # out of the input, still in the chat pane
        assert chat_input.value == "why"  # the question is kept
        await pilot.press("2")
        assert main.pane_of(app.focused).id == "trace-pane"
        await pilot.press("1")
        assert app.focused is chat_input
        await pilot.press("escape", "z")
        assert main.maximized is main.query_one("#chat-pane")
        await pilot.press("escape")  # no agent running: Esc restores the layout
        assert main.maximized is None
        await pilot.press("question_mark")
        assert isinstance(app.screen, HelpScreen)
        await pilot.press("escape")
        assert chat_input.value == "why"  # none of those keys was typed into the question


async def test_second_escape_stops_the_agent(tmp_path: Path, model_server) -> None:
    model_server.push(Hang(30))
    app = build_app(
        make_settings(tmp_path, base_url=model_server.base_url),
        frozen=True,
        kubeconfig=str(tmp_path / "none"),
    )
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_for(pilot, lambda: app.backend is not None, 30, "backend")
        chat_input = app.main.chat.input
        chat_input.focus()
        chat_input.value = "a slow question"
        await pilot.press("enter")
        await wait_for(pilot, lambda: len(model_server.requests) == 1, 15, "request sent")
        await pilot.press("escape")  # leaves the input; the agent goes on
        await pilot.pause()
        assert app.bridge.running and app.focused is app.main.chat.log_view
        await pilot.press("escape")  # stops it, as the Stop binding does
        await wait_for(pilot, lambda: "Cancelled" in chat_text(app), 15, "cancelled")
        assert not app.bridge.running


async def test_page_keys_scroll_the_chat_from_the_input(tmp_path: Path) -> None:
    app = _shell(tmp_path)
    async with app.run_test(size=(120, 40)) as pilot:
        chat = app.main.chat
        for n in range(80):
            await chat.add_notice(f"line {n}")
        log = chat.log_view
        await wait_for(pilot, lambda: log.max_scroll_y > 20, 10, "a long conversation")
        # the log is anchored: it follows the newest line by itself. Wait for the layout of all
        # 80 lines to settle at the end (a pending follow-up scroll would undo the page-up)
        await wait_for(pilot, lambda: log.scroll_y == log.max_scroll_y, 10, "at the end")
        await pilot.pause()
        await wait_for(pilot, lambda: log.scroll_y == log.max_scroll_y, 10, "settled at the end")
        chat.input.focus()
        bottom = log.scroll_y
        await pilot.press("pageup")
        await wait_for(pilot, lambda: log.scroll_y < bottom, 10, "scrolled up")
        assert app.focused is chat.input
        up = log.scroll_y
        await pilot.press("pagedown")
        await wait_for(pilot, lambda: log.scroll_y > up, 10, "scrolled down")
        assert chat.input.value == ""


async def test_tab_cycles_the_four_panes(tmp_path: Path) -> None:
    app = _shell(tmp_path)
    async with app.run_test(size=(120, 40)) as pilot:
        await _panes_mounted(pilot, app)
        main = app.main
        main.chat.input.focus()

        def pane() -> str:
            return main.pane_of(app.focused).id

        seen = []
        for _ in range(4):
            await pilot.press("tab")
            seen.append(pane())
        assert seen == ["trace-pane", "pods-pane", "logs-pane", "chat-pane"]
        assert app.focused is main.chat.input
        back = []
        for _ in range(4):
            await pilot.press("shift+tab")
            back.append(pane())
        assert back == ["logs-pane", "pods-pane", "trace-pane", "chat-pane"]
