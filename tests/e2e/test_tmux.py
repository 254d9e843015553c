"""End to end in a real terminal: tmux runs `python -m opsconsole --demo` at 120x40; we type
the seed's question, read the screen until the answer is there, and quit with ctrl+q."""

from __future__ import annotations

import shutil
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest

pytestmark = pytest.mark.e2e

ROOT = Path(__file__).resolve().parents[2]
QUESTION = "查看 default 命名空间下所有 Pod 的状态"


def _tmux(socket: str, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["tmux", "-u", "-L", socket, *args], capture_output=True, text=True, check=check
    )


def _screen(socket: str, session: str) -> str:
    return _tmux(socket, "capture-pane", "-p", "-t", session, check=False).stdout


def _wait_screen(socket: str, session: str, needle: str, timeout: float) -> str:
    deadline = time.monotonic() + timeout
    screen = ""
    while time.monotonic() < deadline:
        screen = _screen(socket, session)
        if needle in screen:
            return screen
        time.sleep(0.2)
    raise AssertionError(f"{needle!r} not on screen after {timeout}s; screen:\n{screen}")


@pytest.mark.skipif(shutil.which("tmux") is None, reason="tmux is not installed")
def test_demo_in_tmux(tmp_path: Path) -> None:
    socket = f"opsconsole-e2e-{uuid.uuid4().hex[:8]}"
    session = "e2e"
    env = {
        "LANG": "C.UTF-8",
        "LC_ALL": "C.UTF-8",
        "TERM": "xterm-256color",
        "PYTHONPATH": str(ROOT),
        "OPSCONSOLE_CONFIG_DIR": str(tmp_path / "config"),
        "OPSCONSOLE_DATA_DIR": str(tmp_path / "data"),
        "OPSCONSOLE_STATE_DIR": str(tmp_path / "state"),
        "DEEPSEEK_API_KEY": "",
        "OPENAI_API_KEY": "",
    }
    exports = " ".join(f"{k}='{v}'" for k, v in env.items())
    marker = tmp_path / "exited"
    command = (
        f"cd '{ROOT}' && env -u COLUMNS -u LINES {exports} '{sys.executable}' "
        f"-m opsconsole --demo; echo $? > '{marker}'"
    )
    # (under pytest the tmux server may pass COLUMNS=80/LINES=24 on: unset them, or Textual
    # would believe them instead of the 120x40 pane)
    _tmux(socket, "new-session", "-d", "-x", "120", "-y", "40", "-s", session, command)
    try:
        # the UI is up and the backend (sandbox, offline planner) connected
        _wait_screen(socket, session, "offline planner", timeout=60)
        _wait_screen(socket, session, "ready", timeout=30)
        _tmux(socket, "send-keys", "-t", session, "-l", QUESTION)
        _wait_screen(socket, session, "命名空间", timeout=30)  # the input echoes wide chars
        _tmux(socket, "send-keys", "-t", session, "Enter")
        screen = _wait_screen(socket, session, "■ finished", timeout=60)
        size = _tmux(socket, "display", "-p", "-t", session, "#{window_width}x#{window_height}")
        assert "get_k8s_pods" in screen, (size.stdout, screen)  # the Action in the trace
        assert "Traceback" not in screen
        _tmux(socket, "send-keys", "-t", session, "C-q")
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and not marker.exists():
            time.sleep(0.2)
        assert marker.exists(), "opsconsole did not exit after ctrl+q:\n" + _screen(socket, session)
        assert marker.read_text().strip() == "0"
    finally:
        _tmux(socket, "kill-server", check=False)
