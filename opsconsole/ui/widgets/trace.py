"""The live trace: one block per step and one per tool_call_id, updated in place.

A step shows the model's Thought, its Actions (tool + arguments), each Observation as a
preview (Enter opens the whole output), a spinner while running, its duration and tokens, and
retries with a countdown. An Action that names a pod carries a :class:`PodLink`; selecting it
posts :class:`ShowPod`. The widget consumes the core's typed events and does no I/O.
"""

from __future__ import annotations

import json
import time
from typing import TYPE_CHECKING, Any

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical, VerticalScroll
from textual.widgets import Static

from opsconsole.ui.messages import ShowOutput, ShowPod

if TYPE_CHECKING:  # the events module is imported on the first event, not at startup
    from textual.timer import Timer

    from opsconsole.agent import events as ev

SPINNER = "⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏"
PREVIEW_LINES = 4
PREVIEW_WIDTH = 160
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
    lines = text.splitlines() or [""]
    out = [line[:PREVIEW_WIDTH] for line in lines[:PREVIEW_LINES]]
    if len(lines) > PREVIEW_LINES:
        out.append(f"… {len(lines) - PREVIEW_LINES} more line(s) — Enter for the full output")
    return "\n".join(out)


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


class PodLink(Static, can_focus=True):
    """A focusable link to a pod named by an Action."""

    DEFAULT_CSS = """
    PodLink { color: $text-accent; width: auto; }
    PodLink:focus { background: $accent-muted; }
    """

    BINDINGS = [
        Binding(
            "enter",
            "open",
            "Show pod",
            id="trace.open_pod",
            tooltip="Select this pod in the pod list and show its logs",
        )
    ]

    def __init__(self, namespace: str, name: str) -> None:
        super().__init__(Text(f"⇢ pod {namespace}/{name}", style="underline"), classes="pod-link")
        self.namespace = namespace
        self.pod_name = name

    def action_open(self) -> None:
        self.post_message(ShowPod(self.namespace, self.pod_name))

    def on_click(self) -> None:
        self.action_open()


class ToolBlock(Vertical, can_focus=True):
    """Action + Observation of one tool_call_id."""

    DEFAULT_CSS = """
    ToolBlock { height: auto; padding: 0 0 0 2; }
    ToolBlock:focus { background: $accent-muted; }
    ToolBlock .observation { color: $text-muted; }
    """

    BINDINGS = [
        Binding(
            "enter",
            "show_output",
            "Full output",
            id="trace.show_output",
            tooltip="Open the whole observation in a scrollable window",
        )
    ]

    def __init__(
        self, call_id: str, tool: str, args: dict[str, Any], *, mutating: bool, timed: bool = True
    ) -> None:
        super().__init__(classes="tool -running")
        self.timed = timed
        self.call_id = call_id
        self.tool = tool
        self.args = args
        self.mutating = mutating
        self.output = ""
        self.status = "running"
        self.note = ""
        #: who let a mutating call run (or not): shown for good, after the status
        self.approval = ""
        self.duration: float | None = None
        self.started = time.monotonic()
        self.run_id = ""

    def compose(self) -> ComposeResult:
        yield Static(self._action_text(), classes="action", markup=False)
        link = pod_of(self.tool, self.args)
        if link:
            yield PodLink(*link)
        yield Static("", classes="observation", markup=False)

    def _action_text(self, glyph: str = "…") -> Text:
        text = Text()
        text.append("Action ", style="bold")
        text.append(self.tool, style="bold cyan")
        text.append(f"({format_args(self.args)})")
        if self.mutating:
            text.append("  [mutating]", style="bold magenta")
        if self.status == "running":
            text.append(f"  {glyph} {self.note or 'running'}", style="dim")
        else:
            style = STATUS_STYLE.get(self.status, "")
            text.append(f"  {self.status}", style=style)
            if self.duration is not None and self.timed:
                text.append(f" · {self.duration:.2f}s", style="dim")
        if self.approval:
            text.append(f"  · {self.approval}", style="dim")
        return text

    def tick(self, glyph: str) -> None:
        if self.status == "running" and self.is_mounted:
            self.query_one(".action", Static).update(self._action_text(glyph))

    def set_note(self, note: str) -> None:
        self.note = note
        self.tick("…")

    def finish(self, status: str, output: str, duration: float) -> None:
        self.status = status
        self.output = output
        self.duration = duration
        self.remove_class("-running")
        self.add_class(f"-{status}")
        if not self.is_mounted:
            return
        self.query_one(".action", Static).update(self._action_text())
        obs = Text()
        obs.append("Observation ", style="bold")
        obs.append(preview(output))
        self.query_one(".observation", Static).update(obs)

    def action_show_output(self) -> None:
        title = f"{self.tool}({format_args(self.args)}) — {self.status}"
        self.post_message(ShowOutput(title, self.output or "(no output yet)"))


class StepBlock(Vertical):
    """One step of a run: header (spinner, duration, tokens), Thought, tools, retries."""

    DEFAULT_CSS = """
    StepBlock { height: auto; padding: 0 0 0 1; border-left: tall $border-blurred; }
    StepBlock.-running { border-left: tall $accent; }
    StepBlock.-failed { border-left: tall $error; }
    StepBlock.-cancelled { border-left: tall $warning; }
    StepBlock .thought { color: $text-muted; display: none; }
    StepBlock .retry { color: $text-warning; height: auto; display: none; }
    """

    def __init__(
        self, run_id: str, agent: str, step: int, *, timed: bool = True, ts: float | None = None
    ) -> None:
        super().__init__(classes="step -running")
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
        self.live = ""
        self.retry: tuple[float, str] | None = None  # (deadline, text)

    def compose(self) -> ComposeResult:
        yield Static(self._header(), classes="step-header", markup=False)
        yield Static("", classes="thought", markup=False)
        yield Static("", classes="retry", markup=False)

    def _header(self, glyph: str = "…") -> Text:
        text = Text()
        who = f"{self.agent} · " if self.agent not in ("", "ops") or self.nested else ""
        text.append(f"Step {self.step}", style="bold")
        text.append(f"  {who}", style="dim")
        if self.state == "running":
            text.append(f"{glyph} running ", style="dim")
        else:
            text.append(self.state, style=STATUS_STYLE.get(self.state, "dim"))
        text.append(" ")
        if self.timed:
            end = self.ended if self.ended is not None else time.time()
            text.append(f"· {end - self.started:.1f}s ", style="dim")
        if self.tokens:
            text.append(f"· {self.tokens:,} tok", style="dim")
        return text

    def refresh_header(self, glyph: str = "…") -> None:
        if self.is_mounted:
            self.query_one(".step-header", Static).update(self._header(glyph))
            if self.retry is not None:
                deadline, what = self.retry
                left = max(0.0, deadline - time.monotonic())
                retry = self.query_one(".retry", Static)
                retry.update(Text(f"↻ {what} — retrying in {left:.0f}s", style="yellow"))
                retry.display = True

    def set_thought(self, text: str, *, live: bool = False) -> None:
        if live:
            self.live += text
            shown = self.live
        else:
            self.thought = text
            shown = text
        if self.is_mounted:
            label = Text("Thought ", style="bold")
            label.append(shown.strip(), style="italic" if live else "")
            thought = self.query_one(".thought", Static)
            thought.update(label if shown.strip() else "")
            thought.display = bool(shown.strip())

    def set_retry(self, wait: float, text: str) -> None:
        self.retry = (time.monotonic() + wait, text)
        self.refresh_header()

    def clear_retry(self) -> None:
        if self.retry is not None:
            self.retry = None
            if self.is_mounted:
                retry = self.query_one(".retry", Static)
                retry.update("")
                retry.display = False

    def finish(self, state: str, ts: float | None = None) -> None:
        if self.state != "running":
            return
        self.state = state
        self.ended = max(self.started, ts if ts is not None else time.time())
        self.remove_class("-running")
        self.add_class(f"-{state}")
        self.clear_retry()
        self.refresh_header()


class TracePane(VerticalScroll):
    """Consumes agent events and keeps one block per step and per tool call."""

    DEFAULT_CSS = """
    TracePane { height: 1fr; }
    """

    def __init__(self, *, timed: bool = True, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        #: False (snapshots): no spinner and no timings, so frames are deterministic
        self.timed = timed
        self.steps: dict[tuple[str, int], StepBlock] = {}
        self.tools: dict[str, ToolBlock] = {}
        self._frame = 0
        self._empty: Static | None = None
        self._timer: Timer | None = None
        #: nesting of runs (multi-agent: scheduler -> specialists), by run_id
        self.depth: dict[str, int] = {}
        #: where a specialist's run is shown: inside the ask_* call that dispatched it
        self.parents: dict[str, ToolBlock] = {}
        #: approval labels of calls whose block is not there yet, by tool_call_id
        self._approvals: dict[str, str] = {}

    def compose(self) -> ComposeResult:
        self._empty = Static("No run yet. Steps appear here as the agent works.", classes="empty")
        yield self._empty

    def on_mount(self) -> None:
        if self.timed:  # runs only while a step is running (see _tick)
            self._timer = self.set_interval(0.12, self._tick, pause=True)

    def _start_spinner(self) -> None:
        if self._timer is not None:
            self._timer.resume()

    def _tick(self) -> None:
        if not any(b.state == "running" for b in self.steps.values()):
            if self._timer is not None:
                self._timer.pause()
            return
        self._frame = (self._frame + 1) % len(SPINNER)
        glyph = SPINNER[self._frame]
        for block in self.steps.values():
            if block.state == "running":
                block.refresh_header(glyph)
        for tool in self.tools.values():
            tool.tick(glyph)

    async def _mount(self, widget: Any, parent: Any = None) -> None:
        if self._empty is not None:
            await self._empty.remove()
            self._empty = None
        await (parent or self).mount(widget)
        if not self.is_anchored and self.scroll_offset.y >= self.max_scroll_y - 2:
            self.anchor()

    async def _step(self, event: ev.AgentEvent) -> StepBlock:
        key = (event.run_id, event.step)
        block = self.steps.get(key)
        if block is None:
            for other in self.steps.values():
                if other.run_id == event.run_id and other.step < event.step:
                    other.finish("done", event.ts)
            block = StepBlock(event.run_id, event.agent, event.step, timed=self.timed, ts=event.ts)
            block.nested = self.depth.get(event.run_id, 0) > 0
            self.steps[key] = block
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
            await self._mount(block, step)
        return block

    async def add_run(self, task: str) -> None:
        line = Text("▶ ", style="bold")
        line.append(task)
        await self._mount(Static(line, classes="run-header", markup=False))
        # a new question: show it, wherever the user had scrolled or focused, and follow its
        # steps until the user scrolls up again
        self.scroll_end(animate=False)
        self.anchor()

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
            (await self._step(event)).set_thought(event.text, live=True)
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
            block.finish(event.status, event.output, event.duration)
        elif isinstance(event, ev.RetryScheduled):
            reason = f"{event.reason} (attempt {event.attempt}/{event.max_attempts})"
            (await self._step(event)).set_retry(event.wait, reason)
        elif isinstance(event, ev.UsageReported):
            step = await self._step(event)
            step.tokens += event.prompt_tokens + event.completion_tokens
            step.clear_retry()
            step.refresh_header()
        elif isinstance(event, ev.Notice):
            style = {"error": "red", "warning": "yellow"}.get(event.level, "dim")
            await self._mount(Static(Text(f"• {event.text}", style=style), classes="notice"))
        elif isinstance(event, ev.PrefixChanged):
            line = Text(f"• prompt cache: {event.text}", style="yellow")
            await self._mount(Static(line, classes="notice"))
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
            await self._mount(Static(line, classes="dispatch", markup=False), parent)
        elif isinstance(event, ev.RunFinished | ev.RunFailed | ev.RunCancelled):
            text = _terminal_text(event, timed=self.timed)
            if self.depth.get(event.run_id):
                text = f"{event.agent}: {text}"
            await self.end_run(event.run_id, _terminal_state(event), text, event.ts)

    async def end_run(
        self, run_id: str | None, state: str, text: str, ts: float | None = None
    ) -> None:
        """Close every running step and tool (of ``run_id``, or all) and add a closing line."""
        for block in self.steps.values():
            if run_id is None or block.run_id == run_id:
                block.finish("done" if state == "finished" else state, ts)
        for tool in self.tools.values():
            if tool.status == "running" and (run_id is None or tool.run_id == run_id):
                tool.finish("cancelled" if state == "cancelled" else "interrupted", "", 0.0)
        style = {"finished": "green", "cancelled": "yellow"}.get(state, "red")
        line = Static(Text(text, style=style), classes=f"run-end -{state}")
        await self._mount(line, self.parents.get(run_id or ""))

    async def clear(self) -> None:
        self.steps.clear()
        self.tools.clear()
        self.depth.clear()
        self.parents.clear()
        self._approvals.clear()
        await self.remove_children()
        self._empty = Static("Trace cleared.", classes="empty")
        await self.mount(self._empty)


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
