"""Where opsconsole keeps its files (platformdirs); directories are created 0700."""

from __future__ import annotations

import os
from pathlib import Path

APP_NAME = "opsconsole"


def _dirs():  # imported lazily: platformdirs is small, but keep import time minimal
    from platformdirs import PlatformDirs

    return PlatformDirs(APP_NAME, appauthor=False)


def ensure_private_dir(path: Path) -> Path:
    """Create ``path`` (and parents) with mode 0700 and tighten it if it already exists."""
    path.mkdir(parents=True, exist_ok=True, mode=0o700)
    try:
        os.chmod(path, 0o700)
    except OSError:
        pass
    return path


def config_dir() -> Path:
    env = os.environ.get("OPSCONSOLE_CONFIG_DIR")
    return Path(env) if env else Path(_dirs().user_config_dir)


def default_config_file() -> Path:
    return config_dir() / "config.yaml"


def data_dir() -> Path:
    env = os.environ.get("OPSCONSOLE_DATA_DIR")
    return Path(env) if env else Path(_dirs().user_data_dir)


def sessions_dir() -> Path:
    return data_dir() / "sessions"


def state_dir() -> Path:
    env = os.environ.get("OPSCONSOLE_STATE_DIR")
    return Path(env) if env else Path(_dirs().user_state_dir)


def cache_dir() -> Path:
    """Derived data that can be rebuilt at any time (e.g. parsed theme files)."""
    env = os.environ.get("OPSCONSOLE_CACHE_DIR")
    return Path(env) if env else Path(_dirs().user_cache_dir)


def user_themes_dir() -> Path:
    return data_dir() / "themes"


def builtin_themes_dir() -> Path:
    """Themes shipped with the package (wheel) or, in a source checkout, ``themes/``."""
    pkg = Path(__file__).resolve().parent
    shipped = pkg / "_themes"
    if shipped.is_dir():
        return shipped
    return pkg.parent / "themes"
