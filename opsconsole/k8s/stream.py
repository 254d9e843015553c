"""A cancellable line reader over a streaming HTTP response (log follow, watch).

The blocking socket read runs in a daemon thread that pushes complete lines into a queue;
the consumer polls the queue, so it can stop at any moment. ``close()`` (callable from any
thread) shuts the socket down, which wakes the blocked read at once.
"""

from __future__ import annotations

import contextlib
import queue
import threading
from collections.abc import Callable
from typing import Any

_EOF = object()


class LineStream:
    """Read ``resp`` line by line in a thread. ``get(timeout)`` returns a list of lines
    (bytes, without the newline), ``[]`` when nothing arrived in time, or ``None`` at the end
    of the stream (``error`` then holds the exception that ended it, if any)."""

    def __init__(self, resp: Any, *, max_line: int = 1 << 20, name: str = "k8s-stream") -> None:
        self._resp = resp
        self._q: queue.Queue[Any] = queue.Queue(maxsize=10_000)
        self._closed = threading.Event()
        self._max_line = max_line
        self.error: BaseException | None = None
        self._ended = False
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)
        self._thread.start()

    def _put(self, item: Any) -> bool:
        while not self._closed.is_set():
            try:
                self._q.put(item, timeout=0.2)
                return True
            except queue.Full:
                continue
        return False

    def _run(self) -> None:
        buf = b""
        try:
            for chunk in self._resp.stream(65536, decode_content=True):
                if self._closed.is_set():
                    break
                if not chunk:
                    continue
                buf += chunk
                if b"\n" not in buf:
                    if len(buf) > self._max_line:  # a runaway line: cut it
                        if not self._put([buf]):
                            return
                        buf = b""
                    continue
                *lines, buf = buf.split(b"\n")
                if not self._put(lines):
                    return
            if buf and not self._closed.is_set():
                self._put([buf])
        except BaseException as exc:  # noqa: BLE001 - handed to the consumer
            if not self._closed.is_set():
                self.error = exc
        finally:
            with contextlib.suppress(Exception):
                self._resp.release_conn()
            with contextlib.suppress(queue.Full):
                self._q.put_nowait(_EOF)

    def get(self, timeout: float) -> list[bytes] | None:
        if self._ended:
            return None
        try:
            item = self._q.get(timeout=timeout)
        except queue.Empty:
            return []
        if item is _EOF:
            self._ended = True
            return None
        out: list[bytes] = list(item)
        while True:  # drain what is already there: one batch
            try:
                more = self._q.get_nowait()
            except queue.Empty:
                break
            if more is _EOF:
                self._ended = True
                break
            out.extend(more)
            if len(out) >= 5000:
                break
        return out

    def close(self) -> None:
        if self._closed.is_set():
            return
        self._closed.set()
        for fn in ("shutdown", "close"):
            with contextlib.suppress(Exception):
                getattr(self._resp, fn)()

    @property
    def closed(self) -> bool:
        return self._closed.is_set()


def wait_or_stop(stop: threading.Event | None, seconds: float, closed: Callable[[], bool]) -> bool:
    """Sleep ``seconds`` unless stopped; True if the caller should stop."""
    if stop is not None:
        return stop.wait(seconds) or closed()
    ev = threading.Event()
    step = 0.1
    waited = 0.0
    while waited < seconds:
        if closed():
            return True
        ev.wait(step)
        waited += step
    return closed()
