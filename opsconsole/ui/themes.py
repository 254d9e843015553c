"""Themes as data: YAML files -> ``textual.theme.Theme``.

Built-in themes live in ``themes/`` (shipped in the wheel as ``opsconsole/_themes``, see
:func:`opsconsole.paths.builtin_themes_dir`); users add or override themes in
:func:`opsconsole.paths.user_themes_dir`. A theme file holds the fields of
:class:`textual.theme.Theme` (``name``, ``primary``, ``secondary``, ``accent``, ``success``,
``warning``, ``error``, ``foreground``, ``background``, ``surface``, ``panel``, ``boost``,
``dark``, ``luminosity_spread``, ``text_alpha``) and ``variables`` (Textual design variables).

Health colours are semantic: widgets style healthy / pending / failing with ``$text-success``,
``$text-warning`` and ``$text-error``, which Textual derives from a theme's ``success``,
``warning`` and ``error`` (a theme may override the ``text-*`` variables directly).

A malformed file never stops the app: it is skipped and described in a warning naming the
file and the problem.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from textual.theme import Theme

if TYPE_CHECKING:
    from textual.app import App

log = logging.getLogger(__name__)

BUILTIN_THEME_NAMES = (
    "opsconsole-dark",
    "opsconsole-light",
    "opsconsole-solarized",
    "opsconsole-high-contrast",
)
DEFAULT_THEME = "opsconsole-dark"

_COLOR_FIELDS = (
    "primary",
    "secondary",
    "accent",
    "success",
    "warning",
    "error",
    "foreground",
    "background",
    "surface",
    "panel",
    "boost",
)
_OTHER_FIELDS = {"name": str, "dark": bool, "luminosity_spread": float, "text_alpha": float}


class ThemeFileError(ValueError):
    """A theme file that cannot be used; the message names the file and the problem."""


def theme_dirs() -> list[Path]:
    """Built-in themes first, then the user's (so a user theme overrides a built-in one)."""
    from opsconsole import paths

    return [paths.builtin_themes_dir(), paths.user_themes_dir()]


def parse_theme(data: Any, source: str, default_name: str) -> Theme:
    """Validate a loaded YAML document and build a Theme; raises :class:`ThemeFileError`."""
    if not isinstance(data, dict):
        raise ThemeFileError(f"{source}: expected a mapping of theme fields")
    unknown = sorted(set(data) - set(_COLOR_FIELDS) - set(_OTHER_FIELDS) - {"variables"})
    if unknown:
        known = ", ".join(sorted([*_COLOR_FIELDS, *_OTHER_FIELDS, "variables"]))
        raise ThemeFileError(f"{source}: unknown key(s) {', '.join(unknown)} (known: {known})")
    kwargs: dict[str, Any] = {"name": default_name}
    for key, typ in _OTHER_FIELDS.items():
        if key in data:
            value = data[key]
            if typ is float and isinstance(value, int) and not isinstance(value, bool):
                value = float(value)
            if not isinstance(value, typ):
                raise ThemeFileError(f"{source}: {key} must be a {typ.__name__}, got {value!r}")
            kwargs[key] = value
    if not str(kwargs["name"]).strip():
        raise ThemeFileError(f"{source}: name must not be empty")
    if "primary" not in data:
        raise ThemeFileError(f"{source}: missing required colour 'primary'")
    from textual.color import Color, ColorParseError

    for key in _COLOR_FIELDS:
        if key not in data or data[key] is None:
            continue
        value = data[key]
        try:
            Color.parse(str(value))
        except ColorParseError:
            raise ThemeFileError(f"{source}: {key}: not a colour: {value!r}") from None
        kwargs[key] = str(value)
    variables = data.get("variables") or {}
    if not isinstance(variables, dict):
        raise ThemeFileError(f"{source}: variables must be a mapping of name: value")
    kwargs["variables"] = {str(k): str(v) for k, v in variables.items()}
    theme = Theme(**kwargs)
    try:
        theme.to_color_system().generate()  # catches bad variables and colour arithmetic
    except Exception as exc:  # noqa: BLE001 - any failure here means an unusable theme
        raise ThemeFileError(f"{source}: cannot build the theme: {exc}") from None
    return theme


#: parsed theme files, keyed by path, size and mtime: reading YAML costs ~10 ms for the import
#: and ~1 ms a file, on the way to the console's first frame; JSON costs ~0.1 ms
_CACHE_NAME = "themes.json"


def _cache_file() -> Path:
    from opsconsole import paths

    return paths.cache_dir() / _CACHE_NAME


def _cache_key(path: Path) -> tuple[str, list[int]] | None:
    try:
        st = path.stat()
    except OSError:
        return None
    return str(path.resolve()), [st.st_size, st.st_mtime_ns]


#: the cache file as read once per process (by path: tests point the cache dir elsewhere);
#: registering every theme after the first frame then reads it once, not once per theme
_loaded: dict[Path, dict[str, Any]] = {}


def _read_cache() -> dict[str, Any]:
    import json

    path = _cache_file()
    if path not in _loaded:
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            data = {}
        _loaded[path] = data if isinstance(data, dict) else {}
    return _loaded[path]


def _write_cache(entries: dict[str, Any]) -> None:
    """Best effort (a read-only home just means no cache): atomic, private."""
    import json
    import os

    from opsconsole import paths

    try:
        target = _cache_file()
        paths.ensure_private_dir(target.parent)
        tmp = target.with_name(f".{target.name}.{os.getpid()}")
        tmp.write_text(json.dumps(entries), encoding="utf-8")
        os.replace(tmp, target)
    except OSError:
        pass


def read_theme_data(path: Path) -> tuple[Any, bool]:
    """The parsed content of the theme file ``path`` and whether it came from the cache (a
    cached entry was a valid theme when it was stored). Raises :class:`ThemeFileError`."""
    key = _cache_key(path)
    cache = _read_cache() if key else {}
    entry = cache.get(key[0]) if key else None
    if isinstance(entry, dict) and key and entry.get("stat") == key[1]:
        return entry.get("data"), True
    return _read_yaml(path), False


def remember_theme_data(path: Path, data: Any) -> None:
    """Store the parsed content of a valid theme file for the next start."""
    key = _cache_key(path)
    if key is None:
        return
    cache = _read_cache()
    cache[key[0]] = {"stat": key[1], "data": data}
    _write_cache(cache)


def _read_yaml(path: Path) -> Any:
    import yaml

    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ThemeFileError(f"{path}: cannot read: {exc.strerror}") from None
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # libyaml when present
    try:
        return yaml.load(text, Loader=loader)  # noqa: S506 - a safe loader
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        problem = getattr(exc, "problem", None) or "malformed YAML"
        raise ThemeFileError(f"{path}: invalid YAML{where}: {problem}") from None


def load_theme_file(path: Path) -> Theme:
    """Load one YAML theme file; raises :class:`ThemeFileError` with a clear message."""
    data, cached = read_theme_data(path)
    theme = parse_theme(data, str(path), path.stem)
    if not cached:
        remember_theme_data(path, data)
    return theme


def load_themes(
    dirs: Iterable[Path | str] | None = None, warnings: list[str] | None = None
) -> list[Theme]:
    """Load every ``*.yaml`` / ``*.yml`` theme in ``dirs`` (default: :func:`theme_dirs`).

    Missing directories are ignored. A bad file is skipped; its problem is logged and, if
    ``warnings`` is given, appended to it. Later directories override earlier ones by name.
    """
    themes: dict[str, Theme] = {}
    for directory in theme_dirs() if dirs is None else [Path(d) for d in dirs]:
        if not directory.is_dir():
            continue
        files = sorted([*directory.glob("*.yaml"), *directory.glob("*.yml")])
        for path in files:
            try:
                theme = load_theme_file(path)
            except ThemeFileError as exc:
                message = f"theme skipped: {exc}"
                log.warning(message)
                if warnings is not None:
                    warnings.append(message)
                continue
            themes[theme.name] = theme
    return list(themes.values())


def register_themes(app: App[Any], dirs: Iterable[Path | str] | None = None) -> list[str]:
    """Register every loadable theme with ``app``; returns the warnings (show them to the user).

    Call it before setting ``app.theme`` (e.g. in ``__init__`` or ``on_mount``); the themes
    then appear in the command palette's theme switcher.
    """
    warnings: list[str] = []
    for theme in load_themes(dirs, warnings):
        app.register_theme(theme)
    return warnings
