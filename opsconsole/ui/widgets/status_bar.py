"""The status bar: context, namespace, model, mode, steps, elapsed time, tokens and cost."""

from __future__ import annotations

import time
from typing import Any

from rich.text import Text
from textual.reactive import reactive
from textual.widget import Widget


def format_elapsed(seconds: float) -> str:
    seconds = max(0, int(seconds))
    minutes, secs = divmod(seconds, 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"


class StatusBar(Widget):
    """One line at the bottom. ``frozen`` stops the clock (deterministic snapshots)."""

    DEFAULT_CSS = """
    StatusBar { height: 1; padding: 0 1; }
    """

    state: reactive[str] = reactive("connecting…")
    context: reactive[str] = reactive("—")
    namespace: reactive[str] = reactive("default")
    model: reactive[str] = reactive("—")
    offline: reactive[bool] = reactive(False)
    sandbox: reactive[bool] = reactive(False)
    write_mode: reactive[bool] = reactive(False)
    steps: reactive[int] = reactive(0)
    tokens: reactive[int] = reactive(0)
    cost: reactive[float] = reactive(0.0)
    elapsed: reactive[float] = reactive(0.0)

    def __init__(self, *, frozen: bool = False, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.frozen = frozen
        self._run_started: float | None = None
        self._accumulated = 0.0

    def on_mount(self) -> None:
        if not self.frozen:
            self.set_interval(1.0, self._tick)

    def _tick(self) -> None:
        if self._run_started is not None:
            self.elapsed = self._accumulated + time.monotonic() - self._run_started

    def run_started(self) -> None:
        self.state = "running"
        self.steps = 0
        if not self.frozen:
            self._run_started = time.monotonic()

    def run_ended(self, state: str) -> None:
        if self._run_started is not None:
            self._accumulated += time.monotonic() - self._run_started
            self.elapsed = self._accumulated
            self._run_started = None
        self.state = state

    def reset_usage(self) -> None:
        self.tokens = 0
        self.cost = 0.0
        self.steps = 0
        self.elapsed = 0.0
        self._accumulated = 0.0

    def render(self) -> Text:
        text = Text(no_wrap=True, overflow="ellipsis")
        sep = ("  ", "")
        state_style = {
            "running": "bold yellow",
            "ready": "green",
            "cancelled": "yellow",
            "failed": "bold red",
            "error": "bold red",
        }.get(self.state, "dim")
        text.append("● ", style=state_style)
        text.append(self.state, style=state_style)
        text.append(*sep)
        text.append("ctx ", style="dim")
        text.append(self.context)
        if self.sandbox:
            text.append(" (sandbox)", style="bold cyan")
        text.append(*sep)
        text.append("ns ", style="dim")
        text.append(self.namespace)
        text.append(*sep)
        text.append("model ", style="dim")
        if self.offline:
            text.append("offline planner", style="bold cyan")
        else:
            text.append(self.model)
        text.append(*sep)
        if self.write_mode:
            text.append(" WRITE MODE ", style="bold reverse red")
        else:
            text.append("read-only", style="green")
        text.append(*sep)
        text.append("step ", style="dim")
        text.append(str(self.steps))
        text.append(*sep)
        text.append(format_elapsed(self.elapsed))
        text.append(*sep)
        text.append(f"{self.tokens:,}")
        text.append(" tok", style="dim")
        text.append(*sep)
        text.append(f"${self.cost:.4f}")
        return text
