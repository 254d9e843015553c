"""The session file format (version 1), its errors, and the scrubbing every record goes through.

A session is one JSONL file ``<sessions_dir>/<YYYYmmdd-HHMMSS>-<shortid>.jsonl``; each line is
one JSON object with a ``type``:

- ``header`` (always the first line): ``format``, ``app_version``, ``session_id``, ``model``,
  ``offline``, ``context``, ``sandbox``, ``started`` (ISO 8601, UTC), ``language``. Never an
  API key.
- ``event``: ``{"event": AgentEvent.to_dict()}``; streaming deltas are coalesced.
- ``message``: ``{"thread": "main", "index": n, "message": {...}}`` one OpenAI-format transcript
  message, in order; ``rewind`` ``{"thread", "count"}`` cuts the transcript back to ``count``
  messages (compaction, resume repair), later ``message`` records continue from there.
- ``approval``: a decision on a tool call (``tool_call_id``, ``tool``, ``arguments``,
  ``decision``, ``source``, ``scope``, ``context``).
- ``audit``: a mutating call, ``phase`` ``"before"`` (args, context, approval source) and
  ``"result"`` (status, output); fsynced before the call runs / before the result is shown.
- ``snapshot``: UI state for replay, ``kind`` ``"pods"`` (``rows``) or ``"logs"`` (``lines``).
- ``request``: a model request was sent (``messages`` count, offered ``tools`` names).
- ``resumed``: the session was reopened for writing (app version, time).

Every record carries ``ts`` (Unix time). Readers ignore unknown fields and skip unknown record
types with a warning; a newer ``format`` is refused.
"""

from __future__ import annotations

import json
import secrets
import time
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from opsconsole.errors import SessionError
from opsconsole.redact import REDACTED, redact, redact_lines, redact_obj

FORMAT_VERSION = 1
SUFFIX = ".jsonl"
#: literal secrets shorter than this are not scrubbed (they would match ordinary text)
MIN_SECRET_LEN = 8

RECORD_TYPES = frozenset(
    {
        "header",
        "event",
        "message",
        "rewind",
        "approval",
        "audit",
        "snapshot",
        "resumed",
        "request",
    }
)


class SessionNotFound(SessionError):
    """The session file does not exist."""


class SessionFormatError(SessionError):
    """Not a session file, or a format version this opsconsole cannot read."""


class SessionCorrupt(SessionError):
    """A damaged line in the middle of a session (not a torn last line)."""

    def __init__(self, path: Path | str, line: int, reason: str) -> None:
        self.path = Path(path)
        self.line = line
        self.reason = reason
        upto = f"up to line {line - 1}" if line > 2 else "its header only"
        super().__init__(
            f"session {self.path.name} is damaged at line {line}: {reason}",
            hint=f"open it read-only {upto} with --partial (nothing after line {line - 1} "
            "will be shown)",
        )


def new_session_id() -> str:
    return secrets.token_hex(4)


def session_filename(started: float, session_id: str) -> str:
    stamp = time.strftime("%Y%m%d-%H%M%S", time.gmtime(started))
    return f"{stamp}-{session_id}{SUFFIX}"


def iso8601(ts: float) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(ts))


# --- scrubbing ---------------------------------------------------------------------------

#: values under these keys are free-form payloads (tool arguments, UI data): they get the
#: key-aware ``redact_obj``; everything else only has its strings redacted, so structural
#: fields such as ``prompt_tokens`` keep their numbers.
PAYLOAD_KEYS = frozenset({"arguments", "data", "args", "result_data"})
#: lists of text lines redacted as one text, line for line (the log pane's snapshot: a PEM
#: body's lines are secret only next to its BEGIN line)
LINES_KEYS = frozenset({"lines"})


class Scrubber:
    """Redacts a record before it is written and removes literal secrets (the API key)."""

    def __init__(self, literal_secrets: Iterable[str | None] = ()) -> None:
        self.secrets = sorted(
            {s for s in literal_secrets if s and len(s) >= MIN_SECRET_LEN}, key=len, reverse=True
        )
        # the JSON-escaped forms too, for the final byte-level check
        self._encoded = sorted(
            {json.dumps(s, ensure_ascii=False)[1:-1].encode() for s in self.secrets}
            | {s.encode() for s in self.secrets},
            key=len,
            reverse=True,
        )

    def text(self, value: str) -> str:
        for secret in self.secrets:
            if secret in value:
                value = value.replace(secret, REDACTED)
        return redact(value)

    def lines(self, values: list[str]) -> list[str]:
        """Lines redacted as one text, one output line per input line."""
        return [self._literal(line) for line in redact_lines(values)]

    def obj(self, value: Any, key: str | None = None) -> Any:
        if isinstance(value, str):
            return self.text(value)
        if isinstance(value, dict):
            if key in PAYLOAD_KEYS:
                return self._literal(redact_obj(value))
            return {k: self.obj(v, str(k)) for k, v in value.items()}
        if isinstance(value, list | tuple):
            if key in PAYLOAD_KEYS:
                return self._literal(redact_obj(list(value)))
            if key in LINES_KEYS and all(isinstance(v, str) for v in value):
                return self.lines(list(value))
            return [self.obj(v) for v in value]
        return value

    def _literal(self, value: Any) -> Any:
        if not self.secrets:
            return value
        if isinstance(value, str):
            for secret in self.secrets:
                value = value.replace(secret, REDACTED)
            return value
        if isinstance(value, dict):
            return {k: self._literal(v) for k, v in value.items()}
        if isinstance(value, list):
            return [self._literal(v) for v in value]
        return value

    def final_bytes(self, line: bytes) -> bytes:
        """Belt and braces: no literal secret survives in the bytes written."""
        for enc in self._encoded:
            if enc in line:
                line = line.replace(enc, REDACTED.encode())
        return line
