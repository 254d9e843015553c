"""`opsconsole config check` and the console catch a theme or a keymap entry that names
nothing (the settings schema cannot know theme files or binding ids)."""

from __future__ import annotations

from pathlib import Path

import pytest

from opsconsole.cli import main
from opsconsole.ui.factory import build_app

from .conftest import make_settings, wait_for


def test_config_check_names_a_bad_theme_and_keymap_id(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    cfg = tmp_path / "config.yaml"
    cfg.write_text("ui: {theme: opsconsole-drak, keymap: {app.zoom: f6, pods.logz: L}}\n")
    assert main(["config", "check", "--config", str(cfg)]) == 2
    err = capsys.readouterr().err
    assert "ui.theme: no theme named 'opsconsole-drak'; did you mean opsconsole-dark?" in err
    assert "ui.keymap.pods.logz: no such binding id; did you mean pods.logs?" in err
    assert "app.zoom" not in err  # a real id is fine


def test_config_check_accepts_every_listed_id_and_textual_themes(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    cfg = tmp_path / "config.yaml"
    cfg.write_text("ui: {theme: nord, keymap: {logs.search: ctrl+f, table.page_down: J}}\n")
    assert main(["config", "check", "--config", str(cfg)]) == 0
    assert "configuration OK" in capsys.readouterr().out


async def test_console_warns_about_an_unknown_keymap_id(tmp_path: Path) -> None:
    settings = make_settings(tmp_path)
    settings = settings.replace(ui=settings.ui.replace(keymap={"pods.logz": "L"}))
    app = build_app(settings, demo=True, connect=False, frozen=True)
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_for(
            pilot,
            lambda: any("pods.logz" in str(n.message) for n in app._notifications),
            5,
            "keymap warning",
        )
