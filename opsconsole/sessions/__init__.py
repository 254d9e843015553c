"""Sessions (headless): crash-safe JSONL recording, a tolerant reader, replay, list, resume and
export. See ``format.py`` for the file format. Nothing here imports textual, rich, openai or
kubernetes.

Public API::

    SessionRecorder       recorder.py  create / from_settings / open_existing, record(event),
                                       sync_messages(messages), record_approval, audit,
                                       audit_hook, snapshot_pods, snapshot_logs, close
    read_session          reader.py    -> Session (header, entries, events, threads/messages,
                                       approvals, audits, snapshots, warnings)
    resume_session        resume.py    -> ResumedSession (recorder, messages); resume_messages
    ReplayCursor          replay.py    steps, runs, forward/back/seek, entries_until
    list_sessions         index.py     -> [SessionSummary] newest first
    to_markdown           export.py
"""

from __future__ import annotations

from opsconsole.sessions.format import (
    FORMAT_VERSION,
    SessionCorrupt,
    SessionFormatError,
    SessionNotFound,
)
from opsconsole.sessions.reader import Entry, Session, read_session
from opsconsole.sessions.recorder import SessionRecorder, resolve_sessions_dir
from opsconsole.sessions.replay import ReplayCursor, Step, build_steps, render_text
from opsconsole.sessions.resume import ResumedSession, resume_messages, resume_session

__all__ = [
    "FORMAT_VERSION",
    "Entry",
    "ReplayCursor",
    "ResumedSession",
    "Session",
    "SessionCorrupt",
    "SessionFormatError",
    "SessionNotFound",
    "SessionRecorder",
    "Step",
    "build_steps",
    "read_session",
    "render_text",
    "resolve_sessions_dir",
    "resume_messages",
    "resume_session",
]
