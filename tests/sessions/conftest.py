"""Fixtures for the session tests: a private sessions directory and settings pointing at it."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from opsconsole.config import Settings  # noqa: E402


@pytest.fixture
def sdir(tmp_path: Path) -> Path:
    return tmp_path / "sessions"


@pytest.fixture
def settings(sdir: Path) -> Settings:
    return Settings.from_data(
        {
            "sessions": {"dir": str(sdir)},
            "model": {"name": "fake-model", "api_key_env": "OPSCONSOLE_TEST_SESSION_KEY"},
        }
    )
