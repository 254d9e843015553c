"""OpsConsoleApp: composition and wiring only.

Nothing but Textual (and our light UI modules) is imported on the way to the first frame. The
backend (kubernetes and openai clients, the sandbox) is loaded in a thread worker started from
``on_ready``, i.e. after the first paint; the status bar says "connecting…" meanwhile.
The agent itself is driven by :class:`opsconsole.ui.bridge.AgentBridge`; cluster feeds (pod
watch, log follow) live in :mod:`opsconsole.ui.feeds`; slash commands and palette commands in
:mod:`opsconsole.ui.commands`.
"""

from __future__ import annotations

import gc
import os
import time
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any

from textual import on, work
from textual.app import App, SystemCommand
from textual.binding import Binding
from textual.screen import Screen
from textual.worker import Worker, WorkerState

from opsconsole.ui import messages as msg
from opsconsole.ui.screens.main import MainScreen
from opsconsole.ui.theming import apply_theme

if TYPE_CHECKING:
    from opsconsole.config import Settings
    from opsconsole.ui.bridge import AgentBridge
    from opsconsole.ui.feeds import Feeds


_HERE = Path(__file__).resolve().parent
#: startup benchmark: write the wall-clock time of the first frame to this file
FIRST_FRAME_FILE_ENV = "OPSCONSOLE_FIRST_FRAME_FILE"


@dataclass
class AppOptions:
    demo: bool = False
    offline: bool = False
    context: str | None = None
    namespace: str | None = None
    kubeconfig: str | None = None
    write: bool = False
    #: deterministic rendering for snapshots: no clock, no spinners
    frozen: bool = False
    #: exit as soon as the first frame is on screen (startup benchmark)
    exit_after_first_frame: bool = False
    #: connect the backend after the first frame (off only for tests of the bare shell)
    connect: bool = True
    #: the multi-agent Scheduler instead of a single agent loop
    multi_agent: bool = False
    #: a recorded session to continue (path, id or "last")
    resume: str | None = None
    #: with demo: a generated cluster of this many pods instead of the demo scenario
    pods: int | None = None


class OpsConsoleApp(App[int]):
    TITLE = "opsconsole"
    # main.tcss is listed here too: Textual does not load CSS_PATH of the default screen
    CSS_PATH = [_HERE / "app.tcss", _HERE / "screens" / "main.tcss"]
    BINDINGS = [
        Binding("escape", "stop", "Stop", id="app.stop", tooltip="Stop the running agent"),
        Binding("z,f2", "zoom", "Zoom", id="app.zoom", tooltip="Zoom the focused pane / restore"),
        Binding(
            "question_mark,f1", "help", "Help", id="app.help", tooltip="Show keys and commands"
        ),
        Binding(
            # ctrl+p is Textual's usual key; it must be listed here, since Textual adds its own
            # only when no binding runs the command palette
            "ctrl+p,colon",
            "command_palette",
            "Commands",
            id="app.command_palette",
            tooltip="Open the command palette (actions, themes)",
            show=False,  # the footer shows it on its right, as in every Textual app
        ),
        Binding(
            # not ctrl+w: in the chat input that deletes the word before the cursor
            "ctrl+t",
            "toggle_write",
            "Write mode",
            id="app.toggle_write",
            tooltip="Toggle write mode (mutating tools, each call approved)",
            show=False,
        ),
        Binding(
            "ctrl+l",
            "focus_chat",
            "Chat",
            id="app.focus_chat",
            tooltip="Focus the chat input",
            show=False,
        ),
        # one key per pane, in reading order (not while typing in an input)
        Binding(
            "1",
            "focus_pane('chat')",
            "Chat",
            id="app.focus_1",
            show=False,
            tooltip="Focus the chat pane",
        ),
        Binding(
            "2",
            "focus_pane('trace')",
            "Trace",
            id="app.focus_2",
            show=False,
            tooltip="Focus the trace pane",
        ),
        Binding(
            "3",
            "focus_pane('pods')",
            "Pods",
            id="app.focus_3",
            show=False,
            tooltip="Focus the pod list",
        ),
        Binding(
            "4",
            "focus_pane('logs')",
            "Logs",
            id="app.focus_4",
            show=False,
            tooltip="Focus the log viewer",
        ),
    ]

    def __init__(self, settings: Settings, options: AppOptions) -> None:
        super().__init__()
        self.settings = settings
        self.options = options
        self.backend: Any = None
        self._feed_errors: dict[tuple[str, str], float] = {}
        # the theme is chosen before the first stylesheet parse (not in on_mount, which
        # would parse and apply every rule twice on the way to the first frame)
        self._theme_warnings = apply_theme(self, settings.ui.theme)

    # the agent bridge (and its modals) and the cluster feeds are imported on first use,
    # after the first frame
    @cached_property
    def bridge(self) -> AgentBridge:
        from opsconsole.ui.bridge import AgentBridge

        return AgentBridge(self)

    @cached_property
    def feeds(self) -> Feeds:
        from opsconsole.ui.feeds import Feeds

        return Feeds(self)

    # ---- composition --------------------------------------------------------------------

    def get_default_screen(self) -> Screen:
        return MainScreen(
            frozen=self.options.frozen,
            log_max_lines=self.settings.ui.log_max_lines,
            status={
                "write_mode": self.settings.agent.write_mode or self.options.write,
                "namespace": self.options.namespace or self.settings.kubernetes.namespace,
                "sandbox": self.options.demo,
                "context": "…",
            },
        )

    @property
    def main(self) -> MainScreen:
        screen = self.screen_stack[0]
        assert isinstance(screen, MainScreen)
        return screen

    @property
    def has_main(self) -> bool:
        """Whether the main screen is still there: a feed's message can arrive while the app
        shuts down, after the screens are gone."""
        return bool(self.screen_stack) and isinstance(self.screen_stack[0], MainScreen)

    def on_mount(self) -> None:
        for warning in self._theme_warnings:
            self.notify(warning, severity="warning", timeout=8)
        if self.settings.ui.keymap:
            self.set_keymap(dict(self.settings.ui.keymap))
            self.call_after_refresh(self._check_keymap)

    def _check_keymap(self) -> None:
        from opsconsole.ui.commands import keymap_problems

        for problem in keymap_problems(dict(self.settings.ui.keymap)):
            self.notify(problem, severity="warning", timeout=10)

    async def on_ready(self) -> None:
        if not gc.isenabled():  # paused for the start by the CLI (cli._run_console)
            gc.freeze()  # what startup built lives as long as the app: later passes skip it
            gc.enable()
        stamp = os.environ.get(FIRST_FRAME_FILE_ENV)
        if stamp:  # startup benchmark: when the first frame was on screen; CPU used so far
            Path(stamp).write_text(f"{time.time()!r} {time.process_time()!r}")
        # the chat input first, on screen in the next frame; then the rest of the console
        await self.main.mount_chat()
        self.call_after_refresh(self._after_chat, stamp)

    async def _after_chat(self, stamp: str | None) -> None:
        if stamp:  # startup benchmark: when the chat input was on screen
            Path(stamp + ".interactive").write_text(f"{time.time()!r}")
        if self.options.exit_after_first_frame:
            self.exit(0)
            return
        await self.main.mount_panes()
        self.call_after_refresh(self._register_all_themes)
        if self.options.connect:
            self.connect_backend()

    def on_unmount(self) -> None:
        if "feeds" in self.__dict__:
            self.feeds.stop_all()
        if self.backend is not None:
            self.backend.close()

    def _register_all_themes(self) -> None:
        from opsconsole.ui.theming import register_all

        for warning in register_all(self):
            self.notify(warning, severity="warning", timeout=8)

    def get_system_commands(self, screen: Screen) -> Iterable[SystemCommand]:
        yield from super().get_system_commands(screen)
        from opsconsole.ui.commands import palette_commands

        yield from palette_commands(self)

    # ---- backend ------------------------------------------------------------------------

    @work(thread=True, exclusive=True, group="backend", exit_on_error=False)
    def connect_backend(self) -> None:
        from opsconsole.ui.backend import connect

        backend = connect(self.settings, self.options, self.bridge.approver)
        self.post_message(msg.BackendReady(backend))

    async def on_backend_ready(self, message: msg.BackendReady) -> None:
        self.backend = message.backend
        await self.bridge.backend_ready(message.backend)
        self.feeds.start_pods()
        gc.freeze()  # the backend's modules live as long as the app (see AgentBridge.run)

    # ---- agent --------------------------------------------------------------------------

    @on(msg.SubmitTask)
    async def submit(self, message: msg.SubmitTask) -> None:
        from opsconsole.ui.commands import run_slash

        if message.text.startswith("/"):
            await run_slash(self, message.text)
        else:
            await self.bridge.submit(message.text)

    @work(exclusive=True, group="agent", exit_on_error=False)
    async def run_agent(self, task: str) -> None:
        await self.bridge.run(task)

    def action_stop(self) -> None:
        if self.screen.maximized is not None and not self.bridge.running:
            self.screen.minimize()
            return
        self.bridge.stop()

    def on_stop_requested(self, _: msg.StopRequested) -> None:
        self.bridge.stop()

    def action_zoom(self) -> None:
        if isinstance(self.screen, MainScreen):
            self.screen.toggle_zoom()

    def action_help(self) -> None:
        from opsconsole.ui.commands import help_rows
        from opsconsole.ui.screens.help import HelpScreen

        if not isinstance(self.screen, HelpScreen):
            self.push_screen(HelpScreen(help_rows(self)))

    async def action_toggle_write(self) -> None:
        await self.bridge.set_write_mode(not self.main.status.write_mode)

    def action_focus_chat(self) -> None:
        self.main.chat.input.focus()

    def action_focus_pane(self, pane: str) -> None:
        if isinstance(self.screen, MainScreen):
            self.screen.focus_pane(pane)

    # ---- routing ------------------------------------------------------------------------

    def on_show_output(self, message: msg.ShowOutput) -> None:
        from opsconsole.ui.screens.modals import OutputModal

        self.push_screen(OutputModal(message.title, message.text, markdown=message.markdown))

    def on_show_pod(self, message: msg.ShowPod) -> None:
        self.feeds.show_pod(message.namespace, message.name)

    def on_pods_loaded(self, message: msg.PodsLoaded) -> None:
        if self.has_main:
            self.feeds.pods_loaded(message)

    def on_pods_changed(self, message: msg.PodsChanged) -> None:
        if self.has_main:
            self.feeds.pods_changed(message)

    def on_log_lines(self, message: msg.LogLines) -> None:
        if self.has_main:
            self.feeds.log_lines(message)

    # pod list and log viewer requests (their Messages, matched by name)

    def on_pod_list_open_logs(self, message: Any) -> None:
        row = message.row
        self.feeds.open_logs(row.namespace, row.name)
        self.main.zoom_to("logs")  # a zoomed pod list: show the logs asked for

    def on_pod_list_describe(self, message: Any) -> None:
        self.feeds.describe(message.row.namespace, message.row.name)

    async def on_log_view_send_to_agent(self, message: Any) -> None:
        lines = message.text.splitlines()
        source = f"pod={message.namespace}/{message.pod}"
        if message.container:
            source += f" container={message.container}"
        await self.main.chat.add_context(lines, source)
        self.main.chat.input.focus()

    def on_log_view_toggle_previous(self, message: Any) -> None:
        if message.namespace and message.pod:
            self.feeds.open_logs(
                message.namespace,
                message.pod,
                container=message.container,
                previous=message.previous,
            )

    def on_log_view_pick_container(self, message: Any) -> None:
        from opsconsole.ui.screens.modals import ContainerPickerModal

        view = message.log_view
        if not message.containers:
            self.notify("no containers known for this pod", severity="warning")
            return

        def picked(name: str | None) -> None:
            if name and view.namespace and view.pod:
                self.feeds.open_logs(view.namespace, view.pod, container=name)

        self.push_screen(ContainerPickerModal(message.containers, message.current), picked)

    def on_feed_failed(self, message: msg.FeedFailed) -> None:
        """A 403, an unreachable cluster...: a notification, at most once in 30 s per error."""
        import time

        if message.feed in ("pod watch", "pod list"):
            if self.main.query("#pod-list"):
                self.main.pods.set_stale(message.error)  # until fresh data clears it
        key = (message.feed, message.error)
        now = time.monotonic()
        if now - self._feed_errors.get(key, -1e9) < 30:
            return
        self._feed_errors[key] = now
        # markup=False: an API message such as "choose one of: [web envoy]" is text
        self.notify(
            message.error,
            title=f"{message.feed} failed",
            severity="error",
            timeout=8,
            markup=False,
        )

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        """The one place worker errors become notifications, never a traceback."""
        worker = event.worker
        if event.state == WorkerState.ERROR:
            error = worker.error
            text = str(error) if error is not None else "unknown error"
            if worker.group == "backend":
                self.main.show_banner(f"could not start: {text}")
                self.main.status.state = "error"
            elif worker.group == "agent":
                self.bridge.worker_failed(error)
            self.notify(
                text, title=f"{worker.group or worker.name} failed", severity="error", timeout=10
            )
        elif worker.group == "agent" and event.state == WorkerState.CANCELLED:
            self.bridge.worker_cancelled()
