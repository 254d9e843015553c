"""The command line: usage errors and config errors exit 2 with one clear line, no traceback."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path


def _run(*args: str, env_extra: dict[str, str] | None = None, tmp: Path | None = None):
    import os

    env = dict(os.environ)
    if tmp is not None:
        env["OPSCONSOLE_CONFIG_DIR"] = str(tmp / "cfg")
        env["OPSCONSOLE_DATA_DIR"] = str(tmp / "data")
        env["OPSCONSOLE_STATE_DIR"] = str(tmp / "state")
    env.update(env_extra or {})
    return subprocess.run(
        [sys.executable, "-m", "opsconsole", *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
    )


def test_version() -> None:
    out = _run("--version")
    assert out.returncode == 0
    assert out.stdout.startswith("opsconsole ")


def test_bad_config_key_exits_2_without_traceback(tmp_path: Path) -> None:
    cfg = tmp_path / "c.yaml"
    cfg.write_text("kubernetes:\n  request_timout: 3\n")
    out = _run("--config", str(cfg), "config", tmp=tmp_path)
    assert out.returncode == 2
    assert "kubernetes.request_timout: unknown key" in out.stderr
    assert "Traceback" not in out.stderr


def test_empty_task_is_a_usage_error(tmp_path: Path) -> None:
    out = _run("ask", "  ", tmp=tmp_path)
    assert out.returncode == 2
    assert "task is empty" in out.stderr


def test_config_check_reports_key_presence_without_value(tmp_path: Path) -> None:
    out = _run("config", tmp=tmp_path, env_extra={"DEEPSEEK_API_KEY": "sk-secret-value"})
    assert out.returncode == 0
    assert "API key set" in out.stdout
    assert "sk-secret-value" not in out.stdout + out.stderr
