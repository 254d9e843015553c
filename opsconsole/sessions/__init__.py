"""Sessions (headless): crash-safe JSONL recording, a tolerant reader, replay, list, resume and
export. See ``format.py`` for the file format. Nothing here imports textual, rich, openai or
kubernetes.

Public API::

    SessionRecorder       recorder.py  create / from_settings / open_existing, record(event),
                                       sync_messages(messages), audit,
                                       audit_hook, snapshot_pods, snapshot_logs, close
    read_session          reader.py    -> Session (header, entries, events, threads/messages,
                                       approvals, audits, snapshots, warnings)
    resume_session        resume.py    -> ResumedSession (recorder, messages); resume_messages
    ReplayCursor          replay.py    steps, runs, forward/back/seek, entries_until
    list_sessions         index.py     -> [SessionSummary] newest first
    to_markdown           export.py    also export_markdown(session_path, output)
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

# Lazy (PEP 562): `opsconsole replay --print` loads the reader and replay modules only.
_EXPORTS = {
    "FORMAT_VERSION": "format",
    "SessionCorrupt": "format",
    "SessionFormatError": "format",
    "SessionNotFound": "format",
    "Entry": "reader",
    "Session": "reader",
    "read_session": "reader",
    "SessionRecorder": "recorder",
    "resolve_sessions_dir": "recorder",
    "ReplayCursor": "replay",
    "Step": "replay",
    "build_steps": "replay",
    "render_text": "replay",
    "ResumedSession": "resume",
    "resume_messages": "resume",
    "resume_session": "resume",
    "SessionSummary": "index",
    "list_sessions": "index",
    "to_markdown": "export",
    "export_markdown": "export",
}

if TYPE_CHECKING:
    from opsconsole.sessions.export import export_markdown, to_markdown
    from opsconsole.sessions.format import (
        FORMAT_VERSION,
        SessionCorrupt,
        SessionFormatError,
        SessionNotFound,
    )
    from opsconsole.sessions.index import SessionSummary, list_sessions
    from opsconsole.sessions.reader import Entry, Session, read_session
    from opsconsole.sessions.recorder import SessionRecorder, resolve_sessions_dir
    from opsconsole.sessions.replay import ReplayCursor, Step, build_steps, render_text
    from opsconsole.sessions.resume import ResumedSession, resume_messages, resume_session


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'opsconsole.sessions' has no attribute {name!r}")
    value = getattr(importlib.import_module(f"opsconsole.sessions.{module}"), name)
    globals()[name] = value
    return value


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
    "SessionSummary",
    "Step",
    "build_steps",
    "export_markdown",
    "list_sessions",
    "read_session",
    "render_text",
    "resolve_sessions_dir",
    "resume_messages",
    "resume_session",
    "to_markdown",
]
