"""App-wide Messages.

Facts (``BackendReady``, ``PodsLoaded``) and requests (``ShowPod``, ``SubmitTask``). Thread
workers hand results to the UI only through these (``post_message`` is thread-safe), in
batches.
"""

from __future__ import annotations

from typing import Any

from textual.message import Message


class BackendReady(Message):
    """The cluster, tools and model client are loaded (after the first paint)."""

    def __init__(self, backend: Any) -> None:
        super().__init__()
        self.backend = backend


class PodsLoaded(Message):
    """A full list of pods (initial list, or a relist after 410 Gone)."""

    def __init__(self, rows: list[Any], namespace: str | None) -> None:
        super().__init__()
        self.rows = rows
        self.namespace = namespace


class PodsChanged(Message):
    """A batch of watch events: ``(type, row)`` with type ADDED / MODIFIED / DELETED."""

    def __init__(self, changes: list[tuple[str, Any]]) -> None:
        super().__init__()
        self.changes = changes


class LogLines(Message):
    """A batch of log lines for the source the log viewer shows."""

    def __init__(
        self, source: str, lines: list[str], data: bytes | None = None, notice: Any = None
    ) -> None:
        super().__init__()
        self.source = source
        self.lines = lines
        #: a whole read as raw UTF-8 (the log viewer's fastest path), instead of ``lines``
        self.data = data
        #: a fact about this log (the chosen container, why following stopped), in order
        #: with the lines: ``opsconsole.ui.feeds.LogNotice``
        self.notice = notice


class FeedFailed(Message):
    """A pod watch or a log follow failed with a user-facing error."""

    def __init__(self, feed: str, error: str) -> None:
        super().__init__()
        self.feed = feed
        self.error = error


class ShowPod(Message):
    """Request: select this pod in the pod list and show its logs (trace-to-pod link)."""

    def __init__(self, namespace: str, name: str) -> None:
        super().__init__()
        self.namespace = namespace
        self.name = name


class SubmitTask(Message):
    """Request: the user asked something (chat input or command palette)."""

    def __init__(self, text: str) -> None:
        super().__init__()
        self.text = text


class ShowOutput(Message):
    """Request: open a full tool output (or a whole answer: ``markdown``) in the scrollable
    output modal."""

    def __init__(self, title: str, text: str, *, markdown: bool = False) -> None:
        super().__init__()
        self.title = title
        self.text = text
        self.markdown = markdown


class StopRequested(Message):
    """Request: stop the agent run (the Stop control)."""
