"""``opsconsole replay FILE``: a recorded session played in the console.

The chat, the trace, the status bar, the pod list and the log viewer fill as they did, from the
file only: no backend is built, so there are zero model calls and zero cluster calls (P8).
The steps and the cursor come from :mod:`opsconsole.sessions.replay`; this module only feeds
their entries to the same widgets the live console uses (through the same
:meth:`AgentBridge.handle`). Keys: space play / pause, → / ← step, ``s`` speed (1×, 4×,
instant), ``n`` next question.
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Any

from textual import work
from textual.binding import Binding

from opsconsole.ui.app import AppOptions, OpsConsoleApp

if TYPE_CHECKING:
    from opsconsole.config import Settings

SPEEDS: tuple[float | None, ...] = (1.0, 4.0, None)


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
        while self.playing and not cursor.at_end:
            delay = cursor.delay_before(cursor.position, self.speed)
            if delay:
                await asyncio.sleep(delay)
            step = cursor.forward()
            if step is None:
                break
            await self.apply(cursor.entries_of(step))
            self._show_position()
        self.playing = False
        self._show_position()

    async def apply(self, entries: list[Any]) -> None:
        """Feed recorded entries to the widgets, as the live bridge does."""
        from opsconsole.agent.events import RunStarted
        from opsconsole.sessions.replay import pod_rows_from_snapshot

        main = self.main
        for entry in entries:
            event = entry.event
            if entry.kind == "event" and event is not None:
                if isinstance(event, RunStarted) and not event.parent_run_id:
                    self.bridge._top_run = None  # a new question: a new top-level run
                    await main.chat.add_user(event.task.split("\n\n", 1)[0])
                    await main.trace.add_run(event.task.splitlines()[0] if event.task else "")
                await self.bridge.handle(event)
            elif entry.kind == "snapshot" and entry.data:
                data = entry.data
                if data.get("kind") == "pods":
                    main.pods.set_namespace(data.get("namespace"))
                    main.pods.set_rows(pod_rows_from_snapshot(data))
                elif data.get("kind") == "logs":
                    main.logs.set_source(
                        str(data.get("namespace") or ""),
                        str(data.get("pod") or ""),
                        data.get("container"),
                        live=False,
                    )
                    main.logs.append_lines(list(data.get("lines") or []))

    async def _redraw(self) -> None:
        """Show everything up to the cursor at once (after a step back or a jump)."""
        main = self.main
        await main.chat.clear()
        await main.trace.clear()
        self.bridge.reset_usage()
        self.bridge._top_run = None
        await self.apply(self.cursor.entries_until())
        self._show_position()

    def _show_position(self) -> None:
        cursor = self.cursor
        state = "▶ playing" if self.playing else "⏸ paused"
        if cursor.at_end:
            state = "■ end"
        self.main.status.state = (
            f"replay {cursor.position}/{len(cursor.steps)} {state} {_speed_label(self.speed)}"
        )

    # ---- keys ---------------------------------------------------------------------------

    def action_toggle_play(self) -> None:
        if self.playing:
            self.playing = False
            self.workers.cancel_group(self, "replay")
        else:
            if self.cursor.at_end:
                self.cursor.seek(0)
                self.call_later(self._redraw)
            self.playing = True
            self.player()
        self._show_position()

    async def action_step(self, delta: int) -> None:
        self.playing = False
        self.workers.cancel_group(self, "replay")
        if delta > 0:
            step = self.cursor.forward()
            if step is not None:
                await self.apply(self.cursor.entries_of(step))
        else:
            self.cursor.back()
            await self._redraw()
        self._show_position()

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
        self.cursor.seek_run(index)
        await self._redraw()


def build_replay_app(
    settings: Settings, session: Any, *, speed: float | None = 1.0, frozen: bool = False
) -> ReplayApp:
    """The replay console for a :class:`opsconsole.sessions.reader.Session`."""
    return ReplayApp(settings, session, speed=speed, frozen=frozen)
