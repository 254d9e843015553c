"""``opsconsole ask --resume``: a follow-up continues a recorded session in the same file."""

from __future__ import annotations

import subprocess
from pathlib import Path

from opsconsole.sessions.index import summarize
from opsconsole.sessions.reader import read_session
from tests.fakes.cli import run_cli


def _ask(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return run_cli(tmp_path, "ask", "--demo", "--offline", *args)


def test_resume_last_appends_a_second_run(tmp_path: Path) -> None:
    first = _ask(tmp_path, "哪些 Pod 不健康")
    assert first.returncode == 0, first.stderr
    second = _ask(tmp_path, "--resume", "last", "show the nodes")
    assert second.returncode == 0, second.stderr
    assert "resuming session" in second.stdout
    files = list((tmp_path / "data" / "sessions").glob("*.jsonl"))
    assert len(files) == 1
    session = read_session(files[0])
    users = [m["content"] for m in session.messages if m["role"] == "user"]
    assert users == ["哪些 Pod 不健康", "show the nodes"]
    summary = summarize(session)
    assert summary.runs == 2 and summary.outcome == "answered"


def test_resume_unknown_session_is_a_clear_error(tmp_path: Path) -> None:
    out = _ask(tmp_path, "--resume", "no-such-session", "hello")
    assert out.returncode in (1, 2)
    assert "Traceback" not in out.stderr
    assert "no-such-session" in out.stderr
