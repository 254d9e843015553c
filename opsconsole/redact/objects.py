"""Redact a JSON-like structure: the text redactor on every string, plus what only the structure
shows (a Secret's ``data``, ``{"name": "DB_PASSWORD", "value": ...}`` env entries, values under
secret keys, a Secret's ``last-applied-configuration``)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from opsconsole.redact.engine import REDACTED
from opsconsole.redact.keys import STRONG, WEAK, classify, is_placeholder, looks_random

Lines = Callable[[list[str]], list[str]]


def redact_obj(obj: Any, redact: Callable[[str], str], redact_lines: Lines | None = None) -> Any:
    """A copy of ``obj`` with secret values replaced; ``redact`` is the text redactor. With
    ``redact_lines``, a list of several strings (a log's lines) is redacted as one text, line
    for line, so a secret spread over lines (a PEM block's body) is caught as a whole (S8)."""
    if isinstance(obj, str):
        return redact(obj)
    if isinstance(obj, list | tuple):
        if redact_lines is not None and len(obj) > 1 and all(isinstance(v, str) for v in obj):
            lines = redact_lines(list(obj))
            return lines if isinstance(obj, list) else tuple(lines)
        items = [redact_obj(v, redact, redact_lines) for v in obj]
        return items if isinstance(obj, list) else tuple(items)
    if not isinstance(obj, dict):
        return obj
    is_secret = obj.get("kind") == "Secret"
    name = obj.get("name")
    env_secret = isinstance(name, str) and "value" in obj and classify(name) == STRONG
    out: dict[Any, Any] = {}
    for key, value in obj.items():
        skey = str(key)
        if is_secret and skey in ("data", "stringData") and isinstance(value, dict):
            out[key] = {k: REDACTED for k in value}
        elif env_secret and skey == "value" and value not in (None, ""):
            out[key] = REDACTED
        elif isinstance(value, str | int | float) and not isinstance(value, bool):
            strength = classify(skey)
            text = str(value)
            if strength == STRONG and not is_placeholder(text):
                out[key] = REDACTED
            elif strength == WEAK and isinstance(value, str) and looks_random(value):
                out[key] = REDACTED
            else:
                out[key] = redact(value) if isinstance(value, str) else value
        elif skey == "last-applied-configuration" or skey.endswith("/last-applied-configuration"):
            out[key] = REDACTED if is_secret else redact_obj(value, redact, redact_lines)
        else:
            out[key] = redact_obj(value, redact, redact_lines)
    return out
