"""The main screen: chat and trace on the left, pods and logs on the right, a status bar."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import Screen
from textual.widgets import Footer, Static

from opsconsole.ui.widgets.chat import ChatEntry, ChatPane
from opsconsole.ui.widgets.status_bar import StatusBar
from opsconsole.ui.widgets.trace import TracePane

if TYPE_CHECKING:
    from opsconsole.ui.widgets.log_view import LogView
    from opsconsole.ui.widgets.pod_list import PodList


class Pane(Vertical):
    """A titled, zoomable region of the main screen."""

    ALLOW_MAXIMIZE = True

    def __init__(self, title: str, *, id: str) -> None:
        super().__init__(id=id, classes="pane")
        self.border_title = title


class MainScreen(Screen[None]):
    """Four panes at 120×40: chat, trace, pods, logs. Zoom maximizes the focused pane."""

    # its CSS (main.tcss) is loaded by the app: see OpsConsoleApp.CSS_PATH

    #: Esc goes through the bindings (the focused input's own first: Esc in the pod filter
    #: closes the filter), then the app's, which un-zooms when no agent runs; Textual's
    #: default would un-zoom before any binding ran
    ESCAPE_TO_MINIMIZE = False

    #: Tab goes from pane to pane (chat, trace, pods, logs), not through every focusable
    #: widget (each step of the trace is one: Tab never got past it to the pods and logs)
    BINDINGS = [
        Binding(
            "tab",
            "cycle_pane(1)",
            "Next pane",
            show=False,
            id="app.next_pane",
            tooltip="Focus the next pane (chat, trace, pods, logs)",
        ),
        Binding(
            "shift+tab",
            "cycle_pane(-1)",
            "Previous pane",
            show=False,
            id="app.previous_pane",
            tooltip="Focus the previous pane",
        ),
    ]

    #: the chat input (mounted just after the first frame), not the first focusable widget
    #: (the trace): _chat_ready moves the focus there unless the user went elsewhere
    AUTO_FOCUS = "#chat-input"

    def __init__(
        self,
        *,
        frozen: bool = False,
        log_max_lines: int = 200_000,
        status: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(id="main")
        self.frozen = frozen
        self.log_max_lines = log_max_lines
        self.status_init = dict(status or {})

    def compose(self) -> ComposeResult:
        # What the first frame needs and no more: the four panes, the welcome text, the trace
        # and the status bar. The chat's input, the banner, the footer, the pod list and the
        # log viewer are mounted in the frames just after it (mount_panes, the chat first): an
        # Input alone costs as much as the rest of the first frame, the pod list and the log
        # viewer have nothing to show before the backend connects.
        with Horizontal(id="columns"):
            with Vertical(id="left"):
                with Pane("Chat", id="chat-pane"):
                    if self.app.is_headless:
                        # Pilot tests drive the chat the moment the app runs: no placeholder
                        yield ChatPane(id="chat")
                    else:
                        yield ChatEntry(ChatPane.welcome(), id="chat-placeholder", classes="notice")
                with Pane("Trace", id="trace-pane"):
                    yield TracePane(id="trace", timed=not self.frozen)
            with Vertical(id="right"):
                with Pane("Pods", id="pods-pane"):
                    yield Static("connecting…", id="pods-placeholder", classes="placeholder")
                yield Pane("Logs", id="logs-pane")
        yield StatusBar(id="status", frozen=self.frozen)

    def on_mount(self) -> None:
        status = self.status
        for key, value in self.status_init.items():
            setattr(status, key, value)
        if self.query(ChatPane):  # composed at once (headless)
            self._chat_ready(self.chat, take_focus=True)

    def _chat_ready(self, chat: ChatPane, *, take_focus: bool = False) -> None:
        """The chat input gets the focus, unless the user already moved it to another pane
        in the moment before the chat was mounted."""
        chat_input = chat.input
        if self.frozen:
            chat_input.cursor_blink = False
        elsewhere = self.focused is not None and self.pane_of(self.focused) is not None
        if take_focus or not elsewhere:
            chat_input.focus()

    async def mount_chat(self) -> None:
        """Mount the chat in place of the first frame's welcome text (once)."""
        if not self.query(ChatPane):
            chat = ChatPane(id="chat")
            await self.query_one("#chat-placeholder").remove()
            await self.query_one("#chat-pane").mount(chat)
            self._chat_ready(chat)

    async def mount_panes(self) -> None:
        """Mount the chat (if not yet), the banner, the footer, the pod list and the log
        viewer (called once, after the first frame)."""
        await self.mount_chat()
        if self.query("#pod-list"):
            return
        ns = self.status_init.get("namespace")
        # imported here, after the first frame
        from opsconsole.ui.widgets.log_view import LogView
        from opsconsole.ui.widgets.pod_list import PodList

        pods = PodList(id="pod-list", namespace=None if ns in (None, "", "all") else ns)
        logs = LogView(id="log-view", max_lines=self.log_max_lines)
        self._banner()
        await self.mount(Footer(id="footer"))
        self.refresh_bindings()  # the footer shows the keys of the focus it mounted into
        await self.query_one("#pods-placeholder").remove()
        await self.query_one("#pods-pane").mount(pods)
        await self.query_one("#logs-pane").mount(logs)

    def _banner(self) -> Static:
        found = self.query("#banner")
        if found:
            return found.first(Static)
        banner = Static("", id="banner", markup=False)
        self.mount(banner, before="#columns")
        return banner

    # ---- accessors used by the app's wiring ---------------------------------------------

    @property
    def chat(self) -> ChatPane:
        return self.query_one(ChatPane)

    @property
    def trace(self) -> TracePane:
        return self.query_one(TracePane)

    @property
    def status(self) -> StatusBar:
        return self.query_one(StatusBar)

    @property
    def pods(self) -> PodList:
        from opsconsole.ui.widgets.pod_list import PodList

        return self.query_one("#pod-list", PodList)

    @property
    def logs(self) -> LogView:
        from opsconsole.ui.widgets.log_view import LogView

        return self.query_one("#log-view", LogView)

    def show_banner(self, text: str | None, level: str = "error") -> None:
        banner = self._banner()
        banner.update(text or "")
        banner.set_class(bool(text), "-visible")
        banner.set_class(level == "error", "-error")
        banner.set_class(level == "warning", "-warning")

    _PANES = {
        "chat": "#chat-pane",
        "trace": "#trace-pane",
        "pods": "#pods-pane",
        "logs": "#logs-pane",
    }
    _FOCUS_FIRST = {"chat": "#chat-input", "pods": "#pod-list-table", "logs": "#log-view LogBody"}

    def focus_pane(self, name: str) -> None:
        """Move the focus into pane ``name`` (chat, trace, pods, logs)."""
        pane = self.query_one(self._PANES[name], Pane)
        preferred = self._FOCUS_FIRST.get(name)
        candidates = [*(self.query(preferred) if preferred else []), *pane.query("*")]
        target = next((w for w in candidates if w.focusable), None)
        if target is None and pane.focusable:
            target = pane
        if target is not None:
            target.focus()

    def action_cycle_pane(self, step: int) -> None:
        """Focus the next (``step`` 1) or previous (-1) pane, in reading order."""
        names = list(self._PANES)
        pane = self.pane_of(self.focused)
        by_id = {selector[1:]: name for name, selector in self._PANES.items()}
        current = by_id.get(pane.id or "") if pane is not None else None
        if current is None:
            self.focus_pane("chat" if step > 0 else names[-1])
            return
        self.focus_pane(names[(names.index(current) + step) % len(names)])

    @staticmethod
    def pane_of(widget: Any) -> Pane | None:
        node = widget
        while node is not None and not isinstance(node, Pane):
            node = node.parent
        return node

    def on_descendant_focus(self, event: Any) -> None:
        """While a pane is zoomed, focus that moves to another pane (ctrl+l, 1-4, sending log
        lines to the agent) takes the zoom with it: the user sees where they typed."""
        if self.maximized is None:
            return
        pane = self.pane_of(event.widget)
        if pane is not None and pane is not self.maximized:
            self.maximize(pane, container=False)

    def zoom_to(self, name: str) -> None:
        """If a pane is zoomed, zoom pane ``name`` instead (e.g. ``l`` in a zoomed pod list
        shows the logs)."""
        if self.maximized is not None:
            self.maximize(self.query_one(self._PANES[name], Pane), container=False)

    def toggle_zoom(self) -> None:
        """Maximize the pane holding the focus, or restore the layout."""
        if self.maximized is not None:
            self.minimize()
            return
        node = self.pane_of(self.focused)
        if node is None:
            node = self.query_one("#chat-pane", Pane)
        self.maximize(node, container=False)
