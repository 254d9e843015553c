"""The live trace: one block per step and one per tool_call_id, updated in place.

A step shows the model's Thought, its Actions (tool + arguments), each Observation as a
preview (Enter opens the whole output), a spinner while running, its duration and tokens, and
retries with a countdown. An Action that names a pod carries a :class:`PodLink`; selecting it
posts :class:`ShowPod`. The widget consumes the core's typed events and does no I/O.

The trace is one :class:`TracePane` (a :class:`~opsconsole.ui.widgets.virtual_list.
VirtualList`); steps, calls and links are nodes drawn on demand, not widgets, so a keypress
or a new step costs the same after one run or a thousand. ↑ / ↓ move a cursor over the calls
and pod links, Enter opens the one under it, a click too. A step streaming its Thought shows
the end of it (the last :data:`LIVE_THOUGHT` characters), not the whole text per token.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any, ClassVar

from rich.segment import Segment
from rich.text import Text
from textual.binding import Binding, BindingType

from opsconsole.ui.messages import ShowOutput, ShowPod
from opsconsole.ui.widgets.chart import range_chart
from opsconsole.ui.widgets.virtual_list import (
    Node,
    RenderContext,
    Rendered,
    VirtualList,
    prefix_lines,
)

if TYPE_CHECKING:  # the events module is imported on the first event, not at startup
    from textual.strip import Strip
    from textual.timer import Timer

    from opsconsole.agent import events as ev

SPINNER = "⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏"
PREVIEW_LINES = 4
PREVIEW_WIDTH = 160
#: characters of a streaming Thought shown (its end), and of a finished one
LIVE_THOUGHT = 400
#: redraws of a streaming Thought per second
LIVE_REFRESH = 12
THOUGHT_CHARS = 2000
POD_TOOLS = {"get_pod_logs", "describe_pod", "delete_pod"}
STATUS_STYLE = {
    "ok": "green",
    "error": "red",
    "declined": "yellow",
    "cancelled": "yellow",
    "interrupted": "yellow",
    "refused": "red",
    "skipped": "yellow",
}


def pod_of(tool: str, args: dict[str, Any]) -> tuple[str, str] | None:
    """The (namespace, pod) an Action names, if any."""
    name = args.get("pod_name") or args.get("pod")
    if not name and tool in POD_TOOLS:
        name = args.get("name")
    ns = args.get("namespace")
    if isinstance(name, str) and name and isinstance(ns, str) and ns:
        return ns, name
    return None


def format_args(args: dict[str, Any]) -> str:
    parts = []
    for key, value in args.items():
        shown = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
        parts.append(f"{key}={shown}")
    return ", ".join(parts)


def preview(text: str) -> str:
    """The first lines of an output and how many more there are (reads only those lines and
    counts the rest: a 50 MB output is not split into lines for a four-line preview)."""
    head = text[: (PREVIEW_WIDTH + 1) * PREVIEW_LINES * 4]
    lines = head.splitlines() or [""]
    out = [line[:PREVIEW_WIDTH] for line in lines[:PREVIEW_LINES]]
    if len(lines) > PREVIEW_LINES or len(head) < len(text):
        total = len(text.splitlines()) if len(text) < 100_000 else _count_lines(text)
        if total > PREVIEW_LINES:
            more = total - PREVIEW_LINES
            out.append(f"… {more} more line(s) — Enter for the full output")
    return "\n".join(out)


def _count_lines(text: str) -> int:
    """What ``len(text.splitlines())`` says, for "\n" line ends, without the list."""
    return text.count("\n") + (0 if text.endswith("\n") else 1)


def approval_label(decision: str, source: str, standing: str = "") -> str:
    """How a mutating call was decided, in the trace: by the user now, or without asking
    because of a standing approval the user gave earlier (named when the event says which)."""
    if source == "session":
        if standing:
            return f"auto-approved by your standing approval: {standing}"
        return "auto-approved (approved for this session earlier)"
    if decision == "approve_session" and standing:
        return f"approved by you for this session: {standing}"
    if source == "policy":
        return "declined by policy (headless: no one to ask)"
    return {
        "approve": "approved by you",
        "approve_session": "approved by you for this session",
        "decline": "declined by you",
    }.get(decision, decision)


class TraceLine(Node):
    """One line of the trace: a run's header, a notice, a dispatch, a run's end, the empty
    note."""

    def __init__(self, text: Text, kind: str, state: str = "") -> None:
        super().__init__()
        self.text = text
        self.kind = kind  # run-header | notice | dispatch | run-end | empty
        self.state = state

    @property
    def classes(self) -> str:
        return f"{self.kind} -{self.state}" if self.state else self.kind

    def plain(self) -> str:
        return self.text.plain

    def render(self, width: int, ctx: RenderContext) -> Rendered:
        style = ctx.style("empty") if self.kind == "empty" else None
        text = self.text
        if self.kind == "run-header":
            text = text.copy()
            text.stylize("bold")
        lines = ctx.lines(text, width, style)
        if self.kind == "run-header":
            lines.insert(0, ctx.blank(width))  # a blank line before each question
        return Rendered(lines)


class PodLink(Node):
    """A link to a pod named by an Action (Enter or a click selects it and shows its logs)."""

    def __init__(self, namespace: str, name: str) -> None:
        super().__init__()
        self.namespace = namespace
        self.pod_name = name

    def plain(self) -> str:
        return f"⇢ pod {self.namespace}/{self.pod_name}"

    def targets(self) -> list[Any]:
        return [self]

    def render(self, width: int, ctx: RenderContext) -> Rendered:
        text = Text(self.plain(), style="underline")
        lines = ctx.lines(text, width, ctx.style("pod-link"))
        return Rendered(lines, [(0, len(lines), self)])


def _children_lines(
    children: list[Node], width: int, ctx: RenderContext, lines: list[Strip], targets: list
) -> None:
    """Append the children's lines (and their targets, shifted) at ``width``."""
    for child in children:
        out = child.rendered(width, ctx)
        base = len(lines)
        lines += out.lines
        targets += [(base + start, base + end, target) for start, end, target in out.targets]


class ToolBlock(Node):
    """Action + Observation of one tool_call_id (Enter opens the whole output)."""

    def __init__(
        self, call_id: str, tool: str, args: dict[str, Any], *, mutating: bool, timed: bool = True
    ) -> None:
        super().__init__()
        self.timed = timed
        self.call_id = call_id
        self.tool = tool
        self.args = args
        self.mutating = mutating
        self.output = ""
        #: the result's local data (a range query's samples are drawn as a chart)
        self.data: dict[str, Any] | None = None
        self._preview: tuple[str, str] | None = None  # (output, its preview)
        self.status = "running"
        self.note = ""
        #: who let a mutating call run (or not): shown for good, after the status
        self.approval = ""
        self.duration: float | None = None
        self.started = time.monotonic()
        self.run_id = ""
        self.glyph = "…"
        #: a specialist's run dispatched by this call: its lines and steps, inside the call
        self.children: list[Node] = []
        link = pod_of(tool, args)
        self.link = PodLink(*link) if link else None
        if self.link is not None:
            self.link.parent = self

    @property
    def classes(self) -> str:
        return f"tool -{self.status}"

    def add(self, node: Node) -> None:
        node.parent = self
        self.children.append(node)
        self.changed()

    def _action_text(self) -> Text:
        text = Text()
        text.append("Action ", style="bold")
        text.append(self.tool, style="bold cyan")
        text.append(f"({format_args(self.args)})")
        if self.mutating:
            text.append("  [mutating]", style="bold magenta")
        if self.status == "running":
            text.append(f"  {self.glyph} {self.note or 'running'}", style="dim")
        else:
            style = STATUS_STYLE.get(self.status, "")
            text.append(f"  {self.status}", style=style)
            if self.duration is not None and self.timed:
                text.append(f" · {self.duration:.2f}s", style="dim")
        if self.approval:
            text.append(f"  · {self.approval}", style="dim")
        return text

    def observation_text(self) -> str:
        """The Observation line(s) shown (empty while the call runs)."""
        if self.status == "running" and not self.output:
            return ""
        if self._preview is None or self._preview[0] is not self.output:
            self._preview = (self.output, "Observation " + preview(self.output))
        return self._preview[1]

    def plain(self) -> str:
        parts = [self._action_text().plain]
        if self.link is not None:
            parts.append(self.link.plain())
        if self.observation_text():
            parts.append(self.observation_text())
        parts += [child.plain() for child in self.children]
        return "\n".join(parts)

    def targets(self) -> list[Any]:
        found: list[Any] = [self]
        if self.link is not None:
            found.append(self.link)
        for child in self.children:
            found += child.targets()
        return found

    def nodes(self) -> list[Node]:
        return [self.link, *self.children] if self.link is not None else list(self.children)

    def estimate(self, width: int) -> int:
        if self._renders:
            return super().estimate(width)
        return 2 + (self.link is not None) + sum(child.estimate(width) for child in self.children)

    def render(self, width: int, ctx: RenderContext) -> Rendered:
        inner = max(1, width - 2)
        lines = ctx.lines(self._action_text(), inner)
        targets: list[tuple[int, int, Any]] = []
        if self.link is not None:
            _children_lines([self.link], inner, ctx, lines, targets)
        observation = self.observation_text()
        if observation:
            obs = Text()
            obs.append("Observation ", style="bold")
            obs.append(observation[len("Observation ") :])
            lines += ctx.lines(obs, inner, ctx.style("observation"))
        for chart_line in range_chart(self.tool, self.data, inner):
            lines += ctx.lines(chart_line, inner)
        _children_lines(self.children, inner, ctx, lines, targets)
        pad = [Segment("  ", ctx.base)]
        return Rendered(prefix_lines(lines, pad, inner), [(0, len(lines), self), *targets])

    def tick(self, glyph: str) -> None:
        if self.status == "running":
            self.glyph = glyph
            self.changed()

    def set_note(self, note: str) -> None:
        self.note = note
        self.glyph = "…"
        self.changed()

    def finish(
        self, status: str, output: str, duration: float, data: dict[str, Any] | None = None
    ) -> None:
        self.status = status
        self.output = output
        self.duration = duration
        self.data = data
        self.changed()


class StepBlock(Node):
    """One step of a run: header (spinner, duration, tokens), Thought, tools, retries."""

    def __init__(
        self, run_id: str, agent: str, step: int, *, timed: bool = True, ts: float | None = None
    ) -> None:
        super().__init__()
        self.timed = timed
        self.nested = False
        self.run_id = run_id
        self.agent = agent
        self.step = step
        self.state = "running"
        #: wall-clock times from the events (so a replay shows the recorded durations)
        self.started = ts if ts is not None else time.time()
        self.ended: float | None = None
        self.tokens = 0
        self.thought = ""
        self._live: list[str] = []
        self._live_tail = ""
        self._live_chars = 0
        self.retry: tuple[float, str] | None = None  # (deadline, text)
        self.glyph = "…"
        self.children: list[Node] = []

    @property
    def classes(self) -> str:
        return f"step -{self.state}"

    @property
    def live(self) -> str:
        """The Thought streamed so far."""
        if len(self._live) > 1:
            self._live = ["".join(self._live)]
        return self._live[0] if self._live else ""

    def add(self, node: Node) -> None:
        node.parent = self
        self.children.append(node)
        self.changed()

    def _header(self) -> Text:
        text = Text()
        who = f"{self.agent} · " if self.agent not in ("", "ops") or self.nested else ""
        text.append(f"Step {self.step}", style="bold")
        text.append(f"  {who}", style="dim")
        if self.state == "running":
            text.append(f"{self.glyph} running ", style="dim")
        else:
            text.append(self.state, style=STATUS_STYLE.get(self.state, "dim"))
        text.append(" ")
        if self.timed:
            end = self.ended if self.ended is not None else time.time()
            text.append(f"· {end - self.started:.1f}s ", style="dim")
        if self.tokens:
            text.append(f"· {self.tokens:,} tok", style="dim")
        return text

    def _thought_text(self) -> Text | None:
        if self.thought:
            shown, live = self.thought.strip(), False
            if len(shown) > THOUGHT_CHARS:
                shown = shown[:THOUGHT_CHARS] + f" … (+{len(shown) - THOUGHT_CHARS:,} chars)"
        elif self._live_chars:
            shown, live = self._live_tail.strip(), True
            if self._live_chars > len(self._live_tail):
                shown = "…" + shown
        else:
            return None
        if not shown:
            return None
        label = Text("Thought ", style="bold")
        label.append(shown, style="italic" if live else "")
        return label

    def _retry_text(self) -> Text | None:
        if self.retry is None:
            return None
        deadline, what = self.retry
        left = max(0.0, deadline - time.monotonic())
        return Text(f"↻ {what} — retrying in {left:.0f}s", style="yellow")

    def plain(self) -> str:
        parts = [self._header().plain]
        for extra in (self._thought_text(), self._retry_text()):
            if extra is not None:
                parts.append(extra.plain)
        parts += [child.plain() for child in self.children]
        return "\n".join(parts)

    def targets(self) -> list[Any]:
        found: list[Any] = []
        for child in self.children:
            found += child.targets()
        return found

    def nodes(self) -> list[Node]:
        return list(self.children)

    def estimate(self, width: int) -> int:
        if self._renders:
            return super().estimate(width)
        return 2 + sum(child.estimate(width) for child in self.children)

    def render(self, width: int, ctx: RenderContext) -> Rendered:
        inner = max(1, width - 2)
        lines = ctx.lines(self._header(), inner)
        thought = self._thought_text()
        if thought is not None:
            lines += ctx.lines(thought, inner, ctx.style("thought"))
        retry = self._retry_text()
        if retry is not None:
            lines += ctx.lines(retry, inner)
        targets: list[tuple[int, int, Any]] = []
        _children_lines(self.children, inner, ctx, lines, targets)
        border = {"running": "border-running", "failed": "border-failed"}.get(
            self.state, "border-cancelled" if self.state == "cancelled" else "border"
        )
        prefix = [Segment("▊", ctx.base + ctx.style(border)), Segment(" ", ctx.base)]
        return Rendered(prefix_lines(lines, prefix, inner), targets)

    def refresh_header(self, glyph: str = "…") -> None:
        self.glyph = glyph
        self.changed()

    def set_thought(self, text: str, *, live: bool = False, redraw: bool = True) -> None:
        """The Thought (``live``: a streamed piece of it; ``redraw`` False: the caller redraws
        the step when it sees fit, e.g. a few times a second while it streams)."""
        if live:
            self._live.append(text)
            self._live_chars += len(text)
            self._live_tail = (self._live_tail + text)[-LIVE_THOUGHT:]
        else:
            self.thought = text
            if not text:  # the streamed text was the answer: no Thought to show
                self._live, self._live_tail, self._live_chars = [], "", 0
        if redraw:
            self.changed()

    def set_retry(self, wait: float, text: str) -> None:
        self.retry = (time.monotonic() + wait, text)
        self.changed()

    def clear_retry(self) -> None:
        if self.retry is not None:
            self.retry = None
            self.changed()

    def finish(self, state: str, ts: float | None = None) -> None:
        if self.state != "running":
            return
        self.state = state
        self.ended = max(self.started, ts if ts is not None else time.time())
        self.retry = None
        self.changed()


class TracePane(VirtualList):
    """Consumes agent events and keeps one block per step and per tool call."""

    COMPONENT_PREFIX = "trace"
    COMPONENT_CLASSES: ClassVar[set[str]] = {
        "trace--cursor",
        "trace--border",
        "trace--border-running",
        "trace--border-failed",
        "trace--border-cancelled",
        "trace--thought",
        "trace--observation",
        "trace--pod-link",
        "trace--empty",
    }

    DEFAULT_CSS = """
    TracePane {
        height: 1fr;
        background: transparent;
        scrollbar-gutter: stable;
        & > .trace--cursor { background: $accent-muted; }
        & > .trace--border { color: $border-blurred; }
        & > .trace--border-running { color: $accent; }
        & > .trace--border-failed { color: $error; }
        & > .trace--border-cancelled { color: $warning; }
        & > .trace--thought { color: $text-muted; }
        & > .trace--observation { color: $text-muted; }
        & > .trace--pod-link { color: $text-accent; }
        & > .trace--empty { color: $text-muted; }
    }
    """

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding(
            "up",
            "cursor(-1)",
            "Up",
            show=False,
            id="trace.up",
            tooltip="Cursor to the previous call or pod link",
        ),
        Binding(
            "down",
            "cursor(1)",
            "Down",
            show=False,
            id="trace.down",
            tooltip="Cursor to the next call or pod link",
        ),
        Binding(
            "enter",
            "open",
            "Open",
            id="trace.open",
            tooltip="Open what the cursor is on: a call's whole output, a pod link's pod and logs",
        ),
    ]

    def __init__(self, *, timed: bool = True, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        #: False (snapshots): no spinner and no timings, so frames are deterministic
        self.timed = timed
        self.steps: dict[tuple[str, int], StepBlock] = {}
        self.tools: dict[str, ToolBlock] = {}
        self._frame = 0
        self._empty: TraceLine | None = None
        self._timer: Timer | None = None
        #: nesting of runs (multi-agent: scheduler -> specialists), by run_id
        self.depth: dict[str, int] = {}
        #: where a specialist's run is shown: inside the ask_* call that dispatched it
        self.parents: dict[str, ToolBlock] = {}
        #: approval labels of calls whose block is not there yet, by tool_call_id
        self._approvals: dict[str, str] = {}
        #: the steps and calls still running (the spinner's and end_run's work)
        self._running_steps: dict[tuple[str, int], StepBlock] = {}
        self._running_tools: dict[str, ToolBlock] = {}
        #: steps whose streaming Thought waits for its redraw (see _redraw_live)
        self._live_dirty: dict[int, StepBlock] = {}
        self._live_timer: Timer | None = None
        self._show_empty("No run yet. Steps appear here as the agent works.")

    def _show_empty(self, text: str) -> None:
        self._empty = TraceLine(Text(text), "empty")
        self.append(self._empty)

    def on_mount(self) -> None:
        if self.timed:  # runs only while a step is running (see _tick)
            self._timer = self.set_interval(0.12, self._tick, pause=True)

    def _redraw_live(self, step: StepBlock) -> None:
        """Redraw a streaming Thought at most LIVE_REFRESH times a second."""
        self._live_dirty[id(step)] = step
        if self._live_timer is None:
            self._live_timer = self.set_timer(1 / LIVE_REFRESH, self._flush_live)

    def _flush_live(self) -> None:
        self._live_timer = None
        steps, self._live_dirty = list(self._live_dirty.values()), {}
        for step in steps:
            step.changed()

    def _start_spinner(self) -> None:
        if self._timer is not None:
            self._timer.resume()

    def _tick(self) -> None:
        steps = self._live_steps()
        tools = [t for t in self._running_tools.values() if t.status == "running"]
        if not steps:
            if self._timer is not None:
                self._timer.pause()
            return
        self._frame = (self._frame + 1) % len(SPINNER)
        glyph = SPINNER[self._frame]
        for block in steps:
            block.refresh_header(glyph)
        for tool in tools:
            tool.tick(glyph)

    def _live_steps(self) -> list[StepBlock]:
        """The running steps (the finished ones leave the running set here)."""
        for key in [k for k, b in self._running_steps.items() if b.state != "running"]:
            del self._running_steps[key]
        for key in [k for k, t in self._running_tools.items() if t.status != "running"]:
            del self._running_tools[key]
        return list(self._running_steps.values())

    # -- the cursor ------------------------------------------------------------------------
    def action_cursor(self, step: int) -> None:
        if not self.move_cursor(step):
            if step < 0:
                self.scroll_up(animate=False)
            else:
                self.scroll_down(animate=False)

    def action_open(self) -> None:
        if self.cursor is not None:
            self.activate(self.cursor)

    def activate(self, target: Any) -> None:
        if isinstance(target, PodLink):
            self.post_message(ShowPod(target.namespace, target.pod_name))
        elif isinstance(target, ToolBlock):
            title = f"{target.tool}({format_args(target.args)}) — {target.status}"
            self.post_message(ShowOutput(title, target.output or "(no output yet)"))

    def walk(self) -> Iterator[Node]:
        """Every node of the trace, in order, nested ones (a specialist's steps) too."""
        stack: list[Node] = list(reversed(self.items))
        while stack:
            node = stack.pop()
            yield node
            stack += reversed(node.nodes())

    def lines_of(self, kind: str) -> list[TraceLine]:
        """The trace's lines of one kind (run-end, notice, dispatch...), nested ones too."""
        return [n for n in self.walk() if isinstance(n, TraceLine) and n.kind == kind]

    # -- events ----------------------------------------------------------------------------
    async def _mount(self, node: Node, parent: Any = None) -> None:
        if self._empty is not None:
            self.remove_item(self._empty)
            self._empty = None
        if parent is not None:
            parent.add(node)
        else:
            self.append(node)

    async def _step(self, event: ev.AgentEvent) -> StepBlock:
        key = (event.run_id, event.step)
        block = self.steps.get(key)
        if block is None:
            for other in self._live_steps():
                if other.run_id == event.run_id and other.step < event.step:
                    other.finish("done", event.ts)
            block = StepBlock(event.run_id, event.agent, event.step, timed=self.timed, ts=event.ts)
            block.nested = self.depth.get(event.run_id, 0) > 0
            self.steps[key] = block
            self._running_steps[key] = block
            # a specialist's steps go inside the scheduler's ask_* call that dispatched it
            await self._mount(block, self.parents.get(event.run_id))
            self._start_spinner()
        return block

    async def _tool(self, event: Any, *, mutating: bool = False) -> ToolBlock:
        block = self.tools.get(event.tool_call_id)
        if block is None:
            step = await self._step(event)
            block = ToolBlock(
                event.tool_call_id,
                event.tool,
                # a call refused before it started (a declined batch, read-only, policy)
                # finishes with no started event: ToolCallFinished has no arguments
                dict(getattr(event, "arguments", None) or {}),
                mutating=mutating,
                timed=self.timed,
            )
            block.run_id = event.run_id
            block.approval = self._approvals.pop(event.tool_call_id, "")
            self.tools[event.tool_call_id] = block
            self._running_tools[event.tool_call_id] = block
            await self._mount(block, step)
        return block

    async def add_run(self, task: str) -> None:
        line = Text("▶ ", style="bold")
        line.append(task)
        await self._mount(TraceLine(line, "run-header"))
        self.align_bottom = True  # from the first question on, the newest step at the bottom
        # a new question: show it, wherever the user had scrolled, and follow its steps
        # until the user scrolls up again
        self.follow()

    async def apply(self, event: ev.AgentEvent) -> None:
        """Update the blocks for one event from the agent core."""
        from opsconsole.agent import events as ev

        if isinstance(event, ev.RunStarted):
            if event.parent_run_id:  # a specialist under the scheduler: indent its steps
                self.depth[event.run_id] = self.depth.get(event.parent_run_id, 0) + 1
            return
        if isinstance(event, ev.StepStarted):
            await self._step(event)
        elif isinstance(event, ev.ReasoningDelta | ev.TextDelta):
            step = await self._step(event)
            step.set_thought(event.text, live=True, redraw=False)
            self._redraw_live(step)
        elif isinstance(event, ev.Thought):
            text = event.text or event.reasoning
            (await self._step(event)).set_thought(text)
        elif isinstance(event, ev.ApprovalRequested):
            block = await self._tool(event, mutating=True)
            block.set_note("awaiting approval")
        elif isinstance(event, ev.ApprovalResolved):
            label = approval_label(event.decision, event.source, event.standing)
            block = self.tools.get(event.tool_call_id)
            if block is not None:
                block.approval = label
                block.set_note(label)
            else:  # approved for the session earlier: no request, the block comes next
                self._approvals[event.tool_call_id] = label
        elif isinstance(event, ev.ToolCallStarted):
            block = await self._tool(event, mutating=event.mutating)
            block.set_note("running")
        elif isinstance(event, ev.ToolCallFinished):
            block = await self._tool(event)
            block.finish(event.status, event.output, event.duration, event.data)
        elif isinstance(event, ev.RetryScheduled):
            reason = f"{event.reason} (attempt {event.attempt}/{event.max_attempts})"
            (await self._step(event)).set_retry(event.wait, reason)
        elif isinstance(event, ev.UsageReported):
            step = await self._step(event)
            step.tokens += event.prompt_tokens + event.completion_tokens
            step.retry = None
            step.changed()
        elif isinstance(event, ev.Notice):
            style = {"error": "red", "warning": "yellow"}.get(event.level, "dim")
            await self._mount(TraceLine(Text(f"• {event.text}", style=style), "notice"))
        elif isinstance(event, ev.PrefixChanged):
            line = Text(f"• prompt cache: {event.text}", style="yellow")
            await self._mount(TraceLine(line, "notice"))
        elif isinstance(event, ev.Answer):
            step = self.steps.get((event.run_id, event.step))
            if step is not None:
                step.set_thought("")
                step.finish("answered", event.ts)
        elif isinstance(event, ev.AgentDispatched):
            parent = self.tools.get(event.tool_call_id or "")
            if parent is not None:
                self.parents[event.child_run_id] = parent
            line = Text(f"⇒ {event.agent} → {event.target}: ", style="bold")
            line.append(event.task)
            await self._mount(TraceLine(line, "dispatch"), parent)
        elif isinstance(event, ev.RunFinished | ev.RunFailed | ev.RunCancelled):
            text = _terminal_text(event, timed=self.timed)
            if self.depth.get(event.run_id):
                text = f"{event.agent}: {text}"
            await self.end_run(event.run_id, _terminal_state(event), text, event.ts)

    async def end_run(
        self, run_id: str | None, state: str, text: str, ts: float | None = None
    ) -> None:
        """Close every running step and tool (of ``run_id``, or all) and add a closing line."""
        for block in self._live_steps():
            if run_id is None or block.run_id == run_id:
                block.finish("done" if state == "finished" else state, ts)
        for tool in list(self._running_tools.values()):
            if tool.status == "running" and (run_id is None or tool.run_id == run_id):
                tool.finish("cancelled" if state == "cancelled" else "interrupted", "", 0.0)
        style = {"finished": "green", "cancelled": "yellow"}.get(state, "red")
        line = TraceLine(Text(text, style=style), "run-end", state)
        await self._mount(line, self.parents.get(run_id or ""))

    def checkpoint(self) -> dict[str, Any]:
        """The trace's state between two questions (a replay steps back to it with
        :meth:`restore`). Blocks are only added after it, and the earlier ones do not change
        (a run changes only its own steps and calls): sizes and the small dicts suffice."""
        return {
            "items": len(self.items),
            "steps": len(self.steps),
            "tools": len(self.tools),
            "depth": len(self.depth),
            "parents": len(self.parents),
            "approvals": dict(self._approvals),
            "running_steps": dict(self._running_steps),
            "running_tools": dict(self._running_tools),
            "empty": self._empty,
            "align_bottom": self.align_bottom,
        }

    def restore(self, checkpoint: dict[str, Any]) -> None:
        """Back to a :meth:`checkpoint`: the steps and calls added after it go."""
        for name in ("steps", "tools", "depth", "parents"):
            table: dict[Any, Any] = getattr(self, name)
            while len(table) > checkpoint[name]:
                table.popitem()  # the newest first: they were only ever added
        self._approvals = dict(checkpoint["approvals"])
        self._running_steps = dict(checkpoint["running_steps"])
        self._running_tools = dict(checkpoint["running_tools"])
        self._empty = checkpoint["empty"]
        self.align_bottom = checkpoint["align_bottom"]
        if self._empty is not None:  # the placeholder is alone in the list, while there
            self.truncate(0)
            self.append(self._empty)
        else:
            self.truncate(checkpoint["items"])

    async def clear(self) -> None:
        self.steps.clear()
        self.tools.clear()
        self.depth.clear()
        self.parents.clear()
        self._approvals.clear()
        self._running_steps.clear()
        self._running_tools.clear()
        self.clear_items()
        self.align_bottom = False
        self._show_empty("Trace cleared.")


def _terminal_state(event: ev.AgentEvent) -> str:
    from opsconsole.agent import events as ev

    if isinstance(event, ev.RunFinished):
        return "finished"
    if isinstance(event, ev.RunCancelled):
        return "cancelled"
    return "failed"


def _terminal_text(event: ev.AgentEvent, *, timed: bool = True) -> str:
    from opsconsole.agent import events as ev

    if isinstance(event, ev.RunFinished):
        took = f"{event.duration:.1f}s · " if timed else ""
        return (
            f"■ finished · {event.steps} step(s) · {took}"
            f"{event.prompt_tokens + event.completion_tokens:,} tokens"
        )
    if isinstance(event, ev.RunCancelled):
        return f"■ cancelled — {event.reason}"
    assert isinstance(event, ev.RunFailed)
    return f"■ failed — {event.error}"
