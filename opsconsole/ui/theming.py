"""Theme selection: register the data themes (themes/), then pick settings.ui.theme.

The loader is :mod:`opsconsole.ui.themes`. Before the first frame only the selected theme's
file is read (from the parsed-theme cache when it has not changed: importing PyYAML alone costs
~10 ms); the other themes are registered after the first paint (:func:`register_all`), in time
for the command palette's theme switcher.
"""

from __future__ import annotations

from pathlib import Path

from textual.app import App

FALLBACK_THEME = "textual-dark"


def builtin_theme_names() -> list[str]:
    """Names of the themes shipped in themes/ (snapshot tests, help)."""
    from opsconsole.ui.themes import BUILTIN_THEME_NAMES

    return list(BUILTIN_THEME_NAMES)


def _theme_file(name: str) -> Path | None:
    from opsconsole.ui.themes import theme_dirs

    found = None
    for directory in theme_dirs():  # later directories (user themes) override
        for suffix in (".yaml", ".yml"):
            path = Path(directory) / f"{name}{suffix}"
            if path.is_file():
                found = path
    return found


def theme_problem(name: str) -> str | None:
    """Why ``ui.theme`` cannot be used (no such theme file or Textual theme), else None."""
    import difflib

    from textual.theme import BUILTIN_THEMES

    from opsconsole.ui.themes import theme_dirs

    if name in BUILTIN_THEMES or _theme_file(name) is not None:
        return None
    names = set(BUILTIN_THEMES)
    for directory in theme_dirs():
        if Path(directory).is_dir():
            names |= {p.stem for p in Path(directory).glob("*.y*ml")}
    close = difflib.get_close_matches(name, sorted(names), n=1)
    hint = f"; did you mean {close[0]}?" if close else ""
    return f"ui.theme: no theme named {name!r}{hint} (known: {', '.join(sorted(names))})"


def _register_one(app: App, name: str) -> bool:
    """Register the theme file ``name`` (from the parsed-theme cache when the file has not
    changed: YAML costs ~10 ms on the way to the first frame); False if unusable."""
    from opsconsole.ui.themes import ThemeFileError, load_theme_file

    path = _theme_file(name)
    if path is None:
        return False
    try:
        theme = load_theme_file(path)
    except ThemeFileError:
        return False
    if theme.name != name:
        return False
    app.register_theme(theme)
    return True


def register_all(app: App) -> list[str]:
    """Register every theme file; returns warnings about broken files."""
    from opsconsole.ui.themes import register_themes

    try:
        return register_themes(app)
    except Exception as exc:  # noqa: BLE001 - a broken theme must never stop the app
        return [f"themes: {exc}"]


def _select(app: App, name: str) -> None:
    """Select theme ``name``. Before the app runs, without the reactive's watcher: the watcher
    schedules a full CSS reparse and restyle of every widget, which on the way to the first
    frame is wasted work (the first stylesheet parse already uses this theme's variables)."""
    if app.is_running:
        app.theme = name
        return
    try:
        app.set_reactive(App.theme, name)
        # the stylesheet (created in App.__init__, no sources yet) takes this theme's variables
        app.stylesheet.set_variables(app.get_css_variables())
        dark = app.get_theme(name).dark  # type: ignore[union-attr]
        classes = {c: False for c in app.classes if c.startswith("-theme-")}
        classes.update({f"-theme-{name}": True, "-dark-mode": dark, "-light-mode": not dark})
        app.update_classes(classes, update=False)
        refresh_filter = getattr(app, "_refresh_truecolor_filter", None)
        if refresh_filter is not None:
            refresh_filter(app.ansi_theme)
    except Exception:  # noqa: BLE001 - any surprise: the ordinary (slower) way
        app.theme = name


def apply_theme(app: App, name: str | None) -> list[str]:
    """Select ``name`` (an unknown name falls back to the default, with a warning).

    Returns warnings for the user. Reads only the selected theme's file when it can."""
    from opsconsole.ui.themes import DEFAULT_THEME

    warnings: list[str] = []
    wanted = name or DEFAULT_THEME
    if wanted not in app.available_themes and not _register_one(app, wanted):
        warnings = register_all(app)
    if wanted in app.available_themes:
        _select(app, wanted)
        return warnings
    if DEFAULT_THEME not in app.available_themes:
        _register_one(app, DEFAULT_THEME)
    _select(app, DEFAULT_THEME if DEFAULT_THEME in app.available_themes else FALLBACK_THEME)
    warnings.append(
        f"unknown theme {wanted!r}; using {app.theme}. "
        f"Known: {', '.join(sorted(app.available_themes))}"
    )
    return warnings
