"""Theme selection at startup: register the data themes (themes/), then pick settings.ui.theme.

The theme loader itself (``opsconsole.ui.themes``) is written elsewhere; this only wires it.
"""

from __future__ import annotations

from textual.app import App

FALLBACK_THEME = "textual-dark"


def register(app: App) -> list[str]:
    """Register the built-in and user themes; return their names ([] if the loader is absent)."""
    try:
        from opsconsole.ui.themes import register_themes
    except ImportError:
        return []
    try:
        result = register_themes(app)
    except Exception as exc:  # noqa: BLE001 - a broken theme file must not stop the app
        app.notify(f"themes: {exc}", severity="warning", timeout=8)
        return []
    if isinstance(result, dict):
        return list(result)
    if isinstance(result, list | tuple):
        return [getattr(t, "name", str(t)) for t in result]
    return []


def builtin_theme_names() -> list[str]:
    """Names of the themes shipped in themes/ (for snapshot tests and the help text)."""
    try:
        from opsconsole.ui.themes import load_themes
    except ImportError:
        return []
    themes = load_themes()
    if isinstance(themes, dict):
        return list(themes)
    return [getattr(t, "name", str(t)) for t in themes]


def apply_theme(app: App, name: str | None) -> None:
    register(app)
    wanted = name or FALLBACK_THEME
    if wanted in app.available_themes:
        app.theme = wanted
        return
    app.theme = (
        FALLBACK_THEME if "opsconsole-dark" not in app.available_themes else "opsconsole-dark"
    )
    app.notify(
        f"unknown theme {wanted!r}; using {app.theme}. "
        f"Known: {', '.join(sorted(app.available_themes))}",
        severity="warning",
        timeout=8,
    )
