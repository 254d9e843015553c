"""Scrub secrets from text and JSON-like data before it reaches a model or a file (S8, S14).

The one redactor of opsconsole: the tools, the session recorder, the console, the eval harness
and crash reports all call it.

- ``redact(text)``: each secret value becomes ``[REDACTED]``; the shape around it stays (the key,
  the header, the URL's user and host, a PEM's BEGIN/END lines). Idempotent, and nothing outside
  a secret changes (see engine.py for what is found, rules.toml for the rules as data).
- ``redact_lines(lines)``: lines redacted as one text (a PEM body, a YAML block, a flag's
  value on the next line are secrets only in context), one output line per input line; a
  secret spanning lines leaves ``[REDACTED]`` on each line it covered (the log pane's
  snapshot in a session file).
- ``secret_spans(text)``: the ``(start, end)`` spans ``redact`` replaces.
- ``redact_obj(obj)``: a copy of a JSON-like structure (objects.py).
- ``is_secret_key(name)``: does a key or variable name hold a secret (DB_PASSWORD, tls.key)?

The rules load on first use (detect-secrets is imported then, not at start-up).
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from typing import Any

from opsconsole.redact import objects
from opsconsole.redact.engine import REDACTED, Redactor, Span
from opsconsole.redact.keys import is_secret_key
from opsconsole.redact.rules import RulesError

__all__ = [
    "REDACTED",
    "RulesError",
    "is_secret_key",
    "redact",
    "redact_lines",
    "redact_obj",
    "secret_spans",
]

#: strings up to this long are cached (a pod list repeats its node names, images, phases)
_CACHED_LEN = 256
#: strings at least this long are remembered with their result, the last few of them: the
#: same long answer or tool output reaches the redactor several times (the answer event, the
#: transcript's message, the session's copy), and each pass over 5 MB takes most of a second
_LONG_LEN = 64 * 1024
_LONG_KEPT = 4
_long: dict[str, str] = {}


@functools.cache
def _redactor() -> Redactor:
    return Redactor()


@functools.lru_cache(maxsize=32768)
def _redact_short(text: str) -> str:
    return _redactor().redact(text)


def redact(text: str) -> str:
    """Return ``text`` with secret values replaced by ``[REDACTED]``."""
    if not text:
        return text
    if len(text) <= _CACHED_LEN:
        return _redact_short(text)
    if len(text) < _LONG_LEN:
        return _redactor().redact(text)
    done = _long.get(text)
    if done is None:
        done = _redactor().redact(text)
        while len(_long) >= 2 * _LONG_KEPT:
            del _long[next(iter(_long))]
        _long[text] = done
        _long[done] = done  # idempotent: the redacted copy comes back through here too
    return done


def redact_lines(lines: Sequence[str]) -> list[str]:
    """``lines`` redacted as one text, one output line per input line (see the module doc)."""
    return _redactor().redact_lines(lines)


def secret_spans(text: str) -> list[Span]:
    """The sorted, disjoint ``(start, end)`` spans of ``text`` that :func:`redact` replaces."""
    return _redactor().spans(text)


def redact_obj(obj: Any) -> Any:
    """A copy of a JSON-like structure with secret values replaced (objects.py)."""
    return objects.redact_obj(obj, redact, redact_lines)
