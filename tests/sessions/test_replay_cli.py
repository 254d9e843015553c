"""Replay (headless and the cursor the console drives), export, the sessions list and the CLI
entry points; replay makes no model or cluster calls (P8)."""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
import textwrap
from argparse import Namespace
from pathlib import Path

import pytest

from opsconsole.agent import events as ev
from opsconsole.cli import main
from opsconsole.sessions import ReplayCursor, SessionRecorder, read_session, render_text
from opsconsole.sessions.cli import run_export, run_replay_print, run_sessions
from opsconsole.sessions.export import to_markdown
from opsconsole.sessions.index import list_sessions
from tests.sessions.kit import write_sample

ROOT = Path(__file__).resolve().parents[2]


# --- replay ------------------------------------------------------------------------------


def test_print_shows_every_step_in_order(sdir: Path) -> None:
    text = render_text(read_session(write_sample(sdir)))
    order = [
        "Question: 为什么 checkout 失败?",
        "Thought:",
        "Action: get_k8s_pods",
        "Observation: get_k8s_pods [ok, 0.12s]",
        "Retry: attempt 1/3",
        "Dispatch: security: check RBAC",
        "Sub-task: check RBAC",
        "Error:",
        "Approval requested: delete Pod/checkout-7d9 in shop (context kind-dev)",
        "Approval: approve (by user)",
        "Audit: before delete_pod",
        "Action: delete_pod",
        "Observation: delete_pod [ok]",
        "Notice: warning: context compacted",
        "Answer: The checkout pod was crash-looping",
        "Finished: 3 steps, 360 tokens",
        "Question: and now?",
        "Cancelled: cancelled by user",
    ]
    pos = 0
    for needle in order:
        found = text.find(needle, pos)
        assert found >= 0, f"{needle!r} missing or out of order in:\n{text}"
        pos = found
    assert "checkout-7d9: CrashLoopBackOff" in text  # the observation itself


def test_replaying_twice_gives_the_same_output(sdir: Path) -> None:
    path = write_sample(sdir)
    assert render_text(read_session(path)) == render_text(read_session(path))
    a, b = ReplayCursor(read_session(path)), ReplayCursor(read_session(path))
    assert [(s.kind, s.title, s.start, s.end) for s in a.steps] == [
        (s.kind, s.title, s.start, s.end) for s in b.steps
    ]


def test_cursor_covers_every_entry_once_in_order(sdir: Path) -> None:
    s = read_session(write_sample(sdir))
    cur = ReplayCursor(s)
    applied = []
    while not cur.at_end:
        step = cur.forward()
        assert step is not None
        applied += cur.entries_of(step)
    assert applied == s.entries
    assert cur.forward() is None
    # back then rebuild == forward up to the same point
    cur.back()
    assert cur.entries_until() == s.entries[: cur.steps[cur.position - 1].end]
    cur.seek(0)
    assert cur.at_start and cur.entries_until() == []
    # deltas and step_started belong to the step they stream; snapshots to the step before
    thought = next(st for st in cur.steps if st.kind == "thought")
    kinds = [e.event.kind for e in cur.entries_of(thought) if e.event]
    assert kinds[-1] == "thought" and "text_delta" in kinds and "reasoning_delta" in kinds
    obs = next(st for st in cur.steps if st.kind == "observation")
    assert "snapshot" in [e.kind for e in cur.entries_of(obs)]
    cur.seek(obs.index + 1)
    pods, logs = cur.latest_snapshots()
    assert pods is not None and pods["rows"][0]["name"] == "checkout-7d9" and logs is None
    cur.seek(len(cur.steps))
    assert cur.latest_snapshots()[1]["lines"][-1] == "panic: db down"


def test_cursor_runs_and_speed(sdir: Path) -> None:
    cur = ReplayCursor(read_session(write_sample(sdir)))
    assert [r.task for r in cur.runs][1] == "and now?"
    assert [r.outcome for r in cur.runs] == ["answered", "cancelled"]
    cur.seek_run(1)
    assert cur.current_run() is cur.runs[1]
    assert cur.delay_before(1, None) == 0.0
    # recorded steps are 0.25 s apart and more: 4x is a quarter of 1x, capped gaps
    d1, d4 = cur.delay_before(2, 1.0), cur.delay_before(2, 4.0)
    assert d1 > 0 and abs(d4 - d1 / 4) < 1e-9 and d1 <= 3.0


def test_interrupted_run_is_shown(sdir: Path) -> None:
    rec = SessionRecorder.create(sdir, model="m")
    rec.record(ev.RunStarted(run_id="r", task="check nodes"))
    rec.record(ev.TextDelta(run_id="r", text="Nodes are"))
    rec.close()
    text = render_text(read_session(rec.path))
    assert "Interrupted:" in text and "Nodes are" in text
    assert list_sessions(sdir)[0].outcome == "interrupted"


_NO_CLIENTS = textwrap.dedent(
    """
    import json, sys
    from opsconsole.cli import main
    rc = main(sys.argv[1:])
    heavy = sorted({m.split(".")[0] for m in sys.modules} & {"openai", "kubernetes", "httpx",
                                                             "textual", "rich"})
    print("MODULES=" + json.dumps(heavy))
    sys.exit(rc)
    """
)


def _cli(args: list[str], env_dir: Path) -> subprocess.CompletedProcess[str]:
    env = {
        **os.environ,
        "OPSCONSOLE_CONFIG_DIR": str(env_dir / "cfg"),
        "OPSCONSOLE_DATA_DIR": str(env_dir / "data"),
        "OPSCONSOLE_STATE_DIR": str(env_dir / "state"),
    }
    return subprocess.run(
        [sys.executable, "-c", _NO_CLIENTS, *args],
        capture_output=True, text=True, cwd=ROOT, env=env, timeout=60,
    )  # fmt: skip


def test_replay_print_makes_no_model_or_cluster_calls(tmp_path: Path) -> None:
    """P8: replay runs in a process that never even imports the openai or kubernetes
    clients (so it cannot call them); same for export and the list."""
    sdir = tmp_path / "data" / "sessions"
    path = write_sample(sdir)
    out = _cli(["replay", str(path), "--print"], tmp_path)
    assert out.returncode == 0, out.stderr
    assert "Answer: The checkout pod" in out.stdout
    assert "MODULES=[]" in out.stdout
    out = _cli(["export", "last", "-o", str(tmp_path / "r.md")], tmp_path)
    assert out.returncode == 0 and "MODULES=[]" in out.stdout, out.stderr
    out = _cli(["sessions"], tmp_path)
    assert out.returncode == 0 and "MODULES=[]" in out.stdout, out.stderr
    assert path.name in out.stdout


# --- export ------------------------------------------------------------------------------


def test_export_markdown_contains_the_investigation(sdir: Path, settings, tmp_path: Path) -> None:
    path = write_sample(sdir)
    out = tmp_path / "report.md"
    assert run_export(Namespace(file=str(path), output=str(out)), settings) == 0
    md = out.read_text()
    assert stat.S_IMODE(out.stat().st_mode) == 0o600
    assert md.startswith("# Investigation: 为什么 checkout 失败?")
    for needle in (
        "| Model | fake-model |",
        "| Context | kind-dev |",
        "| Tokens | 360 |",
        "## Question 1",
        "**Action**: `get_k8s_pods`",
        '"namespace": "shop"',
        "**Observation**: get_k8s_pods [ok, 0.12s]",
        "checkout-7d9: CrashLoopBackOff",
        "**Approval requested**: delete Pod/checkout-7d9",
        "**Action**: `delete_pod` (mutating)",
        "### Answer",
        "The checkout pod was crash-looping; deleted it.",
        "## Question 2",
    ):
        assert needle in md, needle
    assert md.count("```") % 2 == 0


def test_export_fences_survive_backticks_and_long_output(sdir: Path) -> None:
    rec = SessionRecorder.create(sdir, model="m")
    rec.record(ev.RunStarted(run_id="r", task="q"))
    out = "```\nnot the end\n```\n" + "\n".join(f"line {i}" for i in range(500))
    rec.record(ev.ToolCallFinished(run_id="r", tool_call_id="c", tool="t", status="ok",
                                   output=out))  # fmt: skip
    rec.close()
    md = to_markdown(read_session(rec.path))
    assert "````text" in md and "more lines]" in md and "line 499" not in md


# --- list --------------------------------------------------------------------------------


def test_sessions_list_newest_first_with_summary(sdir: Path, settings, capsys) -> None:
    older = write_sample(sdir)
    rec = SessionRecorder.create(sdir, model="other-model")
    rec.record(ev.RunStarted(run_id="r", task="为什么节点 NotReady? " * 5))
    rec.record(ev.UsageReported(run_id="r", total_prompt_tokens=50, total_completion_tokens=5))
    rec.record(ev.RunFailed(run_id="r", error="402 insufficient balance"))
    rec.close()
    newer = rec.path
    if newer.name < older.name:  # same second: make the order deterministic
        newer = newer.rename(sdir / ("99999999-" + newer.name))
    summaries = list_sessions(sdir)
    assert [s.file for s in summaries] == [newer.name, older.name]
    assert [s.path for s in summaries] == [str(newer), str(older)]
    first, second = summaries
    assert first.model == "other-model" and first.tokens == 55 and first.outcome == "failed"
    assert second.question.startswith("为什么 checkout") and second.tokens == 360
    assert run_sessions(Namespace(limit=50), settings) == 0
    table = capsys.readouterr().out.splitlines()
    assert table[0].split()[:3] == ["DATE", "QUESTION", "MODEL"]
    assert newer.name in table[1] and older.name in table[2]
    assert "…" in table[1]  # the long CJK question was cut to its column
    # CJK is counted two cells wide: the MODEL column starts at the same cell in every row
    from opsconsole.sessions.cli import _cell_width

    models = ["other-model", "fake-model"]
    col = [_cell_width(r[: r.index(m)]) for r, m in zip(table[1:], models, strict=True)]
    assert col[0] == col[1]


def test_sessions_list_uses_its_cache(sdir: Path) -> None:
    path = write_sample(sdir)
    assert list_sessions(sdir)[0].tokens == 360
    # same size and mtime, different bytes: the cached summary is used
    st = path.stat()
    data = path.read_bytes().replace(b'"completion_tokens":60', b'"completion_tokens":70')
    path.write_bytes(data)
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns))
    assert list_sessions(sdir)[0].tokens == 360
    assert list_sessions(sdir, use_index=False)[0].tokens == 370


def test_damaged_sessions_are_listed_not_fatal(sdir: Path) -> None:
    write_sample(sdir)
    (sdir / "20200101-000000-bad.jsonl").write_text("not json\n")
    (sdir / "20200101-000001-mid.jsonl").write_text(
        json.dumps({"type": "header", "format": 1}) + "\n\x00\x00\n"
    )
    by_file = {s.file: s for s in list_sessions(sdir)}
    assert by_file["20200101-000000-bad.jsonl"].outcome == "unreadable"
    assert by_file["20200101-000001-mid.jsonl"].outcome == "damaged"


def test_a_session_being_written_is_listed_as_running(sdir: Path) -> None:
    rec = SessionRecorder.create(sdir, model="m")
    rec.record(ev.RunStarted(run_id="r", task="live"))
    try:
        assert list_sessions(sdir)[0].outcome == "running"
    finally:
        rec.close()
    assert list_sessions(sdir)[0].outcome == "interrupted"


# --- CLI errors --------------------------------------------------------------------------


def _main(args: list[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> int:
    monkeypatch.setenv("OPSCONSOLE_CONFIG_DIR", str(tmp_path / "cfg"))
    monkeypatch.setenv("OPSCONSOLE_DATA_DIR", str(tmp_path / "data"))
    return main(args)


def test_cli_errors_are_clear_without_traceback(tmp_path: Path, monkeypatch, capsys) -> None:
    sdir = tmp_path / "data" / "sessions"
    assert _main(["replay", "nope.jsonl", "--print"], tmp_path, monkeypatch) == 1
    err = capsys.readouterr().err
    assert "session not found: nope.jsonl" in err and "Traceback" not in err
    path = write_sample(sdir)
    raw = path.read_bytes().split(b"\n")
    raw.insert(3, b"\x00\x00\x00")
    path.write_bytes(b"\n".join(raw))
    assert _main(["replay", str(path), "--print"], tmp_path, monkeypatch) == 1
    err = capsys.readouterr().err
    assert "damaged at line 4" in err and "--partial" in err and "Traceback" not in err
    future = sdir / "future.jsonl"
    future.write_text(json.dumps({"type": "header", "format": 7}) + "\n")
    assert _main(["export", str(future), "-o", str(tmp_path / "x.md")], tmp_path, monkeypatch) == 1
    err = capsys.readouterr().err
    assert "format 7" in err and "upgrade" in err
    assert not (tmp_path / "x.md").exists()


def test_replay_partial_opens_up_to_the_damage(sdir: Path, settings, capsys) -> None:
    path = write_sample(sdir)
    raw = path.read_bytes().split(b"\n")
    raw.insert(4, b"garbage")
    path.write_bytes(b"\n".join(raw))
    assert run_replay_print(Namespace(file=str(path), partial=True), settings) == 0
    out = capsys.readouterr().out
    assert "warning: line 5 is damaged" in out and "Question:" in out


def test_file_argument_by_id_prefix_and_last(sdir: Path, settings, capsys) -> None:
    path = write_sample(sdir)
    sid = read_session(path).session_id
    for name in (sid, path.stem, path.name, "last"):
        assert run_replay_print(Namespace(file=name), settings) == 0
        assert "Question:" in capsys.readouterr().out


def test_run_cut_off_by_a_crash_then_resumed_shows_its_partial_text(sdir: Path) -> None:
    from opsconsole.sessions import resume_session

    rec = SessionRecorder.create(sdir, model="m")
    rec.record(ev.RunStarted(run_id="r1", task="first"))
    rec.record(ev.TextDelta(run_id="r1", text="thinking about nodes"))
    rec.close()
    resumed = resume_session(rec.path)
    resumed.recorder.record(ev.RunStarted(run_id="r2", task="second"))
    resumed.recorder.record(ev.Answer(run_id="r2", text="ok"))
    resumed.recorder.record(ev.RunFinished(run_id="r2"))
    resumed.recorder.close()
    s = read_session(rec.path)
    cur = ReplayCursor(s)
    assert [st.kind for st in cur.steps] == [
        "question", "interrupted", "resumed", "question", "answer", "finished",
    ]  # fmt: skip
    assert "thinking about nodes" in cur.steps[1].body
    assert [r.outcome for r in cur.runs] == ["interrupted", "answered"]
    applied = [e for st in cur.steps for e in cur.entries_of(st)]
    assert applied == s.entries
