"""The session list: one summary per file, newest first, cached in a small atomic index.

``list_sessions(directory)`` scans ``*.jsonl``; a file whose size and mtime match the cached
entry in ``<directory>/.index.json`` is not re-read, so listing hundreds of sessions costs a
``stat`` each. The index is only a cache: it is rewritten atomically (temp + fsync +
``os.replace``, P5), a damaged or missing index is rebuilt, and a read-only directory just
means no caching.
"""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from opsconsole.agent.events import (
    Answer,
    RunCancelled,
    RunFailed,
    RunFinished,
    RunStarted,
    StepStarted,
    UsageReported,
)
from opsconsole.agent.transcript import split_state_note
from opsconsole.errors import SessionError
from opsconsole.sessions.atomic import atomic_write_text
from opsconsole.sessions.format import SUFFIX
from opsconsole.sessions.reader import Session, read_session

INDEX_NAME = ".index.json"
INDEX_VERSION = 1


@dataclass
class SessionSummary:
    file: str
    session_id: str = ""
    started: str = ""
    question: str = ""
    model: str = ""
    context: str | None = None
    runs: int = 0
    steps: int = 0
    tokens: int = 0
    outcome: str = "empty"  # answered | failed | cancelled | interrupted | running | empty |
    #                         damaged | unreadable
    problem: str = ""
    #: full path of the file (set at listing time, not cached)
    path: str = ""


def summarize(session: Session) -> SessionSummary:
    """Question, steps, tokens and outcome of a loaded session."""
    top: list[str] = []
    parents: dict[str, str | None] = {}
    question = ""
    steps = 0
    usage: dict[str, int] = {}
    finished: dict[str, int] = {}
    outcome: dict[str, str] = {}
    answered: set[str] = set()
    for ev in session.events:
        if isinstance(ev, RunStarted):
            parents[ev.run_id] = ev.parent_run_id
            if not ev.parent_run_id:
                top.append(ev.run_id)
                question = question or ev.task
                outcome[ev.run_id] = "interrupted"
        elif isinstance(ev, StepStarted):
            steps += 1
        elif isinstance(ev, UsageReported):
            usage[ev.run_id] = ev.total_prompt_tokens + ev.total_completion_tokens
        elif isinstance(ev, Answer):
            answered.add(ev.run_id)
        elif isinstance(ev, RunFinished):
            finished[ev.run_id] = ev.prompt_tokens + ev.completion_tokens
            if ev.run_id in outcome:
                outcome[ev.run_id] = "answered" if ev.run_id in answered else "finished"
        elif isinstance(ev, RunFailed):
            if ev.run_id in outcome:
                outcome[ev.run_id] = "failed"
        elif isinstance(ev, RunCancelled):
            if ev.run_id in outcome:
                outcome[ev.run_id] = "cancelled"
    if not question:  # no recorded run (e.g. a transcript only): its first user message
        first = next((m for m in session.messages if m.get("role") == "user"), None)
        content = first.get("content") if first else None
        question = split_state_note(content)[1] if isinstance(content, str) else ""
    tokens = sum(max(usage.get(r, 0), finished.get(r, 0)) for r in top)
    if not tokens:
        tokens = sum(max(usage.get(r, 0), finished.get(r, 0)) for r in parents)
    return SessionSummary(
        file=session.path.name,
        session_id=session.session_id,
        started=session.started,
        question=question,
        model=session.model,
        context=session.context,
        runs=len(top),
        steps=steps,
        tokens=tokens,
        outcome=("damaged" if session.corrupt_line else outcome[top[-1]])
        if top
        else ("damaged" if session.corrupt_line else "empty"),
        problem=f"damaged at line {session.corrupt_line}" if session.corrupt_line else "",
    )


def summarize_file(path: Path) -> SessionSummary:
    try:
        return summarize(read_session(path, allow_partial=True))
    except SessionError as exc:
        return SessionSummary(file=path.name, outcome="unreadable", problem=exc.message)


def is_being_written(path: Path) -> bool:
    """True if another opsconsole holds the writer's lock on ``path`` right now."""
    import fcntl

    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return False
    try:
        fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
    except BlockingIOError:
        return True
    except OSError:
        return False
    finally:
        os.close(fd)  # closing releases a lock we may have taken
    return False


def _remove_stale_temps(directory: Path, age: float = 3600.0) -> None:
    """Temp files of index rewrites that a crash left behind (see atomic.py)."""
    import time

    prefix = f".{INDEX_NAME}."
    try:
        for entry in os.scandir(directory):
            if entry.name.startswith(prefix) and entry.name.endswith(".tmp"):
                try:
                    if time.time() - entry.stat().st_mtime > age:
                        os.unlink(entry.path)
                except OSError:
                    pass
    except OSError:
        pass


def _load_index(path: Path) -> dict[str, Any]:
    try:
        data = json.loads(path.read_bytes())
    except (OSError, ValueError):
        return {}
    if not isinstance(data, dict) or data.get("version") != INDEX_VERSION:
        return {}
    entries = data.get("entries")
    return entries if isinstance(entries, dict) else {}


def list_sessions(
    directory: Path | str, *, limit: int | None = None, use_index: bool = True
) -> list[SessionSummary]:
    """Summaries of the sessions in ``directory``, newest first."""
    directory = Path(directory)
    try:
        names = sorted(
            (e.name, e.stat())
            for e in os.scandir(directory)
            if e.name.endswith(SUFFIX) and e.is_file()
        )
    except FileNotFoundError:
        return []
    except OSError as exc:
        raise SessionError(f"cannot list sessions in {directory}: {exc.strerror}") from None
    names.reverse()  # file names start with the UTC start time
    _remove_stale_temps(directory)
    index_path = directory / INDEX_NAME
    cached = _load_index(index_path) if use_index else {}
    fresh: dict[str, Any] = {}
    out: list[SessionSummary] = []
    changed = False
    for name, st in names:
        key = [st.st_size, st.st_mtime_ns]
        hit = cached.get(name)
        summary: SessionSummary | None = None
        if isinstance(hit, dict) and hit.get("key") == key and isinstance(hit.get("s"), dict):
            try:
                summary = SessionSummary(**hit["s"])
            except TypeError:
                summary = None
        if summary is None:
            summary = summarize_file(directory / name)
            changed = True
        summary.path = str(directory / name)
        fresh[name] = {"key": key, "s": {**asdict(summary), "path": ""}}
        if summary.outcome == "interrupted" and is_being_written(directory / name):
            summary = SessionSummary(**{**asdict(summary), "outcome": "running"})
        out.append(summary)
    if use_index and (changed or set(cached) != set(fresh)):
        try:
            atomic_write_text(
                index_path,
                json.dumps({"version": INDEX_VERSION, "entries": fresh}, ensure_ascii=False),
            )
        except OSError:
            pass  # a cache: listing still works without it
    return out[:limit] if limit else out
