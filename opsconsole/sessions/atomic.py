"""Atomic file replacement: write a temp file beside the target, fsync it, ``os.replace``.

A crash at any point leaves either the old file or the new one, never a zero-length or half
written file (RELIABILITY P5). ``fsync`` and ``replace`` are injectable so tests can put a fault
between the write and the replace.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path


def _fsync_dir(directory: Path) -> None:
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def atomic_write_bytes(
    path: Path | str,
    data: bytes,
    *,
    mode: int = 0o600,
    fsync: Callable[[int], None] = os.fsync,
    replace: Callable[[str, str], None] = os.replace,
) -> None:
    """Replace ``path`` with ``data`` atomically (temp file + fsync + replace + dir fsync)."""
    path = Path(path)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode)
    try:
        try:
            os.fchmod(fd, mode)
            view = memoryview(data)
            while view:
                written = os.write(fd, view)
                view = view[written:]
            fsync(fd)
        finally:
            os.close(fd)
        replace(str(tmp), str(path))
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise
    _fsync_dir(path.parent)


def atomic_write_text(path: Path | str, text: str, **kwargs: object) -> None:
    atomic_write_bytes(path, text.encode("utf-8"), **kwargs)  # type: ignore[arg-type]
