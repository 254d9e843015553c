"""Run ``python -m opsconsole`` as a user would, with private config/data/state dirs and no
real API key in the environment."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path


def cli_env(tmp_path: Path, env_extra: dict[str, str] | None = None) -> dict[str, str]:
    """The environment of a user's run: private dirs under ``tmp_path``, no real API key."""
    env = dict(os.environ)
    env.pop("DEEPSEEK_API_KEY", None)
    env.pop("OPENAI_API_KEY", None)
    env["OPSCONSOLE_CONFIG_DIR"] = str(tmp_path / "cfg")
    env["OPSCONSOLE_DATA_DIR"] = str(tmp_path / "data")
    env["OPSCONSOLE_STATE_DIR"] = str(tmp_path / "state")
    env.update(env_extra or {})
    return env


def run_cli(
    tmp_path: Path, *args: str, env_extra: dict[str, str] | None = None, timeout: float = 120
) -> subprocess.CompletedProcess[str]:
    env = cli_env(tmp_path, env_extra)
    return subprocess.run(
        [sys.executable, "-m", "opsconsole", *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=timeout,
    )
