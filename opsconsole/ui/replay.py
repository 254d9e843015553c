"""``opsconsole replay FILE``: a recorded session played in the console.

The chat, the trace, the status bar, the pod list and the log viewer fill as they did, from the
file only: no backend is built, so there are zero model calls and zero cluster calls (P8).
The steps and the cursor come from :mod:`opsconsole.sessions.replay`; this module only feeds
their entries to the same widgets the live console uses (through the same
:meth:`AgentBridge.handle`). Keys: space play / pause, → / ← step, ``s`` speed (1×, 4×,
instant), ``n`` next question.

Seeking costs one question's steps, not the session: before each question the player keeps a
checkpoint of the chat, the trace, the status bar and the pod / log snapshots shown (sizes and
a few values: earlier blocks never change after their question). ← restores the checkpoint
before the current question and re-applies that question's steps up to the new position; →
applies one step. A step is applied with no await in between (the widgets are drawn on
demand), so stopping the player never leaves a step half applied; playing at ``instant``
yields to the screen every frame instead of stalling it until the end.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from textual import work
from textual.binding import Binding

from opsconsole.ui.app import AppOptions, OpsConsoleApp

if TYPE_CHECKING:
    from opsconsole.config import Settings

SPEEDS: tuple[float | None, ...] = (1.0, 4.0, None)
#: at ``instant`` speed the player lets a frame through this often (seconds)
FRAME = 1 / 30


@dataclass
class Checkpoint:
    """What the screen held at a position (see the module docstring)."""

    chat: Any
    trace: Any
    status: dict[str, Any]
    top_run: str | None
    run_id: str | None
    pods: Any
    logs: Any
    #: the latest usage report of each agent (the gauge sums them)
    usage: dict[str, Any]


def _speed_label(speed: float | None) -> str:
    return "instant" if speed is None else f"{speed:g}×"


class ReplayApp(OpsConsoleApp):
    """The console in replay mode (read-only; see the module docstring)."""

    # priority: the player's keys win over scrolling and the (disabled) chat input
    BINDINGS = [
        Binding(
            "space",
            "toggle_play",
            "Play/Pause",
            id="replay.play",
            tooltip="Play or pause",
            priority=True,
        ),
        Binding(
            "right,period",
            "step(1)",
            "Step",
            id="replay.forward",
            tooltip="One step on",
            priority=True,
        ),
        Binding(
            "left,comma",
            "step(-1)",
            "Back",
            id="replay.back",
            tooltip="One step back",
            priority=True,
        ),
        Binding("s", "speed", "Speed", id="replay.speed", tooltip="Speed: 1×, 4×, instant"),
        Binding("n", "next_question", "Next Q", id="replay.next", tooltip="Jump to next question"),
    ]

    def __init__(
        self, settings: Settings, session: Any, *, speed: float | None = 1.0, frozen: bool = False
    ) -> None:
        from opsconsole.sessions.replay import ReplayCursor

        super().__init__(settings, AppOptions(connect=False, frozen=frozen))
        self.replaying = True
        self.session = session
        self.cursor = ReplayCursor(session)
        self.speed = speed
        self.playing = True
        #: positions before each top-level question (and 0): a checkpoint may be kept there
        self._run_starts = {0, *(run.first_step for run in self.cursor.runs)}
        self._checkpoints: dict[int, Checkpoint] = {}
        #: the pod / log snapshot entries shown
        self._pods_shown: Any = None
        self._logs_shown: Any = None

    async def on_ready(self) -> None:
        # (OpsConsoleApp.on_ready also runs: Textual calls the handler of every class in the
        # MRO; with connect=False it builds no backend)
        main = self.main
        await main.mount_panes()
        status = main.status
        header = self.session.header
        status.context = str(header.get("context") or "—")
        status.model = str(header.get("model") or "—")
        status.offline = bool(header.get("offline"))
        status.sandbox = bool(header.get("sandbox"))
        for warning in getattr(self.session, "warnings", []) or []:
            self.notify(str(warning), title="session file", severity="warning", timeout=10)
        main.chat.input.placeholder = "replay: read-only (space play/pause, ←/→ step, s speed)"
        main.chat.input.disabled = True
        main.trace.focus()
        await main.chat.add_notice(
            f"Replaying session {self.session.session_id} ({len(self.cursor.steps)} steps): "
            "no model and no cluster are contacted."
        )
        self._show_position()
        self.player()

    # ---- playing ------------------------------------------------------------------------

    @work(exclusive=True, group="replay", exit_on_error=False)
    async def player(self) -> None:
        cursor = self.cursor
        frame = time.perf_counter()
        while self.playing and not cursor.at_end:
            delay = cursor.delay_before(cursor.position, self.speed)
            if delay:
                await asyncio.sleep(delay)
            elif time.perf_counter() - frame > FRAME:
                await asyncio.sleep(0.001)  # instant: let a frame show where it got to
                frame = time.perf_counter()
            if not self.playing or not await self._forward():
                break
            self._show_position()
        self.playing = False
        self._show_position()

    async def _forward(self) -> bool:
        """Apply the next step (keeping a checkpoint before a question); False at the end."""
        cursor = self.cursor
        position = cursor.position
        if position in self._run_starts and position not in self._checkpoints:
            checkpoint = self._checkpoint()
            if checkpoint is not None:
                self._checkpoints[position] = checkpoint
        step = cursor.forward()
        if step is None:
            return False
        await self.apply(cursor.entries_of(step))
        return True

    def _checkpoint(self) -> Checkpoint | None:
        main = self.main
        chat = main.chat.checkpoint()
        if chat is None:
            return None
        return Checkpoint(
            chat=chat,
            trace=main.trace.checkpoint(),
            status=main.status.snapshot(),
            top_run=self.bridge._top_run,
            usage=dict(self.bridge._usage),
            run_id=self.bridge.run_id,
            pods=self._pods_shown,
            logs=self._logs_shown,
        )

    def _restore(self, checkpoint: Checkpoint) -> None:
        main = self.main
        main.chat.restore(checkpoint.chat)
        main.trace.restore(checkpoint.trace)
        main.status.restore(checkpoint.status)
        self.bridge._top_run = checkpoint.top_run
        self.bridge._usage = dict(checkpoint.usage)
        self.bridge.run_id = checkpoint.run_id
        if checkpoint.pods is not self._pods_shown:
            self._show_pods(checkpoint.pods)
        if checkpoint.logs is not self._logs_shown:
            self._show_logs(checkpoint.logs)

    async def seek(self, position: int) -> None:
        """Show the screen at ``position``: from the checkpoint before it (back) or from
        here (on), applying the steps in between."""
        cursor = self.cursor
        position = max(0, min(len(cursor.steps), position))
        if position < cursor.position:
            start = max(p for p in self._checkpoints if p <= position)
            self._restore(self._checkpoints[start])
            cursor.seek(start)
        while cursor.position < position and await self._forward():
            pass
        self._show_position()

    async def apply(self, entries: list[Any]) -> None:
        """Feed recorded entries to the widgets, as the live bridge does."""
        from opsconsole.agent.events import RunStarted

        main = self.main
        for entry in entries:
            event = entry.event
            if entry.kind == "event" and event is not None:
                if isinstance(event, RunStarted) and not event.parent_run_id:
                    self.bridge._top_run = None  # a new question: a new top-level run
                    if main.chat.streaming:  # the last run never ended (the app was killed)
                        await main.chat.end_run()
                    await main.chat.add_user(event.task.split("\n\n", 1)[0])
                    await main.trace.add_run(event.task.splitlines()[0] if event.task else "")
                await self.bridge.handle(event)
            elif entry.kind == "snapshot" and entry.data:
                kind = entry.data.get("kind")
                if kind == "pods":
                    self._show_pods(entry)
                elif kind == "logs":
                    self._show_logs(entry)

    def _show_pods(self, entry: Any) -> None:
        from opsconsole.sessions.replay import pod_rows_from_snapshot

        self._pods_shown = entry
        pods = self.main.pods
        data = entry.data if entry is not None else {}
        pods.set_namespace(data.get("namespace"))
        pods.set_rows(pod_rows_from_snapshot(data) if data else [])

    def _show_logs(self, entry: Any) -> None:
        self._logs_shown = entry
        logs = self.main.logs
        data = entry.data if entry is not None else {}
        logs.set_source(
            str(data.get("namespace") or ""),
            str(data.get("pod") or ""),
            data.get("container"),
            live=False,
        )
        if data:
            logs.append_lines(list(data.get("lines") or []))

    def _show_position(self) -> None:
        cursor = self.cursor
        state = "▶ playing" if self.playing else "⏸ paused"
        if cursor.at_end:
            state = "■ end"
        self.main.status.state = (
            f"replay {cursor.position}/{len(cursor.steps)} {state} {_speed_label(self.speed)}"
        )

    # ---- keys ---------------------------------------------------------------------------

    async def action_toggle_play(self) -> None:
        if self.playing:
            self.playing = False
            self.workers.cancel_group(self, "replay")
        else:
            if self.cursor.at_end:
                await self.seek(0)
            self.playing = True
            self.player()
        self._show_position()

    async def action_step(self, delta: int) -> None:
        self.playing = False
        self.workers.cancel_group(self, "replay")
        await self.seek(self.cursor.position + delta)

    def action_speed(self) -> None:
        index = SPEEDS.index(self.speed) if self.speed in SPEEDS else 0
        self.speed = SPEEDS[(index + 1) % len(SPEEDS)]
        self._show_position()

    async def action_next_question(self) -> None:
        current = self.cursor.current_run()
        runs = self.cursor.runs
        index = runs.index(current) + 1 if current in runs else 0
        if index >= len(runs):
            return
        self.playing = False
        self.workers.cancel_group(self, "replay")
        await self.seek(runs[index].first_step + 1)


def build_replay_app(
    settings: Settings, session: Any, *, speed: float | None = 1.0, frozen: bool = False
) -> ReplayApp:
    """The replay console for a :class:`opsconsole.sessions.reader.Session`."""
    return ReplayApp(settings, session, speed=speed, frozen=frozen)
