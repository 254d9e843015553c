"""Themes as data: every built-in theme loads, registers and styles the widgets; bad files warn."""

from __future__ import annotations

from pathlib import Path

import pytest
from textual.app import App, ComposeResult

from opsconsole import paths
from opsconsole.k8s.models import PodRow
from opsconsole.ui.themes import (
    BUILTIN_THEME_NAMES,
    ThemeFileError,
    load_theme_file,
    load_themes,
    register_themes,
)
from opsconsole.ui.widgets.pod_list import PodList


def test_every_builtin_theme_loads_without_warnings():
    warnings: list[str] = []
    themes = load_themes([paths.builtin_themes_dir()], warnings)
    assert warnings == []
    names = {t.name for t in themes}
    assert set(BUILTIN_THEME_NAMES) <= names
    dark = {t.name: t.dark for t in themes}
    assert dark["opsconsole-dark"] and not dark["opsconsole-light"]


def test_bad_theme_files_are_skipped_with_a_clear_warning(tmp_path: Path):
    (tmp_path / "good.yaml").write_text("name: mine\nprimary: '#336699'\n")
    (tmp_path / "broken.yaml").write_text("name: x\nprimary: [unclosed\n")
    (tmp_path / "badcolor.yaml").write_text("name: y\nprimary: '#33669'\nerror: notacolour\n")
    (tmp_path / "typo.yml").write_text("name: z\nprimary: '#336699'\nprimry: '#000000'\n")
    (tmp_path / "list.yaml").write_text("- 1\n- 2\n")
    (tmp_path / "noprimary.yaml").write_text("name: w\n")
    warnings: list[str] = []
    themes = load_themes([tmp_path, tmp_path / "missing-dir"], warnings)
    assert [t.name for t in themes] == ["mine"]
    text = "\n".join(warnings)
    assert len(warnings) == 5
    assert "broken.yaml: invalid YAML at line 3" in text
    assert "badcolor.yaml: primary: not a colour: '#33669'" in text
    assert "typo.yml: unknown key(s) primry" in text
    assert "list.yaml: expected a mapping" in text
    assert "noprimary.yaml: missing required colour 'primary'" in text
    with pytest.raises(ThemeFileError):
        load_theme_file(tmp_path / "broken.yaml")


def test_user_theme_overrides_builtin_by_name(tmp_path: Path):
    (tmp_path / "dark.yaml").write_text(
        "name: opsconsole-dark\nprimary: '#FF0000'\nvariables:\n  text-muted: '#777777'\n"
    )
    themes = {t.name: t for t in load_themes([paths.builtin_themes_dir(), tmp_path])}
    assert themes["opsconsole-dark"].primary == "#FF0000"
    assert themes["opsconsole-dark"].variables["text-muted"] == "#777777"


class Host(App[None]):
    def compose(self) -> ComposeResult:
        yield PodList()


async def test_themes_register_switch_and_colour_health(tmp_path: Path):
    (tmp_path / "bad.yaml").write_text("primary: 12\nname: [\n")
    app = Host()
    warnings = register_themes(app, [paths.builtin_themes_dir(), tmp_path])
    assert len(warnings) == 1 and "bad.yaml" in warnings[0]
    rows = [
        PodRow("shop", "a-cursor", "u0", "Running", "Running", 1, 1, 0, "n1", "", ""),
        PodRow("shop", "ok-0", "u1", "Running", "Running", 1, 1, 0, "n1", "", ""),
        PodRow("shop", "bad-0", "u2", "Running", "CrashLoopBackOff", 0, 1, 9, "n1", "", ""),
    ]
    async with app.run_test(size=(100, 10)) as pilot:
        for name in BUILTIN_THEME_NAMES:
            app.theme = name
            await pilot.pause()
            assert app.current_theme.name == name
            pl = app.query_one(PodList)
            pl.set_rows(rows)
            await pilot.pause()
            table = pl.table
            theme_vars = app.theme_variables
            # sorted by name: a-cursor (under the cursor), bad-0 ($text-error), ok-0 ($text-success)
            bad = table.render_line(2)
            good = table.render_line(3)
            bad_color = next(s.style.color for s in bad if "bad-0" in s.text)
            good_color = next(s.style.color for s in good if "ok-0" in s.text)
            assert bad_color.triplet.hex.lower() == theme_vars["text-error"][:7].lower()
            assert good_color.triplet.hex.lower() == theme_vars["text-success"][:7].lower()


def test_parsed_theme_cache_follows_the_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    """The second start reads a theme from the cache; an edited file is read again; a
    damaged cache is ignored."""
    monkeypatch.setenv("OPSCONSOLE_CACHE_DIR", str(tmp_path / "cache"))
    from opsconsole.ui.themes import read_theme_data

    theme = tmp_path / "mine.yaml"
    theme.write_text("name: mine\nprimary: '#336699'\n")
    assert load_theme_file(theme).primary == "#336699"
    data, cached = read_theme_data(theme)
    assert cached and data == {"name": "mine", "primary": "#336699"}
    theme.write_text("name: mine\nprimary: '#aa0000'  # edited\n")
    assert load_theme_file(theme).primary == "#aa0000"
    assert read_theme_data(theme)[0]["primary"] == "#aa0000"
    (tmp_path / "cache" / "themes.json").write_text("{not json")
    from opsconsole.ui import themes

    themes._loaded.clear()  # the next start reads the (damaged) file again
    data, cached = read_theme_data(theme)
    assert not cached and data["primary"] == "#aa0000"
    broken = tmp_path / "broken.yaml"
    broken.write_text("name: x\nprimary: [unclosed\n")
    with pytest.raises(ThemeFileError):
        load_theme_file(broken)
    with pytest.raises(ThemeFileError):  # a broken file is never cached
        load_theme_file(broken)
