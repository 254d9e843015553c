"""Resume and audit with the real agent loop against the scripted OpenAI-compatible server:
pending tool calls answered as interrupted and never re-run (P6), the assistant message and
the approval fsynced before a mutating tool runs (P7, S16), session-wide approvals not
restored (P11, S5)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from opsconsole.agent import events as ev
from opsconsole.agent.transcript import Conversation
from opsconsole.sessions import SessionRecorder, read_session, resume_messages, resume_session
from tests.fakes.openai_server import ScriptedOpenAIServer, reply, tool_call
from tests.sessions.kit import ScriptedApprover, make_loop, make_tools, run_recorded

DEL_ARGS = {"namespace": "shop", "pod_name": "checkout-7d9"}


@pytest.fixture
def srv() -> Iterator[ScriptedOpenAIServer]:
    with ScriptedOpenAIServer() as server:
        yield server


def _crashed_session(sdir: Path) -> Path:
    """A session whose writer died after the model asked for two tool calls."""
    rec = SessionRecorder.create(sdir, model="fake-model")
    rec.record(ev.RunStarted(run_id="r1", task="why is checkout failing?"))
    msgs: list[dict[str, Any]] = [
        {"role": "system", "content": "sys"},
        {"role": "user", "content": "why is checkout failing?"},
        {
            "role": "assistant",
            "content": "",
            "tool_calls": [
                {"id": "c1", "type": "function",
                 "function": {"name": "get_k8s_pods", "arguments": '{"namespace":"shop"}'}},
                {"id": "c2", "type": "function",
                 "function": {"name": "delete_pod", "arguments": json.dumps(DEL_ARGS)}},
            ],
        },
    ]  # fmt: skip
    rec.sync_messages(msgs)
    rec.record(ev.ToolCallStarted(run_id="r1", tool_call_id="c1", tool="get_k8s_pods",
                                  arguments={"namespace": "shop"}))  # fmt: skip
    rec.close()
    return rec.path


def test_resume_messages_answers_pending_calls_as_interrupted(sdir: Path) -> None:
    path = _crashed_session(sdir)
    msgs = resume_messages(read_session(path))
    tail = msgs[-2:]
    assert [m["tool_call_id"] for m in tail] == ["c1", "c2"]
    assert all(json.loads(m["content"])["status"] == "interrupted" for m in tail)


async def test_resumed_session_continues_without_rerunning_tools(
    sdir: Path, srv: ScriptedOpenAIServer
) -> None:
    """P6: the next request is accepted (one tool message per id) and no tool re-runs."""
    path = _crashed_session(sdir)
    resumed = resume_session(path)
    assert resumed.interrupted == ["c1", "c2"]
    calls: list[str] = []
    srv.push(reply("Resumed: the earlier calls were interrupted."))
    loop = make_loop(srv.base_url, make_tools(lambda a: None, calls),
                     conversation=Conversation(resumed.messages))  # fmt: skip
    resumed.recorder.track_transcript(loop.conversation.messages)
    events = await run_recorded(loop, resumed.recorder, "continue")
    resumed.recorder.close()
    assert srv.rejections == []
    assert calls == []
    assert isinstance(events[-1], ev.RunFinished)
    sent = srv.requests[0]["messages"]
    tool_msgs = [m for m in sent if m["role"] == "tool"]
    assert [m["tool_call_id"] for m in tool_msgs] == ["c1", "c2"]
    # the file now holds the repaired transcript and the new run
    s = read_session(path)
    assert s.messages[3]["tool_call_id"] == "c1" and s.messages[-1]["role"] == "assistant"
    assert any(e.kind == "resumed" for e in s.entries)
    # resuming the same file again gives a valid transcript with no new synthetic results
    assert resume_messages(s) == s.messages


class FsyncSpy:
    """Remembers how many bytes of the file were on disk at each fsync."""

    def __init__(self) -> None:
        self.synced: list[int] = []

    def __call__(self, fd: int) -> None:
        import os

        os.fsync(fd)
        self.synced.append(os.fstat(fd).st_size)


async def test_assistant_and_approval_are_fsynced_before_a_mutating_tool_runs(
    sdir: Path, srv: ScriptedOpenAIServer
) -> None:
    """P7 / S16, verified with an fsync spy injected into the recorder."""
    spy = FsyncSpy()
    rec = SessionRecorder.create(sdir, model="fake-model", context="kind-dev", fsync=spy)
    seen: dict[str, Any] = {}

    def on_delete(args: dict[str, Any]) -> None:
        durable = rec.path.read_bytes()[: spy.synced[-1]]
        records = [json.loads(x) for x in durable.splitlines()]
        seen["assistant"] = any(
            r["type"] == "message"
            and any(c["id"] == "del1" for c in r["message"].get("tool_calls") or [])
            for r in records
        )
        seen["approval"] = [
            r for r in records if r["type"] == "approval" and r["tool_call_id"] == "del1"
        ]
        seen["audit"] = [r for r in records if r["type"] == "audit"]

    calls: list[str] = []
    srv.push(reply(tool_calls=[tool_call("delete_pod", DEL_ARGS, id="del1")]))
    srv.push(reply("Deleted the crash-looping pod."))
    approver = ScriptedApprover("approve")
    loop = make_loop(srv.base_url, make_tools(on_delete, calls), approver=approver,
                     write_mode=True, context="kind-dev", audit=rec.audit_hook)  # fmt: skip
    rec.track_transcript(loop.conversation.messages)
    await run_recorded(loop, rec, "delete the broken checkout pod")
    rec.close()
    assert calls == ["delete_pod"]
    assert seen["assistant"] is True
    (approval,) = seen["approval"]
    assert approval["decision"] == "approve" and approval["context"] == "kind-dev"
    (audit,) = seen["audit"]
    assert audit["phase"] == "before" and audit["arguments"] == DEL_ARGS
    assert audit["context"] == "kind-dev" and audit["approval_source"] == "user"
    # S16: the result is audited too, before the ToolCallFinished event was recorded
    s = read_session(rec.path)
    phases = [(a["phase"], a.get("status")) for a in s.audits]
    assert phases == [("before", None), ("after", "ok")]
    after_line = [e.line for e in s.entries if e.kind == "audit"][1]
    finished_line = [
        e.line for e in s.entries if e.event is not None and e.event.kind == "tool_call_finished"
    ][0]
    assert after_line < finished_line


async def test_mutating_call_does_not_run_when_the_audit_cannot_be_written(
    sdir: Path, srv: ScriptedOpenAIServer
) -> None:
    def disk_full(fd: int) -> None:
        raise OSError(28, "No space left on device")

    rec = SessionRecorder.create(sdir, model="fake-model", fsync=lambda fd: None)
    rec._fsync = disk_full  # the disk fills up once the run has started
    calls: list[str] = []
    srv.push(reply(tool_calls=[tool_call("delete_pod", DEL_ARGS, id="del1")]))
    srv.push(reply("Could not delete."))
    loop = make_loop(srv.base_url, make_tools(lambda a: None, calls),
                     approver=ScriptedApprover("approve"), write_mode=True,
                     audit=rec.audit_hook)  # fmt: skip
    events = [e async for e in loop.run("delete it")]
    rec.close()
    assert calls == []
    finished = [e for e in events if e.kind == "tool_call_finished"]
    assert finished and "audit record could not be written" in finished[0].output


async def test_session_approval_is_not_restored_on_resume(
    sdir: Path, srv: ScriptedOpenAIServer
) -> None:
    """P11 / S5: "approve for this session" was active when the session was saved; after
    resume the same call asks again."""
    calls: list[str] = []
    approver = ScriptedApprover("approve_session")
    rec = SessionRecorder.create(sdir, model="fake-model", context="kind-dev")
    srv.push(reply(tool_calls=[tool_call("delete_pod", DEL_ARGS, id="d1")]))
    srv.push(reply(tool_calls=[tool_call("delete_pod", DEL_ARGS, id="d2")]))
    srv.push(reply("done twice"))
    loop = make_loop(srv.base_url, make_tools(lambda a: None, calls), approver=approver,
                     write_mode=True, context="kind-dev", audit=rec.audit_hook)  # fmt: skip
    rec.track_transcript(loop.conversation.messages)
    await run_recorded(loop, rec, "delete it, twice")
    rec.close()
    assert calls == ["delete_pod", "delete_pod"] and len(approver.requests) == 1
    saved = read_session(rec.path)
    assert any(a["scope"] == "session" for a in saved.approvals)

    resumed = resume_session(rec.path)
    assert resumed.session_approvals == frozenset()
    approver2 = ScriptedApprover("decline")
    srv.push(reply(tool_calls=[tool_call("delete_pod", DEL_ARGS, id="d3")]))
    srv.push(reply("not deleted"))
    loop2 = make_loop(srv.base_url, make_tools(lambda a: None, calls), approver=approver2,
                      write_mode=True, context="kind-dev", audit=resumed.recorder.audit_hook,
                      conversation=Conversation(resumed.messages))  # fmt: skip
    resumed.recorder.track_transcript(loop2.conversation.messages)
    await run_recorded(loop2, resumed.recorder, "delete it again")
    resumed.recorder.close()
    assert len(approver2.requests) == 1  # asked again
    assert calls == ["delete_pod", "delete_pod"]  # declined: not run
    assert srv.rejections == []
