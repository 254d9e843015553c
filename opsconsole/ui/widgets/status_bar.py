"""The status bar: context, namespace, model, mode, standing approvals, firing alerts, steps,
elapsed time, tokens, the prompt-cache share and cost."""

from __future__ import annotations

import time
from typing import Any

from rich.text import Text
from textual.reactive import reactive
from textual.widget import Widget

from opsconsole.agent.pricing import CacheTally


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
    #: the standing approvals ("approve for this session") in force, one line each
    standing: reactive[tuple[str, ...]] = reactive(())
    steps: reactive[int] = reactive(0)
    tokens: reactive[int] = reactive(0)
    cost: reactive[float] = reactive(0.0)
    #: prompt tokens of the conversation served from the provider's prompt cache, not served,
    #: and unknown (the provider's usage did not say: RELIABILITY A21)
    cache_hit: reactive[int] = reactive(0)
    cache_miss: reactive[int] = reactive(0)
    cache_unknown: reactive[int] = reactive(0)
    elapsed: reactive[float] = reactive(0.0)
    #: firing alerts in Alertmanager (-1: no Alertmanager, nothing shown)
    alerts: reactive[int] = reactive(-1)

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
        self.cache_hit = self.cache_miss = self.cache_unknown = 0
        self.steps = 0
        self.elapsed = 0.0
        self._accumulated = 0.0

    def cache_text(self) -> str:
        """``82% cached``, ``cache unknown``, ...: see CacheTally.describe."""
        return CacheTally(self.cache_hit, self.cache_miss, self.cache_unknown).describe()

    #: what :meth:`snapshot` keeps
    _SNAPSHOT = (
        "state",
        "standing",
        "steps",
        "tokens",
        "cost",
        "elapsed",
        "write_mode",
        "cache_hit",
        "cache_miss",
        "cache_unknown",
    )

    def snapshot(self) -> dict[str, Any]:
        """What a run changes here (a replay restores it when it steps back)."""
        values = {name: getattr(self, name) for name in self._SNAPSHOT}
        values["_run_started"] = self._run_started
        values["_accumulated"] = self._accumulated
        return values

    def restore(self, values: dict[str, Any]) -> None:
        for name, value in values.items():
            setattr(self, name, value)

    def render(self) -> Text:
        """The items that fit the width, in order; when the bar is too narrow the least
        important go first (cost, then time and tokens, steps, model, namespace, context):
        the run state and read-only / WRITE MODE always stay."""
        state_style = {
            "running": "bold yellow",
            "ready": "green",
            "cancelled": "yellow",
            "failed": "bold red",
            "error": "bold red",
        }.get(self.state, "dim")
        items: list[tuple[int, Text]] = []  # (priority: higher stays longer, text)
        items.append((10, Text.assemble(("● ", state_style), (self.state, state_style))))
        if self.write_mode:
            items.append((10, Text(" WRITE MODE ", style="bold reverse red")))
        else:
            items.append((10, Text("read-only", style="green")))
        if self.standing:
            more = f" +{len(self.standing) - 1} more" if len(self.standing) > 1 else ""
            auto = Text.assemble(("auto-approving ", "bold yellow"), self.standing[-1], more)
            items.append((9, auto))
        if self.alerts > 0:
            items.append((9, Text(f"▲ {self.alerts} alerts", style="bold red")))
        elif self.alerts == 0:
            items.append((6, Text("no alerts", style="dim")))
        ctx = Text.assemble(("ctx ", "dim"), self.context)
        if self.sandbox:
            ctx.append(" (sandbox)", style="bold cyan")
        items.append((7, ctx))
        items.append((8, Text.assemble(("ns ", "dim"), self.namespace)))
        model = ("offline planner", "bold cyan") if self.offline else (self.model, "")
        items.append((5, Text.assemble(("model ", "dim"), model)))
        items.append((4, Text.assemble(("step ", "dim"), str(self.steps))))
        items.append((3, Text(format_elapsed(self.elapsed))))
        items.append((3, Text.assemble(f"{self.tokens:,}", (" tok", "dim"))))
        items.append((2, Text(f"${self.cost:.4f}")))
        cache = "" if self.offline else self.cache_text()
        if cache:
            style = "yellow" if "unknown" in cache else "dim"
            items.append((1, Text(cache, style=style)))
        width = self.content_region.width or self.size.width
        sep = 2

        def total(parts: list[tuple[int, Text]]) -> int:
            return sum(t.cell_len for _, t in parts) + sep * (len(parts) - 1)

        while width and total(items) > width:
            lowest = min(p for p, _ in items)
            if lowest >= 10:
                break
            drop = max(i for i, (p, _) in enumerate(items) if p == lowest)
            del items[drop]
        text = Text(no_wrap=True, overflow="ellipsis")
        for i, (_, part) in enumerate(items):
            if i:
                text.append(" " * sep)
            text.append_text(part)
        return text
