"""The session recorder: one writer per file, every record appended, flushed and fsynced.

Usage (the console bridge and ``opsconsole ask``)::

    rec = SessionRecorder.from_settings(settings, model=client.label, offline=client.offline,
                                        context=ctx, sandbox=demo, language=lang)
    async for event in loop.run(...):
        rec.record(event)              # every AgentEvent
        rec.sync_messages(messages)    # the OpenAI transcript: appends what is new
    rec.close()

Before a mutating tool runs, the loop's audit hook calls :meth:`SessionRecorder.audit_hook`
(or :meth:`audit`): it writes what is new in the transcript (the assistant message with the
tool call), the approval and an audit record, then fsyncs, so all three are on disk before the
call executes (RELIABILITY P7, S16).

Guarantees: the file is created 0600 in a 0700 directory (S15); an exclusive ``flock`` on the
file refuses a second writer with :class:`SessionLocked` (P9) (readers need no lock); reopening
a file for append first truncates a torn last line (P2); every record is redacted and the
literal API key, if given, is scrubbed from the bytes (S8, S14). Streaming deltas (text,
reasoning, answer) are coalesced into one record per burst; every record is fsynced.
"""

from __future__ import annotations

import fcntl
import json
import os
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import asdict, is_dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from opsconsole import __version__
from opsconsole.agent.events import AgentEvent
from opsconsole.errors import SessionError
from opsconsole.sessions.files import _lock, _truncate_torn_tail, resolve_sessions_dir
from opsconsole.sessions.format import (
    FORMAT_VERSION,
    Scrubber,
    SessionFormatError,
    SessionNotFound,
    iso8601,
    new_session_id,
    session_filename,
)

if TYPE_CHECKING:
    from opsconsole.config import Settings
    from opsconsole.sessions.reader import Session

DELTA_KINDS = frozenset({"text_delta", "reasoning_delta"})
#: a coalesced delta record is cut when it holds this much text or spans this many seconds
DELTA_MAX_CHARS = 4096
DELTA_MAX_SPAN = 0.5
#: bounds on snapshot sizes (a snapshot is UI state for replay, not an archive)
SNAPSHOT_MAX_PODS = 5000
SNAPSHOT_MAX_LOG_LINES = 2000


class SessionRecorder:
    """Appends records to one session file. Thread-safe; create with :meth:`create`,
    :meth:`open_existing` (resume) or :meth:`from_settings`."""

    def __init__(
        self,
        path: Path,
        fd: int,
        header: dict[str, Any],
        *,
        scrubber: Scrubber,
        fsync: Callable[[int], None],
        size: int,
    ) -> None:
        self.path = path
        self.header = header
        self.session_id: str = header.get("session_id", "")
        #: the Session as read when the file was reopened for resume (else None)
        self.session: Session | None = None
        self._fd: int | None = fd
        self._scrub = scrubber
        self._fsync = fsync
        self._size = size
        self._lock = threading.RLock()
        self._written: dict[str, list[Any]] = {}
        self._transcripts: dict[str, list[dict[str, Any]]] = {}
        self._pending: dict[str, Any] | None = None
        self._pending_key: tuple[Any, ...] | None = None
        self._deferred: list[AgentEvent] = []
        self._broken: str | None = None
        self._approved: set[str] = set()
        self._last_new = 0

    # --- opening --------------------------------------------------------------------------

    @classmethod
    def create(
        cls,
        directory: Path | str,
        *,
        model: str,
        offline: bool = False,
        context: str | None = None,
        sandbox: bool = False,
        language: str = "auto",
        api_key: str | None = None,
        extra_secrets: Iterable[str] = (),
        fsync: Callable[[int], None] = os.fsync,
    ) -> SessionRecorder:
        """Create a new session file in ``directory`` (made 0700) and write its header."""
        from opsconsole.paths import ensure_private_dir

        try:
            directory = ensure_private_dir(Path(directory).expanduser())
        except OSError as exc:
            raise SessionError(
                f"cannot create the sessions directory {directory}: {exc.strerror or exc}",
                hint="set sessions.dir in the config, or sessions.record: false",
            ) from None
        started = time.time()
        for _ in range(20):
            session_id = new_session_id()
            path = directory / session_filename(started, session_id)
            try:
                fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_APPEND, 0o600)
                break
            except FileExistsError:
                continue
            except OSError as exc:
                raise SessionError(
                    f"cannot create a session file in {directory}: {exc.strerror}"
                ) from None
        else:  # pragma: no cover - 20 random 32-bit ids colliding
            raise SessionError(f"cannot create a unique session file in {directory}")
        os.fchmod(fd, 0o600)
        _lock(fd, path)
        header = {
            "type": "header",
            "format": FORMAT_VERSION,
            "app_version": __version__,
            "session_id": session_id,
            "model": model,
            "offline": bool(offline),
            "context": context,
            "sandbox": bool(sandbox),
            "started": iso8601(started),
            "language": language,
            "ts": started,
        }
        rec = cls(
            path,
            fd,
            header,
            scrubber=Scrubber([api_key, *extra_secrets]),
            fsync=fsync,
            size=0,
        )
        rec._write(header)
        return rec

    @classmethod
    def from_settings(
        cls,
        settings: Settings,
        *,
        model: str | None = None,
        offline: bool = False,
        context: str | None = None,
        sandbox: bool = False,
        language: str | None = None,
        fsync: Callable[[int], None] = os.fsync,
    ) -> SessionRecorder | None:
        """A recorder for a new session, or None when ``sessions.record`` is off."""
        if not settings.sessions.record:
            return None
        return cls.create(
            resolve_sessions_dir(settings),
            model=model or settings.model.name,
            offline=offline,
            context=context if context is not None else settings.kubernetes.context,
            sandbox=sandbox,
            language=language or settings.agent.language,
            api_key=settings.model.api_key(),
            fsync=fsync,
        )

    @classmethod
    def open_existing(
        cls,
        path: Path | str,
        *,
        api_key: str | None = None,
        extra_secrets: Iterable[str] = (),
        fsync: Callable[[int], None] = os.fsync,
    ) -> SessionRecorder:
        """Reopen a session for appending (resume): lock it, cut a torn last line (P2), read it
        (a damaged file is refused with :class:`SessionCorrupt`) and add a ``resumed`` record.
        The loaded session is in :attr:`session`."""
        from opsconsole.sessions.reader import read_header, read_session

        path = Path(path)
        if path.is_symlink():  # appending through a link would write (and widen) its target
            raise SessionError(
                f"refused to resume {path}: it is a symbolic link; resume the session file itself"
            )
        read_header(path)  # never cut the tail of a file that is not a session we can read
        try:
            fd = os.open(path, os.O_RDWR | os.O_APPEND | getattr(os, "O_NOFOLLOW", 0))
        except FileNotFoundError:
            raise SessionNotFound(f"session file not found: {path}") from None
        except OSError as exc:
            raise SessionError(f"cannot open session {path}: {exc.strerror}") from None
        try:
            os.fchmod(fd, 0o600)  # a session file is private, whatever it was left as (S15)
            _lock(fd, path)
            size = _truncate_torn_tail(fd)
            if size:
                fsync(fd)
            session = read_session(path)
        except BaseException:
            os.close(fd)
            raise
        rec = cls(
            path,
            fd,
            dict(session.header),
            scrubber=Scrubber([api_key, *extra_secrets]),
            fsync=fsync,
            size=size,
        )
        rec.session = session
        for thread, messages in session.threads.items():
            rec._written[thread] = list(messages)
        rec._write({"type": "resumed", "app_version": __version__, "at": iso8601(time.time())})
        return rec

    # --- writing --------------------------------------------------------------------------

    @property
    def closed(self) -> bool:
        return self._fd is None

    def _encode(self, record: dict[str, Any]) -> bytes:
        clean = self._scrub.obj(record)
        try:
            text = json.dumps(clean, ensure_ascii=False, separators=(",", ":"), default=str)
            data = text.encode("utf-8")
        except UnicodeEncodeError:  # lone surrogates: keep them as \\u escapes
            data = json.dumps(clean, separators=(",", ":"), default=str).encode("ascii")
        return self._scrub.final_bytes(data) + b"\n"

    def _write_lines(self, lines: list[bytes], *, sync: bool = True) -> None:
        with self._lock:
            if self._broken:
                raise SessionError(f"session recording stopped: {self._broken}")
            if self._fd is None:
                raise SessionError(f"session {self.path.name} is closed")
            data = b"".join(lines)
            try:
                view = memoryview(data)
                while view:
                    view = view[os.write(self._fd, view) :]
                if sync:
                    self._fsync(self._fd)
            except OSError as exc:
                self._broken = f"cannot write {self.path}: {exc.strerror or exc}"
                try:  # never leave a torn record for the next append to glue onto
                    os.ftruncate(self._fd, self._size)
                except OSError:
                    pass
                raise SessionError(self._broken) from None
            self._size += len(data)

    def _write(self, record: dict[str, Any], *, sync: bool = True) -> None:
        record.setdefault("ts", time.time())
        with self._lock:
            lines = self._take_pending()
            lines.append(self._encode(record))
            self._write_lines(lines, sync=sync)

    def _take_pending(self) -> list[bytes]:
        """The records held in memory, in order: deferred events, then coalesced deltas
        (every write takes them first, so the file keeps the order of the calls)."""
        return self._deferred_lines() + self._pending_delta()

    def _deferred_lines(self) -> list[bytes]:
        lines: list[bytes] = []
        while self._deferred:
            deferred, self._deferred = self._deferred, []
            for event in deferred:
                lines += self._event_lines(event)
        return lines

    def _pending_delta(self) -> list[bytes]:
        if self._pending is None:
            return []
        pending, self._pending, self._pending_key = self._pending, None, None
        return [self._encode({"type": "event", "ts": pending["ts"], "event": pending})]

    def record(self, event: AgentEvent, *, defer: bool = False) -> None:
        """Append one agent event (deltas are coalesced per burst).

        ``defer``: hold it in memory (in order) until the next write or :meth:`flush`: the
        console records this way so that redacting a long answer runs after the frame that
        shows it, not before (a 5 MB answer takes about a second to redact)."""
        with self._lock:
            if defer:
                self._deferred.append(event)
                return
            lines = self._deferred_lines() + self._event_lines(event)
            if lines:
                self._write_lines(lines)

    def _event_lines(self, event: AgentEvent) -> list[bytes]:
        """The records for ``event`` (none while a delta is coalesced into the pending one)."""
        data = event.to_dict()
        if data.get("type") in DELTA_KINDS:
            key = (data["type"], data.get("run_id"), data.get("agent"), data.get("step"))
            p = self._pending
            if (
                p is not None
                and self._pending_key == key
                and len(p["text"]) < DELTA_MAX_CHARS
                and data["ts"] - p["ts"] < DELTA_MAX_SPAN
            ):
                p["text"] += data.get("text", "")
                return []
            lines = self._pending_delta()
            self._pending, self._pending_key = data, key
            return lines
        if data.get("type") == "approval_resolved":
            self._approved.add(str(data.get("tool_call_id")))
        lines = self._pending_delta()
        lines += self._tracked_lines()
        lines.append(self._encode({"type": "event", "ts": data.get("ts"), "event": data}))
        return lines

    def drain(self) -> None:
        """Write the deferred events (a coalesced delta stays pending, as with record)."""
        with self._lock:
            lines = self._deferred_lines()
            if lines:
                self._write_lines(lines)

    def flush(self) -> None:
        """Write what is held in memory (deferred events, coalesced deltas)."""
        with self._lock:
            lines = self._take_pending()
            if lines:
                self._write_lines(lines)

    def track_transcript(self, messages: list[dict[str, Any]], *, thread: str = "main") -> None:
        """Follow a live transcript list (e.g. ``loop.conversation.messages``): what is new in
        it is written before every later record, and by :meth:`audit_hook` before a mutating
        call runs. Call again when the conversation is replaced (a new list)."""
        with self._lock:
            self._transcripts[thread] = messages
            lines = self._take_pending()
            lines += self._transcript_lines(thread, messages)
            if lines:
                self._write_lines(lines)

    def _transcript_lines(self, thread: str, messages: list[dict[str, Any]]) -> list[bytes]:
        written = self._written.setdefault(thread, [])
        same = 0
        limit = min(len(written), len(messages))
        while same < limit:
            old, new = written[same], messages[same]
            if old is not new:
                if old != new:
                    break
                written[same] = new  # an equal copy (e.g. Conversation(messages)): adopt it
            same += 1
        self._last_new = len(messages) - same
        if same == len(written) == len(messages):
            return []
        lines: list[bytes] = []
        now = time.time()
        if same < len(written):
            lines.append(
                self._encode({"type": "rewind", "ts": now, "thread": thread, "count": same})
            )
            del written[same:]
        for index in range(same, len(messages)):
            msg = messages[index]
            rec = {"type": "message", "ts": now, "thread": thread, "index": index, "message": msg}
            lines.append(self._encode(rec))
            written.append(msg)
        return lines

    def _tracked_lines(self) -> list[bytes]:
        lines: list[bytes] = []
        for thread, messages in self._transcripts.items():
            lines += self._transcript_lines(thread, messages)
        return lines

    def sync_messages(self, messages: list[dict[str, Any]], *, thread: str = "main") -> int:
        """Append the transcript messages not yet written; return how many records.

        Messages are compared by identity, then equality: if an already written message was
        replaced by a different one (compaction, repair), a ``rewind`` record cuts the recorded
        transcript back to the first difference and the rest is written again. The list is
        then tracked like :meth:`track_transcript`."""
        with self._lock:
            self._transcripts[thread] = messages  # keep following it (see track_transcript)
            lines = self._take_pending()
            mine = self._transcript_lines(thread, messages)
            lines += mine
            if lines:
                self._write_lines(lines)
            return self._last_new

    def _approval(
        self,
        tool_call_id: str,
        tool: str,
        decision: str,
        arguments: Mapping[str, Any] | None,
        source: str,
        context: str | None,
        run_id: str | None,
    ) -> dict[str, Any]:
        self._approved.add(tool_call_id)
        return {
            "type": "approval",
            "ts": time.time(),
            "run_id": run_id,
            "tool_call_id": tool_call_id,
            "tool": tool,
            "arguments": dict(arguments or {}),
            "decision": decision,
            "scope": "session" if decision == "approve_session" else "once",
            "source": source,
            "context": context,
        }

    def on_request(self, messages: list[dict[str, Any]], tools: list[dict[str, Any]]) -> None:
        """The loop's ``on_request`` hook: notes each model request (message count and the
        offered tool names; the messages themselves are the transcript records)."""
        names = [str((t.get("function") or {}).get("name", "")) for t in tools or []]
        self._write({"type": "request", "messages": len(messages), "tools": names})

    def audit(
        self,
        phase: str,
        *,
        tool_call_id: str,
        tool: str,
        arguments: Mapping[str, Any] | None = None,
        context: str | None = None,
        approval_source: str | None = None,
        decision: str | None = None,
        status: str | None = None,
        output: str | None = None,
        run_id: str | None = None,
        agent: str | None = None,
    ) -> None:
        """An audit record of a mutating call (S16), fsynced before this returns.

        ``phase="before"``: right before it executes (args, context, approval source); the
        tracked transcripts (so the assistant message asking for the call) and an ``approval``
        record are written in the same fsynced write (P7). ``phase="after"``: its outcome,
        before the result is shown."""
        record: dict[str, Any] = {
            "type": "audit",
            "ts": time.time(),
            "phase": phase,
            "run_id": run_id,
            "agent": agent,
            "tool_call_id": tool_call_id,
            "tool": tool,
            "arguments": dict(arguments or {}),
            "context": context,
            "approval_source": approval_source,
            "decision": decision,
        }
        if status is not None:
            record["status"] = status
        if output is not None:
            record["output"] = output[:4000]
        with self._lock:
            lines = self._take_pending()
            lines += self._tracked_lines()
            if phase == "before" and tool_call_id not in self._approved and decision:
                approval = self._approval(
                    tool_call_id,
                    tool,
                    decision,
                    arguments,
                    approval_source or "user",
                    context,
                    run_id,
                )
                lines.append(self._encode(approval))
            lines.append(self._encode(record))
            self._write_lines(lines)

    async def audit_hook(self, *args: Any, **fields: Any) -> None:
        """The loop's audit hook (``AgentLoop(audit=recorder.audit_hook)``): takes an
        ``opsconsole.agent.approval.AuditRecord`` (or a mapping, or keyword fields of
        :meth:`audit`) and returns once the records are fsynced."""
        if args:
            obj = args[0]
            if is_dataclass(obj) and not isinstance(obj, type):
                data = {f: getattr(obj, f) for f in obj.__dataclass_fields__}
            else:
                data = dict(obj)
            fields = {**data, **fields}
        if "result" in fields and "output" not in fields:
            fields["output"] = fields.pop("result")
        names = {
            "tool_call_id", "tool", "arguments", "context", "approval_source",
            "decision", "status", "output", "run_id", "agent",
        }  # fmt: skip
        phase = str(fields.pop("phase", "before"))
        self.audit(phase, **{k: v for k, v in fields.items() if k in names})

    def snapshot_pods(
        self,
        rows: Iterable[Any],
        *,
        namespace: str | None = None,
        context: str | None = None,
        max_rows: int = SNAPSHOT_MAX_PODS,
    ) -> None:
        """What the pod list showed (PodRow objects or dicts), so replay can refill it."""
        out: list[dict[str, Any]] = []
        total = 0
        for row in rows:
            total += 1
            if len(out) >= max_rows:
                continue
            if is_dataclass(row) and not isinstance(row, type):
                item = {
                    f: getattr(row, f)
                    for f in row.__dataclass_fields__  # type: ignore[attr-defined]
                    if f not in ("packed", "containers")
                }
                item["containers"] = [asdict(c) for c in getattr(row, "containers", [])]
            else:
                item = {k: v for k, v in dict(row).items() if k not in ("raw", "packed")}
            out.append(item)
        self._write(
            {
                "type": "snapshot",
                "kind": "pods",
                "namespace": namespace,
                "context": context,
                "rows": out,
                "total": total,
            }
        )

    def snapshot_logs(
        self,
        lines: Iterable[str],
        *,
        pod: str,
        namespace: str | None = None,
        container: str | None = None,
        max_lines: int = SNAPSHOT_MAX_LOG_LINES,
    ) -> None:
        """What the log viewer showed (its last ``max_lines`` lines), for replay."""
        kept = list(lines)
        omitted = max(0, len(kept) - max_lines)
        self._write(
            {
                "type": "snapshot",
                "kind": "logs",
                "pod": pod,
                "namespace": namespace,
                "container": container,
                "lines": kept[omitted:],
                "omitted": omitted,
            }
        )

    def close(self) -> None:
        """Write pending deltas, fsync, release the lock. Safe to call twice."""
        with self._lock:
            if self._fd is None:
                return
            try:
                if not self._broken:
                    self.flush()
            finally:
                fd, self._fd = self._fd, None
                try:
                    fcntl.flock(fd, fcntl.LOCK_UN)
                finally:
                    os.close(fd)

    def __enter__(self) -> SessionRecorder:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __del__(self) -> None:  # pragma: no cover - best effort
        fd = getattr(self, "_fd", None)
        if fd is not None:
            try:
                os.close(fd)
            except OSError:
                pass


__all__ = [
    "SessionRecorder",
    "SessionFormatError",
    "resolve_sessions_dir",
    "DELTA_KINDS",
]
