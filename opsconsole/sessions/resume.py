"""Resume a saved session with a live model.

``resume_messages(session)`` rebuilds the OpenAI transcript and answers every tool call that
has no result with a synthetic ``{"status": "interrupted"}`` tool message (P6): the API would
refuse the transcript otherwise, and no tool is ever re-run. ``resume_session(path)`` also
reopens the file for appending (locked, torn tail cut) and records the repaired transcript.

Approvals: "approve for this session" decisions are recorded for the audit trail but never
restored; a resumed session asks again (P11/S5). :attr:`ResumedSession.session_approvals` is
always empty and exists so callers do not have to guess.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from opsconsole.agent.events import ToolCallFinished
from opsconsole.agent.transcript import outcome, split_state_note, status_message
from opsconsole.sessions.reader import Session
from opsconsole.sessions.recorder import SessionRecorder

if TYPE_CHECKING:
    from opsconsole.config import Settings

#: the same content the loop's Conversation uses for calls it answers as interrupted
INTERRUPTED_CONTENT = status_message("interrupted")


def interrupted_result(tool_call_id: str) -> dict[str, Any]:
    return {"role": "tool", "tool_call_id": tool_call_id, "content": INTERRUPTED_CONTENT}


def _call_ids(message: dict[str, Any]) -> list[str]:
    ids = []
    for call in message.get("tool_calls") or []:
        if isinstance(call, dict) and call.get("id"):
            ids.append(str(call["id"]))
    return ids


def repair_transcript(messages: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """A copy of ``messages`` where every assistant ``tool_calls`` message is followed by one
    tool message per call id (missing ones answered ``interrupted``). Unchanged messages are
    the same objects."""
    out: list[dict[str, Any]] = []
    i = 0
    n = len(messages)
    while i < n:
        msg = messages[i]
        out.append(msg)
        i += 1
        if msg.get("role") != "assistant":
            continue
        ids = _call_ids(msg)
        if not ids:
            continue
        answered: set[str] = set()
        while i < n and messages[i].get("role") == "tool":
            answered.add(str(messages[i].get("tool_call_id")))
            out.append(messages[i])
            i += 1
        out.extend(interrupted_result(cid) for cid in ids if cid not in answered)
    return out


def resume_results(session: Session) -> dict[str, dict[str, Any]]:
    """How each recorded call ended, for programs (what stays local of a conversation, see
    :mod:`opsconsole.agent.transcript`), from the session's ``tool_call_finished`` events:
    status, error code and data (the error's message is not kept)."""
    out: dict[str, dict[str, Any]] = {}
    for ev in session.events:
        if isinstance(ev, ToolCallFinished):
            error = (ev.error_code, "") if ev.error_code else None
            out[ev.tool_call_id] = outcome(ev.status, error=error, data=ev.data)
    return out


def resume_messages(session: Session, *, thread: str = "main") -> list[dict[str, Any]]:
    """The transcript to continue from, with pending tool calls answered as interrupted."""
    return repair_transcript(list(session.threads.get(thread, [])))


@dataclass
class ResumedSession:
    recorder: SessionRecorder
    session: Session
    messages: list[dict[str, Any]]
    #: always empty: session-wide approvals are never restored (P11)
    session_approvals: frozenset[str] = field(default_factory=frozenset)
    #: tool_call_ids that were answered as interrupted on resume
    interrupted: list[str] = field(default_factory=list)
    #: how the recorded calls ended (:func:`resume_results`), for ``Conversation(results=)``
    results: dict[str, dict[str, Any]] = field(default_factory=dict)


def resume_session(
    path: Path | str,
    *,
    api_key: str | None = None,
    settings: Settings | None = None,
    fsync: Callable[[int], None] = os.fsync,
) -> ResumedSession:
    """Reopen ``path`` for writing (SessionLocked if another process has it) and return the
    repaired transcript; the synthetic results are recorded before this returns. The API key
    to keep out of the file is ``api_key`` or, if not given, ``settings.model.api_key()``.

    Continue it with a live model::

        resumed = resume_session(path, settings=settings)
        loop = AgentLoop(..., conversation=Conversation(resumed.messages,
                                                        results=resumed.results),
                         audit=resumed.recorder.audit_hook)
        resumed.recorder.track_transcript(loop.conversation.messages)
    """
    if api_key is None and settings is not None:
        api_key = settings.model.api_key()
    recorder = SessionRecorder.open_existing(path, api_key=api_key, fsync=fsync)
    assert recorder.session is not None
    session = recorder.session
    before = {id(m) for m in session.messages}
    messages = resume_messages(session)
    interrupted = [str(m["tool_call_id"]) for m in messages if id(m) not in before]
    try:
        recorder.sync_messages(messages)
        recorder.track_transcript(messages)
    except BaseException:
        recorder.close()
        raise
    return ResumedSession(
        recorder=recorder,
        session=session,
        messages=messages,
        interrupted=interrupted,
        results=resume_results(session),
    )


def resume_from_settings(name: str, settings: Settings) -> ResumedSession:
    """``--resume NAME`` (a path, a session id or prefix, or ``last``) for the console and
    ``ask``: resolve it in the sessions directory and reopen it for writing."""
    from opsconsole.sessions.cli import resolve_session_path, sessions_directory

    return resume_session(
        resolve_session_path(name, sessions_directory(settings)), settings=settings
    )


def conversation_pairs(messages: list[dict[str, Any]]) -> list[tuple[str, str]]:
    """(question, final answer) pairs of a transcript, to show a resumed chat."""
    pairs: list[tuple[str, str]] = []
    question: str | None = None
    answer = ""
    for m in messages:
        role = m.get("role")
        if role == "user":
            if question is not None:
                pairs.append((question, answer))
            question, answer = split_state_note(str(m.get("content") or ""))[1], ""
        elif role == "assistant" and not m.get("tool_calls") and m.get("content"):
            answer = str(m["content"])
    if question is not None:
        pairs.append((question, answer))
    return pairs
