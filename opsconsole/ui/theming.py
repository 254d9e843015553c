"""Theme selection at startup: register the data themes (themes/), then pick settings.ui.theme.

The theme loader itself is :mod:`opsconsole.ui.themes`; this only wires it into the app.
"""

from __future__ import annotations

from textual.app import App

FALLBACK_THEME = "textual-dark"


def builtin_theme_names() -> list[str]:
    """Names of the themes shipped in themes/ (snapshot tests, help)."""
    from opsconsole.ui.themes import BUILTIN_THEME_NAMES

    return list(BUILTIN_THEME_NAMES)


def apply_theme(app: App, name: str | None) -> None:
    """Register every theme (warnings for broken files become notifications), then select
    ``name``; an unknown name falls back to the default with a warning."""
    from opsconsole.ui.themes import DEFAULT_THEME, register_themes

    try:
        warnings = register_themes(app)
    except Exception as exc:  # noqa: BLE001 - a broken theme must never stop the app
        warnings = [f"themes: {exc}"]
    for warning in warnings:
        app.notify(warning, severity="warning", timeout=8)
    wanted = name or DEFAULT_THEME
    if wanted in app.available_themes:
        app.theme = wanted
        return
    app.theme = DEFAULT_THEME if DEFAULT_THEME in app.available_themes else FALLBACK_THEME
    app.notify(
        f"unknown theme {wanted!r}; using {app.theme}. "
        f"Known: {', '.join(sorted(app.available_themes))}",
        severity="warning",
        timeout=8,
    )
