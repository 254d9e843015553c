"""The tolerant session reader.

``read_session(path)`` returns a :class:`Session`. What it tolerates and what it refuses:

- a torn last line (the writer was killed mid-append) is dropped with a warning (P1);
- a damaged newline-terminated line in the middle (bad JSON, NUL bytes, invalid UTF-8) raises
  :class:`SessionCorrupt` with its line number, unless ``allow_partial=True``: then the session
  up to the line before is returned, marked ``read_only``, with a warning (P3);
- an unknown (newer) format version, or a file that is not a session, raises
  :class:`SessionFormatError`;
- unknown record or event types (from a newer writer) are skipped with a warning.

Fast: the whole file is read at once and each line goes through ``json.loads`` with the
garbage collector paused (a 10,000-event session opens in well under 0.5 s).
"""

from __future__ import annotations

import dataclasses
import gc
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from opsconsole.agent.events import EVENT_TYPES, AgentEvent
from opsconsole.sessions.format import (
    FORMAT_VERSION,
    RECORD_TYPES,
    SessionCorrupt,
    SessionFormatError,
    SessionNotFound,
)

_EVENT_FIELDS: dict[str, tuple[type[AgentEvent], frozenset[str]]] = {
    kind: (cls, frozenset(f.name for f in dataclasses.fields(cls)))
    for kind, cls in EVENT_TYPES.items()
}


@dataclass(slots=True)
class Entry:
    """One replayable record, in file order: an agent event, or an approval / audit /
    snapshot / resumed record (``data``)."""

    kind: str  # "event" | "approval" | "audit" | "snapshot" | "resumed"
    ts: float
    line: int
    event: AgentEvent | None = None
    data: dict[str, Any] | None = None


@dataclass
class Session:
    path: Path
    header: dict[str, Any]
    entries: list[Entry] = field(default_factory=list)
    events: list[AgentEvent] = field(default_factory=list)
    #: the OpenAI transcript of each thread ("main" is the conversation), rewinds applied
    threads: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    approvals: list[dict[str, Any]] = field(default_factory=list)
    audits: list[dict[str, Any]] = field(default_factory=list)
    snapshots: list[dict[str, Any]] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    #: set when the file is damaged and was opened up to the line before (allow_partial)
    corrupt_line: int | None = None
    read_only: bool = False
    lines: int = 0

    @property
    def messages(self) -> list[dict[str, Any]]:
        return self.threads.get("main", [])

    @property
    def session_id(self) -> str:
        return str(self.header.get("session_id", ""))

    @property
    def model(self) -> str:
        return str(self.header.get("model", ""))

    @property
    def context(self) -> str | None:
        return self.header.get("context")

    @property
    def started(self) -> str:
        return str(self.header.get("started", ""))


def _event(data: Any) -> AgentEvent:
    if not isinstance(data, dict):
        raise ValueError("event record without an event object")
    spec = _EVENT_FIELDS.get(str(data.get("type")))
    if spec is None:
        raise KeyError(str(data.get("type")))
    cls, names = spec
    return cls(**{k: v for k, v in data.items() if k in names})


def _check_header(path: Path, header: Any) -> dict[str, Any]:
    if not isinstance(header, dict) or header.get("type") != "header":
        raise SessionFormatError(f"{path.name} is not an opsconsole session (no session header)")
    fmt = header.get("format")
    if not isinstance(fmt, int) or isinstance(fmt, bool) or fmt < 1:
        raise SessionFormatError(f"{path.name}: invalid session format {fmt!r}")
    if fmt > FORMAT_VERSION:
        raise SessionFormatError(
            f"{path.name} uses session format {fmt}, written by opsconsole "
            f"{header.get('app_version', '?')}; this opsconsole reads format {FORMAT_VERSION}",
            hint="upgrade opsconsole to open it",
        )
    return header


def read_session(path: Path | str, *, allow_partial: bool = False) -> Session:
    """Load a session file (see the module docstring for what is tolerated)."""
    path = Path(path)
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise SessionNotFound(f"session file not found: {path}") from None
    except IsADirectoryError:
        raise SessionFormatError(f"{path} is a directory, not a session file") from None
    except OSError as exc:
        raise SessionFormatError(f"cannot read {path}: {exc.strerror}") from None
    gc_was_enabled = gc.isenabled()
    gc.disable()
    try:
        return _parse(path, raw, allow_partial)
    finally:
        if gc_was_enabled:
            gc.enable()


def _parse(path: Path, raw: bytes, allow_partial: bool) -> Session:
    import json

    lines = raw.split(b"\n")
    tail = lines.pop()  # b"" when the file ends with a newline
    warnings: list[str] = []
    if tail:
        what = "NUL bytes" if tail.strip(b"\x00") == b"" else f"{len(tail)} bytes"
        warnings.append(
            f"the last line (line {len(lines) + 1}, {what}) was incomplete: the session was "
            "interrupted while writing; it was dropped"
        )
    if not lines:
        raise SessionFormatError(f"{path.name} is empty: its header was never completely written")
    loads = json.loads
    try:
        header = loads(lines[0])
    except ValueError:
        raise SessionFormatError(
            f"{path.name} is not an opsconsole session (line 1 is not a session header)"
        ) from None
    session = Session(path=path, header=_check_header(path, header), warnings=warnings)
    entries = session.entries
    events = session.events
    threads = session.threads
    skipped_types: dict[str, int] = {}
    bad_events = 0
    lineno = 1
    for lineno in range(2, len(lines) + 1):
        line = lines[lineno - 1]
        try:
            rec = loads(line)
            rtype = rec["type"]
            if not isinstance(rtype, str):
                raise TypeError
        except (ValueError, TypeError, KeyError):
            if not line.strip():
                warnings.append(f"line {lineno} is blank; skipped")
                continue
            reason = "a line of NUL bytes" if not line.strip(b"\x00") else "not a valid JSON record"
            if not allow_partial:
                raise SessionCorrupt(path, lineno, reason) from None
            session.corrupt_line = lineno
            session.read_only = True
            warnings.append(
                f"line {lineno} is damaged ({reason}); showing the session up to line "
                f"{lineno - 1}, read-only"
            )
            break
        ts = rec.get("ts")
        if not isinstance(ts, int | float) or isinstance(ts, bool):
            ts = 0.0
        if rtype == "event":
            try:
                ev = _event(rec.get("event"))
            except KeyError as exc:
                skipped_types[f"event {exc.args[0]}"] = (
                    skipped_types.get(f"event {exc.args[0]}", 0) + 1
                )
                continue
            except (TypeError, ValueError):
                bad_events += 1
                continue
            events.append(ev)
            ets = ev.ts if isinstance(ev.ts, int | float) and not isinstance(ev.ts, bool) else ts
            entries.append(Entry("event", float(ets), lineno, ev, None))
        elif rtype == "message":
            thread = str(rec.get("thread") or "main")
            msgs = threads.setdefault(thread, [])
            index = rec.get("index")
            if isinstance(index, int) and 0 <= index < len(msgs):
                del msgs[index:]
            msg = rec.get("message")
            if isinstance(msg, dict):
                msgs.append(msg)
        elif rtype == "rewind":
            msgs = threads.setdefault(str(rec.get("thread") or "main"), [])
            count = rec.get("count")
            if isinstance(count, int) and count >= 0:
                del msgs[count:]
        elif rtype in ("approval", "audit", "snapshot", "resumed"):
            if rtype == "approval":
                session.approvals.append(rec)
            elif rtype == "audit":
                session.audits.append(rec)
            elif rtype == "snapshot":
                session.snapshots.append(rec)
            entries.append(Entry(rtype, ts, lineno, None, rec))
        elif rtype == "header":
            warnings.append(f"line {lineno}: a second header; ignored")
        elif rtype not in RECORD_TYPES:
            skipped_types[rtype] = skipped_types.get(rtype, 0) + 1
    session.lines = lineno if session.corrupt_line is None else session.corrupt_line - 1
    for name, count in skipped_types.items():
        warnings.append(f"skipped {count} record(s) of unknown type {name!r} (newer opsconsole?)")
    if bad_events:
        warnings.append(f"skipped {bad_events} unreadable event record(s)")
    return session


def read_header(path: Path | str) -> dict[str, Any]:
    """Only the header (first line), validated; cheap."""
    import json

    path = Path(path)
    try:
        with open(path, "rb") as fh:
            first = fh.readline()
    except FileNotFoundError:
        raise SessionNotFound(f"session file not found: {path}") from None
    except OSError as exc:
        raise SessionFormatError(f"cannot read {path}: {exc.strerror}") from None
    if not first.endswith(b"\n"):
        raise SessionFormatError(f"{path.name} is empty: its header was never completely written")
    try:
        header = json.loads(first)
    except ValueError:
        raise SessionFormatError(
            f"{path.name} is not an opsconsole session (line 1 is not a session header)"
        ) from None
    return _check_header(path, header)
