"""The chat input's questions, kept across launches like a shell's history.

One JSON string per line (multi-line questions survive) in the state directory, 0600, secrets
redacted before they are written. Kept only while sessions are recorded (``sessions.record``):
a user who turned recording off does not want their questions on disk either.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

#: questions kept (the file is trimmed back to this when it grows to twice as many lines)
MAX_ENTRIES = 500


def history_file() -> Path:
    from opsconsole import paths

    return paths.state_dir() / "chat-history.jsonl"


def load_history(path: Path | None = None, limit: int = MAX_ENTRIES) -> list[str]:
    """The newest ``limit`` questions, oldest first; [] when there is no readable file."""
    path = path or history_file()
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError):
        return []
    out: list[str] = []
    for line in lines[-limit:]:
        try:
            item = json.loads(line)
        except ValueError:
            continue  # a torn last line after a crash
        if isinstance(item, str) and item:
            out.append(item)
    return out


def append_history(text: str, path: Path | None = None) -> None:
    """Add one question (redacted); best effort: a read-only home just means no history."""
    from opsconsole import paths
    from opsconsole.redact import redact

    path = path or history_file()
    try:
        paths.ensure_private_dir(path.parent)
        fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
        with os.fdopen(fd, "a", encoding="utf-8") as fh:
            fh.write(json.dumps(redact(text), ensure_ascii=False) + "\n")
        if path.stat().st_size > MAX_ENTRIES * 2 * 80:  # cheap check before counting lines
            entries = load_history(path, limit=MAX_ENTRIES * 2 + 1)
            if len(entries) > MAX_ENTRIES * 2:
                tmp = path.with_name(f".{path.name}.{os.getpid()}")
                fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
                with os.fdopen(fd, "w", encoding="utf-8") as fh:
                    for entry in entries[-MAX_ENTRIES:]:
                        fh.write(json.dumps(entry, ensure_ascii=False) + "\n")
                os.replace(tmp, path)
    except OSError:
        pass
