"""Recording and reading: every event type round-trips; transcript, approvals, audits and
snapshots come back; redaction (S8), no API key on disk (S14), file modes (S15)."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from opsconsole.agent import events as ev
from opsconsole.agent.events import EVENT_TYPES
from opsconsole.agent.transcript import Conversation
from opsconsole.sessions import SessionRecorder, read_session
from opsconsole.sessions.format import FORMAT_VERSION
from opsconsole.sessions.replay import pod_rows_from_snapshot
from tests.sessions.kit import every_event, lines, transcript, write_sample


def test_every_event_type_round_trips(sdir: Path) -> None:
    events = every_event()
    assert {e.kind for e in events} == set(EVENT_TYPES), "the sample must cover every type"
    rec = SessionRecorder.create(sdir, model="m", context="kind-dev", sandbox=True)
    for e in events:
        rec.record(e)
    rec.close()
    session = read_session(rec.path)
    assert session.events == events
    assert session.warnings == []
    h = session.header
    assert h["format"] == FORMAT_VERSION and h["model"] == "m" and h["context"] == "kind-dev"
    assert h["sandbox"] is True and h["session_id"] in rec.path.name
    assert {"app_version", "started", "offline", "language"} <= set(h)


def test_transcript_approvals_audits_snapshots_round_trip(sdir: Path) -> None:
    path = write_sample(sdir)
    s = read_session(path)
    assert s.messages == transcript()
    assert [a["tool_call_id"] for a in s.audits] == ["c3"]
    assert s.audits[0]["context"] == "kind-dev" and s.audits[0]["approval_source"] == "user"
    # the audit's approval came after the ApprovalResolved event: not written twice
    assert s.approvals == []
    kinds = [snap["kind"] for snap in s.snapshots]
    assert kinds == ["pods", "logs"]
    assert s.snapshots[1]["lines"] == ["boot", "panic: db down"]
    assert s.snapshots[0]["rows"][0]["name"] == "checkout-7d9"
    # entries keep file order: the pods snapshot right after the observation it belongs to
    order = [(e.kind, e.event.kind if e.event else None) for e in s.entries]
    i = order.index(("snapshot", None))
    assert order[i - 1] == ("event", "tool_call_finished")


def test_pod_snapshot_rebuilds_rows(sdir: Path) -> None:
    from opsconsole.k8s.models import ContainerRow, PodRow

    row = PodRow(
        namespace="shop", name="api-1", uid="u1", phase="Running", status="Running",
        ready=1, total=1, restarts=2, node="n1", pod_ip="10.0.0.1",
        created="2026-01-01T00:00:00Z", labels={"app": "api"},
        containers=[ContainerRow(name="api", image="api:1", ready=True, restart_count=2)],
        packed=b'{"huge":"object"}',
    )  # fmt: skip
    with SessionRecorder.create(sdir, model="m") as rec:
        rec.snapshot_pods([row], namespace="shop", context="kind-dev")
    snap = read_session(rec.path).snapshots[0]
    assert "raw" not in snap["rows"][0] and "packed" not in snap["rows"][0]
    (back,) = pod_rows_from_snapshot(snap)
    assert back.name == "api-1" and back.restarts == 2 and back.labels == {"app": "api"}
    assert back.containers[0].image == "api:1"


def test_deltas_are_coalesced_per_burst(sdir: Path) -> None:
    rec = SessionRecorder.create(sdir, model="m")
    for i in range(200):
        rec.record(ev.TextDelta(run_id="r", step=1, text=f"{i} ", ts=1000.0 + i * 0.001))
    rec.record(ev.Answer(run_id="r", step=1, text="done", ts=1001.0))
    rec.close()
    s = read_session(rec.path)
    deltas = [e for e in s.events if e.kind == "text_delta"]
    assert len(deltas) == 1
    assert deltas[0].text == "".join(f"{i} " for i in range(200)) and deltas[0].ts == 1000.0
    assert len(lines(rec.path)) == 3  # header, delta, answer


def test_deferred_events_keep_their_order_with_direct_writes(sdir: Path) -> None:
    """The console defers its events (written after the frame that shows them): any other
    write takes them first, drain() writes them and leaves a coalescing delta pending, and
    close() writes everything."""
    rec = SessionRecorder.create(sdir, model="m")
    rec.record(ev.RunStarted(run_id="r", task="q", ts=1000.0), defer=True)
    started = ev.ToolCallStarted(run_id="r", step=1, tool_call_id="c1", tool="t", arguments={})
    rec.record(started, defer=True)
    assert len(lines(rec.path)) == 1  # only the header: both are held
    rec.snapshot_logs(["a log line"], pod="p")  # a direct write
    types = [line.get("event", {}).get("type", line["type"]) for line in lines(rec.path)]
    assert types == ["header", "run_started", "tool_call_started", "snapshot"]
    rec.record(ev.TextDelta(run_id="r", step=1, text="a", ts=1001.0), defer=True)
    rec.record(ev.TextDelta(run_id="r", step=1, text="b", ts=1001.001), defer=True)
    rec.drain()
    assert len(lines(rec.path)) == 4  # the delta still coalesces
    rec.record(ev.Answer(run_id="r", step=1, text="ab", ts=1002.0), defer=True)
    rec.close()
    session = read_session(rec.path)
    assert [e.kind for e in session.events] == [
        "run_started",
        "tool_call_started",
        "text_delta",
        "answer",
    ]
    assert session.events[2].text == "ab"


def test_deltas_pending_at_close_are_written(sdir: Path) -> None:
    rec = SessionRecorder.create(sdir, model="m")
    rec.record(ev.TextDelta(run_id="r", text="partial"))
    rec.close()
    assert [e.text for e in read_session(rec.path).events] == ["partial"]


def test_sync_messages_appends_only_new_and_rewinds_on_replacement(sdir: Path) -> None:
    rec = SessionRecorder.create(sdir, model="m")
    msgs = transcript()[:2]
    assert rec.sync_messages(msgs) == 2
    assert rec.sync_messages(msgs) == 0
    msgs += transcript()[2:4]
    assert rec.sync_messages(msgs) == 2
    # an equal deep copy (Conversation(messages) copies) is adopted without rewriting
    conv = Conversation(msgs)
    assert rec.sync_messages(conv.messages, thread="main") == 0
    # a replaced message (compaction) rewinds to it and rewrites the rest
    msgs2 = [msgs[0], {"role": "user", "content": "edited"}, *msgs[2:]]
    assert rec.sync_messages(msgs2) == 3
    rec.close()
    recs = lines(rec.path)
    assert [r["type"] for r in recs].count("rewind") == 1
    assert read_session(rec.path).messages == msgs2


def test_tracked_transcript_is_written_before_each_event(sdir: Path) -> None:
    rec = SessionRecorder.create(sdir, model="m")
    msgs: list[dict] = []
    rec.track_transcript(msgs)
    msgs.append({"role": "user", "content": "hi"})
    rec.record(ev.RunStarted(run_id="r", task="hi"))
    rec.close()
    types = [r["type"] for r in lines(rec.path)]
    assert types == ["header", "message", "event"]


def test_secrets_are_redacted_on_disk_numbers_kept(sdir: Path) -> None:
    """S8: tool output with secrets is redacted in the JSONL; token counts survive."""
    secret_out = (
        "AWS_SECRET_ACCESS_KEY=wJalrXUtnFEMIK7MDENGbPxRfiCYEXAMPLEKEY\n"
        "aws_access_key_id = AKIAIOSFODNN7EXAMPLE\n"
        "Authorization: Bearer eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ4In0.c2lnbmF0dXJl\n"
        "-----BEGIN RSA PRIVATE KEY-----\nMIIEowIBAAKCAQEAxyz\n-----END RSA PRIVATE KEY-----\n"
    )
    rec = SessionRecorder.create(sdir, model="m")
    rec.record(
        ev.ToolCallFinished(
            run_id="r",
            tool_call_id="c",
            tool="get_pod_logs",
            status="ok",
            output=secret_out,
            data={"kind": "Secret", "data": {"password": "aHVudGVyMg=="}},
        )
    )
    rec.record(ev.UsageReported(run_id="r", prompt_tokens=123, total_prompt_tokens=456))
    rec.sync_messages([{"role": "tool", "tool_call_id": "c", "content": secret_out}])
    rec.close()
    raw = rec.path.read_text()
    for leaked in (
        "wJalrXUtnFEMIK7MDENG",
        "AKIAIOSFODNN7EXAMPLE",
        "eyJhbGciOiJIUzI1NiJ9",
        "MIIEowIBAAKCAQEAxyz",
        "aHVudGVyMg==",
    ):
        assert leaked not in raw, leaked
    assert "[REDACTED]" in raw
    usage = [e for e in read_session(rec.path).events if e.kind == "usage"][0]
    assert usage.prompt_tokens == 123 and usage.total_prompt_tokens == 456  # fmt: skip


def test_api_key_never_written(settings, sdir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """S14: a fake key in the environment, echoed everywhere, never reaches the file."""
    key = 'zz-fake-key-1234567890-quote"-slash\\-中文'
    monkeypatch.setenv("OPSCONSOLE_TEST_SESSION_KEY", key)
    rec = SessionRecorder.from_settings(settings, model="fake-model", context="kind-dev")
    assert rec is not None and rec.path.parent == sdir
    rec.record(ev.RunStarted(run_id="r", task=f"my key is {key}"))
    rec.record(
        ev.ToolCallStarted(
            run_id="r", tool_call_id="c", tool="t", arguments={"token": key, "nested": [key]}
        )
    )
    rec.record(
        ev.ToolCallFinished(
            run_id="r",
            tool_call_id="c",
            tool="t",
            status="ok",
            output=f"env: KEY={key}",
            data={"k": key},
        )
    )
    rec.sync_messages([{"role": "user", "content": key}])
    rec.audit("before", tool_call_id="c", tool="t", arguments={"a": key}, decision="approve")
    rec.snapshot_logs([f"log {key}"], pod="p")
    rec.close()
    raw = rec.path.read_bytes()
    assert key.encode() not in raw
    assert b"zz-fake-key-1234567890" not in raw


def test_recording_off_returns_none(settings) -> None:
    off = settings.replace(sessions=settings.sessions.replace(record=False))
    assert SessionRecorder.from_settings(off) is None


def test_file_0600_directory_0700(sdir: Path) -> None:
    """S15, even with a permissive umask and a pre-existing world-readable directory."""
    sdir.mkdir(mode=0o755)
    os.chmod(sdir, 0o755)
    old = os.umask(0)
    try:
        rec = SessionRecorder.create(sdir, model="m")
        rec.close()
    finally:
        os.umask(old)
    assert stat.S_IMODE(rec.path.stat().st_mode) == 0o600
    assert stat.S_IMODE(sdir.stat().st_mode) == 0o700


def test_write_failure_is_a_session_error_and_leaves_no_torn_record(sdir: Path) -> None:
    from opsconsole.errors import SessionError

    def failing_fsync(fd: int) -> None:
        raise OSError(28, "No space left on device")

    rec = SessionRecorder.create(sdir, model="m", fsync=lambda fd: None)
    rec._fsync = failing_fsync  # the disk fills up after the header
    with pytest.raises(SessionError, match="No space left"):
        rec.record(ev.Notice(run_id="r", text="x"))
    with pytest.raises(SessionError):
        rec.record(ev.Notice(run_id="r", text="y"))
    rec.close()
    assert len(lines(rec.path)) == 1  # the failed record was cut back off


def test_resumed_recorder_scrubs_the_key_too(settings, sdir: Path, monkeypatch) -> None:
    from opsconsole.sessions import resume_session

    key = "resume-fake-key-0123456789abcdef"
    monkeypatch.setenv("OPSCONSOLE_TEST_SESSION_KEY", key)
    rec = SessionRecorder.from_settings(settings)
    assert rec is not None
    rec.close()
    resumed = resume_session(rec.path, settings=settings)
    resumed.recorder.record(ev.Notice(run_id="r", text=f"echo {key}"))
    resumed.recorder.close()
    assert key.encode() not in rec.path.read_bytes()
    assert read_session(rec.path).events[-1].text == "echo [REDACTED]"
