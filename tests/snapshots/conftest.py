from __future__ import annotations

import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))


@pytest.fixture(autouse=True)
def _private_dirs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPSCONSOLE_CONFIG_DIR", str(tmp_path / "config"))
    monkeypatch.setenv("OPSCONSOLE_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("OPSCONSOLE_STATE_DIR", str(tmp_path / "state"))
    monkeypatch.setenv("OPSCONSOLE_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.delenv("DEEPSEEK_API_KEY", raising=False)
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
