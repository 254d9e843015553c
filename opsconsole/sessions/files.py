"""Session files on disk: the sessions directory, the one-writer lock and torn-tail repair."""

from __future__ import annotations

import fcntl
import os
from pathlib import Path
from typing import TYPE_CHECKING

from opsconsole.errors import SessionLocked

if TYPE_CHECKING:
    from opsconsole.config import Settings


def resolve_sessions_dir(settings: Settings | None = None) -> Path:
    """``settings.sessions.dir`` if set, else the platform data dir's ``sessions``."""
    from opsconsole import paths

    configured = settings.sessions.dir if settings is not None else None
    return Path(configured).expanduser() if configured else paths.sessions_dir()


def _lock(fd: int, path: Path) -> None:
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        raise SessionLocked(
            f"session {path.name} is already open for writing in another opsconsole",
            hint=f"replay it read-only instead: opsconsole replay {path}",
        ) from None


def _truncate_torn_tail(fd: int) -> int:
    """Cut the file back to just after its last ``\\n``; return the new size."""
    size = os.fstat(fd).st_size
    pos = size
    chunk = 8192
    while pos > 0:
        start = max(0, pos - chunk)
        block = os.pread(fd, pos - start, start)
        idx = block.rfind(b"\n")
        if idx >= 0:
            end = start + idx + 1
            if end != size:
                os.ftruncate(fd, end)
            return end
        pos = start
    if size:
        os.ftruncate(fd, 0)
    return 0
