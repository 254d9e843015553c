"""Crash safety: torn last line (P1, with a real SIGKILL), append after a tear (P2), damage
mid-file (P3), atomic rewrites (P5), one writer per file (P9), unknown format versions."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from opsconsole.agent import events as ev
from opsconsole.errors import SessionLocked
from opsconsole.sessions import SessionCorrupt, SessionFormatError, SessionRecorder, read_session
from opsconsole.sessions.atomic import atomic_write_bytes
from opsconsole.sessions.format import SessionNotFound
from opsconsole.sessions.index import INDEX_NAME, list_sessions
from tests.sessions.kit import lines, write_sample

ROOT = Path(__file__).resolve().parents[2]


def _complete_lines(path: Path) -> int:
    return path.read_bytes().count(b"\n")


# --- P1 ----------------------------------------------------------------------------------


def test_torn_last_line_is_dropped_with_a_warning(sdir: Path) -> None:
    path = write_sample(sdir)
    n = _complete_lines(path)
    with open(path, "ab") as fh:
        fh.write(b'{"type":"event","event":{"type":"notice","run_id":"r","te')
    s = read_session(path)
    assert s.lines == n
    assert any("incomplete" in w and f"line {n + 1}" in w for w in s.warnings)
    assert s.events == read_session(path).events  # stable


def test_torn_nul_tail_is_dropped_with_a_warning(sdir: Path) -> None:
    path = write_sample(sdir)
    with open(path, "ab") as fh:
        fh.write(b"\x00" * 512)
    s = read_session(path)
    assert any("NUL" in w for w in s.warnings)


_WRITER = textwrap.dedent(
    """
    import sys
    from opsconsole.agent import events as ev
    from opsconsole.sessions import SessionRecorder
    rec = SessionRecorder.create(sys.argv[1], model="m")
    print(rec.path, flush=True)
    big = "x" * 20000
    msgs = []
    i = 0
    while True:
        i += 1
        rec.record(ev.ToolCallFinished(run_id="r", tool_call_id=f"c{i}", tool="t",
                                       status="ok", output=big))
        msgs.append({"role": "user", "content": f"m{i}"})
        rec.sync_messages(msgs)
        for k in range(5):
            rec.record(ev.TextDelta(run_id="r", step=i, text="t" * 50))
    """
)


def test_sigkill_while_appending_leaves_a_file_that_loads(sdir: Path) -> None:
    """P1 for real: a writer killed with SIGKILL mid-run; every complete record loads."""
    proc = subprocess.Popen(
        [sys.executable, "-c", _WRITER, str(sdir)],
        stdout=subprocess.PIPE,
        text=True,
        cwd=ROOT,
    )
    try:
        path = Path(proc.stdout.readline().strip())  # type: ignore[union-attr]
        deadline = time.monotonic() + 60  # generous: returns at 200 lines
        while _complete_lines(path) < 200 and time.monotonic() < deadline:
            time.sleep(0.01)
        os.kill(proc.pid, signal.SIGKILL)
    finally:
        proc.wait(timeout=10)
    assert proc.returncode == -signal.SIGKILL
    complete = _complete_lines(path)
    assert complete >= 200
    s = read_session(path)
    assert s.lines == complete
    assert len(s.events) + len(s.messages) == complete - 1
    if not path.read_bytes().endswith(b"\n"):
        assert s.warnings
    # and the session can be reopened and continued (the lock died with the process)
    rec = SessionRecorder.open_existing(path)
    rec.record(ev.Notice(run_id="r", text="after the crash"))
    rec.close()
    assert read_session(path).events[-1].text == "after the crash"


# --- P2 ----------------------------------------------------------------------------------


def test_append_after_a_torn_line_starts_on_a_fresh_line(sdir: Path) -> None:
    path = write_sample(sdir)
    before = path.read_bytes()
    with open(path, "ab") as fh:
        fh.write(b'{"type":"event","event":{"type":"no')
    rec = SessionRecorder.open_existing(path)
    rec.record(ev.Notice(run_id="r", text="resumed fine"))
    rec.close()
    data = path.read_bytes()
    assert data.startswith(before)
    tail = data[len(before) :].splitlines()
    assert [json.loads(x)["type"] for x in tail] == ["resumed", "event"]
    s = read_session(path)
    assert s.warnings == [] and s.events[-1].text == "resumed fine"


# --- P3 ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("bad", "reason"),
    [(b'{"type": "event", "event": {"ty', "not a valid JSON record"),
     (b"\x00" * 64, "NUL bytes"),
     (b"\xff\xfe not utf-8", "not a valid JSON record"),
     (b"[1, 2, 3]", "not a valid JSON record")],
)  # fmt: skip
def test_damage_mid_file_is_reported_with_its_line_number(
    sdir: Path, bad: bytes, reason: str
) -> None:
    path = write_sample(sdir)
    raw = path.read_bytes().split(b"\n")
    raw.insert(5, bad)  # becomes line 6
    path.write_bytes(b"\n".join(raw))
    with pytest.raises(SessionCorrupt) as info:
        read_session(path)
    assert info.value.line == 6
    assert reason in str(info.value) and "line 6" in str(info.value)
    assert "--partial" in str(info.value)
    partial = read_session(path, allow_partial=True)
    assert partial.read_only and partial.corrupt_line == 6 and partial.lines == 5
    assert any("line 6" in w and "read-only" in w for w in partial.warnings)
    # the entries are exactly those of lines 2..5
    assert [e.line for e in partial.entries] == [
        e.line for e in read_session(path, allow_partial=True).entries
    ]
    assert all(e.line < 6 for e in partial.entries)
    # never opened for writing: the damage must not be buried under new records
    with pytest.raises(SessionCorrupt):
        SessionRecorder.open_existing(path)


def test_unknown_format_version_is_refused(sdir: Path) -> None:
    path = sdir / "future.jsonl"
    sdir.mkdir()
    path.write_text(json.dumps({"type": "header", "format": 2, "app_version": "9.0"}) + "\n")
    with pytest.raises(SessionFormatError, match="format 2.*reads format 1"):
        read_session(path)


def test_not_a_session_and_empty_and_missing(sdir: Path) -> None:
    sdir.mkdir()
    (sdir / "a.jsonl").write_text("hello\n")
    (sdir / "b.jsonl").write_bytes(b"")
    (sdir / "c.jsonl").write_text('{"type": "header", "format": 1, "model": "m"')
    with pytest.raises(SessionFormatError, match="not an opsconsole session"):
        read_session(sdir / "a.jsonl")
    with pytest.raises(SessionFormatError, match="empty"):
        read_session(sdir / "b.jsonl")
    with pytest.raises(SessionFormatError, match="empty"):
        read_session(sdir / "c.jsonl")
    with pytest.raises(SessionNotFound):
        read_session(sdir / "nope.jsonl")


def test_unknown_record_and_event_types_are_skipped_with_a_warning(sdir: Path) -> None:
    path = write_sample(sdir)
    with open(path, "ab") as fh:
        fh.write(b'{"type":"hologram","ts":1}\n')
        fh.write(b'{"type":"event","event":{"type":"telepathy","run_id":"r"}}\n')
    s = read_session(path)
    assert any("hologram" in w for w in s.warnings)
    assert any("telepathy" in w for w in s.warnings)


# --- P5 ----------------------------------------------------------------------------------


def test_atomic_write_fault_between_write_and_replace_keeps_the_old_file(tmp_path: Path) -> None:
    target = tmp_path / "index.json"
    target.write_bytes(b'{"old": true}')

    def crash(src: str, dst: str) -> None:
        raise OSError("simulated crash between write and replace")

    with pytest.raises(OSError, match="simulated"):
        atomic_write_bytes(target, b'{"new": true}', replace=crash)
    assert target.read_bytes() == b'{"old": true}'
    assert sorted(p.name for p in tmp_path.iterdir()) == ["index.json"]


_KILLED_REWRITE = textwrap.dedent(
    """
    import os, signal, sys
    from opsconsole.sessions.atomic import atomic_write_bytes
    def die(src, dst):
        os.kill(os.getpid(), signal.SIGKILL)
    atomic_write_bytes(sys.argv[1], b'{"new": true}', replace=die)
    """
)


def test_process_killed_between_write_and_replace_keeps_the_old_file(tmp_path: Path) -> None:
    target = tmp_path / "settings.json"
    target.write_bytes(b'{"old": true}')
    proc = subprocess.run(
        [sys.executable, "-c", _KILLED_REWRITE, str(target)], cwd=ROOT, timeout=30
    )
    assert proc.returncode == -signal.SIGKILL
    assert target.read_bytes() == b'{"old": true}'
    for p in tmp_path.iterdir():  # the leftover temp file is complete, never zero-length
        assert p.stat().st_size > 0


def test_session_index_rewrite_is_atomic_and_a_broken_index_is_rebuilt(sdir: Path) -> None:
    write_sample(sdir)
    first = list_sessions(sdir)
    index = sdir / INDEX_NAME
    assert index.exists() and oct(index.stat().st_mode & 0o777) == "0o600"
    index.write_bytes(b"\x00\x00garbage")
    assert list_sessions(sdir) == first
    assert json.loads(index.read_bytes())["version"] == 1


# --- P9 ----------------------------------------------------------------------------------


def test_second_writer_in_the_same_process_is_refused(sdir: Path) -> None:
    rec = SessionRecorder.create(sdir, model="m")
    with pytest.raises(SessionLocked, match="already open for writing"):
        SessionRecorder.open_existing(rec.path)
    assert read_session(rec.path).header["model"] == "m"  # readers need no lock
    rec.close()
    SessionRecorder.open_existing(rec.path).close()  # free again after close


_SECOND_WRITER = textwrap.dedent(
    """
    import sys
    from opsconsole.errors import SessionLocked
    from opsconsole.sessions import SessionRecorder
    try:
        SessionRecorder.open_existing(sys.argv[1])
    except SessionLocked as exc:
        print("LOCKED", exc)
        sys.exit(3)
    print("OPENED")
    """
)


def test_second_writer_in_another_process_is_refused(sdir: Path) -> None:
    rec = SessionRecorder.create(sdir, model="m")
    try:
        out = subprocess.run(
            [sys.executable, "-c", _SECOND_WRITER, str(rec.path)],
            capture_output=True, text=True, cwd=ROOT, timeout=30,
        )  # fmt: skip
        assert out.returncode == 3, out.stdout + out.stderr
        assert "LOCKED" in out.stdout
        before = rec.path.read_bytes()
        rec.record(ev.Notice(run_id="r", text="still mine"))
        assert rec.path.read_bytes().startswith(before)
    finally:
        rec.close()
    assert len(lines(rec.path)) == 2


def test_reopening_a_file_that_is_not_a_session_never_touches_it(tmp_path: Path) -> None:
    other = tmp_path / "notes.txt"
    other.write_bytes(b"line one\nunterminated last line")
    with pytest.raises(SessionFormatError):
        SessionRecorder.open_existing(other)
    assert other.read_bytes() == b"line one\nunterminated last line"
