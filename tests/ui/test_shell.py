"""The shell: four panes at 120x40, zoom, help, keymap, command palette, slash commands."""

from __future__ import annotations

from pathlib import Path

from textual.binding import Binding
from textual.command import CommandPalette

from opsconsole.ui.commands import _binding_classes
from opsconsole.ui.factory import build_app
from opsconsole.ui.screens.help import HelpScreen

from .conftest import chat_text, make_settings, wait_for


def _shell(tmp_path: Path, **ui: object):
    settings = make_settings(tmp_path)
    if ui:
        settings = settings.replace(ui=settings.ui.replace(**ui))
    return build_app(settings, demo=True, connect=False, frozen=True)


async def test_four_panes_visible_at_120x40(tmp_path: Path) -> None:
    app = _shell(tmp_path)
    async with app.run_test(size=(120, 40)):
        screen = app.main
        for pane in ("#chat-pane", "#trace-pane", "#pods-pane", "#logs-pane"):
            region = screen.query_one(pane).region
            assert region.width >= 50 and region.height >= 8, (pane, region)
            assert region.right <= 120 and region.bottom <= 40
        assert screen.query_one("#chat-input").region.height > 0
        status = str(screen.status.render())
        for label in ("connecting…", "read-only", "step 0", "0:00", "0 tok", "$0.0000"):
            assert label in status


async def test_zoom_focused_pane_and_back(tmp_path: Path) -> None:
    app = _shell(tmp_path)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = app.main
        screen.trace.focus()
        await pilot.press("z")
        assert screen.maximized is screen.query_one("#trace-pane")
        await pilot.press("z")
        assert screen.maximized is None
        # from the chat input, z is typed; f2 zooms
        screen.chat.input.focus()
        await pilot.press("z")
        assert screen.chat.input.value == "z"
        await pilot.press("f2")
        assert screen.maximized is screen.query_one("#chat-pane")
        await pilot.press("escape")  # the first Esc leaves the input, in the zoomed pane
        assert screen.maximized is screen.query_one("#chat-pane")
        assert app.focused is screen.chat.log_view
        await pilot.press("escape")  # then Esc restores when no agent runs
        assert screen.maximized is None


async def test_help_screen_lists_keys_with_ids(tmp_path: Path) -> None:
    app = _shell(tmp_path, keymap={"app.zoom": "f6"})
    async with app.run_test(size=(120, 40)) as pilot:
        app.main.trace.focus()
        await pilot.press("question_mark")
        assert isinstance(app.screen, HelpScreen)
        ids = {row[3] for row in app.screen.rows}
        assert {"app.zoom", "app.stop", "app.help", "chat.history_previous"} <= ids
        zoom = next(row for row in app.screen.rows if row[3] == "app.zoom")
        assert zoom[0] == "f6"  # the keymap is applied
        await pilot.press("escape")
        assert not isinstance(app.screen, HelpScreen)
        # remapped: f6 zooms, z no longer does
        app.main.trace.focus()
        await pilot.press("z")
        assert app.main.maximized is None
        await pilot.press("f6")
        assert app.main.maximized is not None


def test_every_binding_has_id_and_tooltip() -> None:
    missing = []
    for _where, cls in _binding_classes():
        for item in cls.BINDINGS:
            assert isinstance(item, Binding), (cls, item)
            if not item.id or not item.tooltip:
                missing.append(f"{cls.__name__}: {item.key} -> {item.action}")
    assert missing == []


async def test_command_palette_offers_main_actions(tmp_path: Path) -> None:
    app = _shell(tmp_path)
    async with app.run_test(size=(120, 40)) as pilot:
        app.main.trace.focus()
        await pilot.press("colon")
        assert isinstance(app.screen, CommandPalette)
        await pilot.press(*"toggle write")
        from textual.command import CommandList

        options = app.screen.query_one(CommandList)

        def first_is_toggle() -> bool:
            return options.option_count > 0 and "Toggle write mode" in str(
                options.get_option_at_index(0).prompt
            )

        await wait_for(pilot, first_is_toggle, what="the command listed")
        await pilot.press("down", "enter")
        await wait_for(pilot, lambda: app.main.status.write_mode, what="write mode on")
        assert "WRITE MODE" in str(app.main.status.render())


async def test_theme_command_in_palette(tmp_path: Path) -> None:
    app = _shell(tmp_path)
    async with app.run_test(size=(120, 40)) as pilot:
        names = [c.title for c in app.get_system_commands(app.screen)]
        assert "Theme" in names and "Toggle write mode" in names and "Help" in names
        before = app.theme
        app.action_change_theme()
        await pilot.pause()
        assert isinstance(app.screen, CommandPalette)
        await pilot.press("escape")
        assert app.theme == before


async def test_slash_commands(tmp_path: Path, model_server) -> None:
    settings = make_settings(tmp_path, base_url=model_server.base_url)
    app = build_app(settings, kubeconfig=str(tmp_path / "none"), frozen=True)
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_for(pilot, lambda: app.backend is not None)
        chat = app.main.chat

        async def say(text: str) -> None:
            chat.input.focus()
            chat.input.value = text
            await pilot.press("enter")
            await pilot.pause()

        await say("/write")
        assert app.main.status.write_mode and app.backend.loop.write_mode
        assert "WRITE MODE on" in chat_text(app)
        await say("/write")
        assert not app.main.status.write_mode and not app.backend.loop.write_mode
        await say("/model other-model")
        assert app.main.status.model == "other-model"
        assert app.backend.loop.model.label == "other-model"
        await say("/context")
        assert "context: none" in chat_text(app)
        await say("/ns kube-system")
        assert app.main.status.namespace == "kube-system"
        await say("/bogus")
        assert "unknown command /bogus" in chat_text(app)
        await say("/help")
        assert isinstance(app.screen, HelpScreen)
        await pilot.press("escape")
        await say("/clear")
        assert "/bogus" not in chat_text(app)
        assert len(model_server.requests) == 0  # none of these reached the model


async def test_input_history_up_down(tmp_path: Path) -> None:
    app = _shell(tmp_path)
    async with app.run_test(size=(120, 40)) as pilot:
        chat_input = app.main.chat.input
        for text in ("/first", "/second"):
            chat_input.value = text
            await pilot.press("enter")
        assert chat_input.value == ""
        chat_input.value = "draft"
        await pilot.press("up")
        assert chat_input.value == "/second"
        await pilot.press("up")
        assert chat_input.value == "/first"
        await pilot.press("down", "down")
        assert chat_input.value == "draft"


async def test_all_builtin_themes_registered_after_first_frame(tmp_path: Path) -> None:
    from opsconsole.ui.theming import builtin_theme_names

    app = _shell(tmp_path, theme="opsconsole-light")
    async with app.run_test(size=(120, 40)) as pilot:
        assert app.theme == "opsconsole-light"
        await wait_for(pilot, lambda: set(builtin_theme_names()) <= set(app.available_themes))
