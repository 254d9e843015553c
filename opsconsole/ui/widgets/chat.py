"""The chat pane: the conversation (Markdown answers streamed in) and an input with history.

The Markdown widget is imported on the first answer, not at startup: it pulls in markdown-it,
which has no business on the path to the first frame.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from rich.text import Text
from textual import events
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.widgets import Button, Input, Static

from opsconsole.ui.messages import StopRequested, SubmitTask

if TYPE_CHECKING:
    from textual.widgets import Markdown
    from textual.widgets._markdown import MarkdownStream


def _parser() -> Any:
    """Markdown as models write it, without raw HTML: with HTML on (Textual's default),
    ``<pod>`` or ``<namespace>`` in an answer is an HTML tag and vanishes from the screen."""
    from markdown_it import MarkdownIt

    return MarkdownIt("gfm-like", {"html": False})


class ChatInput(Input):
    """An Input with a history recalled by up / down."""

    BINDINGS = [
        Binding(
            "up",
            "history(-1)",
            "Previous",
            show=False,
            id="chat.history_previous",
            tooltip="Recall the previous question",
        ),
        Binding(
            "down",
            "history(1)",
            "Next",
            show=False,
            id="chat.history_next",
            tooltip="Recall the next question",
        ),
        Binding(
            "escape",
            "leave",
            "Leave input",
            id="chat.leave",
            tooltip="Leave the input for the chat log (one-key shortcuts work there; "
            "Esc again stops the agent)",
        ),
    ]

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.history: list[str] = []
        self._index = 0
        self._draft = ""
        self._loaded = False

    def _persist(self) -> bool:
        settings = getattr(self.app, "settings", None)
        return bool(settings is not None and settings.sessions.record)

    def _load(self) -> None:
        """Earlier launches' questions go before this one's (read on the first ↑, not on the
        way to the first frame)."""
        if self._loaded:
            return
        self._loaded = True
        if self._persist():
            from opsconsole.ui.history import load_history

            self.history = [*load_history(), *self.history]
            self._index = len(self.history)

    def remember(self, text: str) -> None:
        self._load()
        if text and (not self.history or self.history[-1] != text):
            self.history.append(text)
            if self._persist():
                from opsconsole.ui.history import append_history

                append_history(text)
        self._index = len(self.history)
        self._draft = ""

    #: editing keys a window that holds the keyboard may pass on (see :meth:`take_key`)
    _EDIT_KEYS = {
        "backspace": "delete_left",
        "delete": "delete_right",
        "left": "cursor_left",
        "right": "cursor_right",
        "home": "home",
        "end": "end",
    }

    def take_key(self, event: events.Key) -> str:
        """A key typed while another screen holds the keyboard (the approval window while it
        arms): a character is inserted, an editing key edits, others are ignored. Returns the
        text now in the input."""
        if event.is_printable and event.character:
            self.insert_text_at_cursor(event.character)
        elif event.key in self._EDIT_KEYS:
            getattr(self, f"action_{self._EDIT_KEYS[event.key]}")()
        return self.value

    def action_leave(self) -> None:
        pane = self.parent.parent if self.parent is not None else None
        if isinstance(pane, ChatPane):
            pane.log_view.focus()

    def action_history(self, delta: int) -> None:
        self._load()
        if not self.history:
            return
        if self._index == len(self.history):
            self._draft = self.value
        self._index = max(0, min(len(self.history), self._index + delta))
        self.value = self._draft if self._index == len(self.history) else self.history[self._index]
        self.cursor_position = len(self.value)


class ChatEntry(Static):
    """One user message, notice or error line in the conversation."""

    DEFAULT_CSS = """
    ChatEntry { margin: 0 0 1 0; }
    """


class ChatPane(Vertical):
    """Conversation log plus input. Talks to the app only through :class:`SubmitTask`."""

    DEFAULT_CSS = """
    ChatPane { height: 1fr; }
    ChatPane > #chat-log { height: 1fr; }
    """

    #: for the input too (the log has its own): PageUp / PageDown scroll the conversation
    BINDINGS = [
        Binding(
            "pageup",
            "page(-1)",
            "Page up",
            show=False,
            id="chat.page_up",
            tooltip="Scroll the conversation up a page",
        ),
        Binding(
            "pagedown",
            "page(1)",
            "Page down",
            show=False,
            id="chat.page_down",
            tooltip="Scroll the conversation down a page",
        ),
    ]

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._answer: Markdown | None = None
        self._stream: MarkdownStream | None = None
        self._answer_text = ""
        self.context_lines: list[str] = []
        self.context_source = ""

    def compose(self) -> ComposeResult:
        with VerticalScroll(id="chat-log"):
            yield ChatEntry(self.welcome(), id="chat-welcome", classes="notice")
        with Horizontal(id="chat-row"):
            yield ChatInput(placeholder="Ask the agent…  (/help for commands)", id="chat-input")
        # the Stop button is mounted with the first run (set_running): a Button's styles cost
        # ~10 ms to parse and apply, on the way to the first frame

    @staticmethod
    def welcome() -> Text:
        text = Text()
        text.append("opsconsole", style="bold")
        text.append(
            " — ask about your cluster in plain words, e.g. "
            "“查看 default 命名空间下所有 Pod 的状态” or “why is the api crashing?”. "
            "/help lists commands; F1 shows keys; 1–4 jump to a pane (outside the input)."
        )
        return text

    def on_mount(self) -> None:
        self.log_view.anchor()  # stay at the newest message until the user scrolls up

    @property
    def log_view(self) -> VerticalScroll:
        return self.query_one("#chat-log", VerticalScroll)

    @property
    def input(self) -> ChatInput:
        return self.query_one(ChatInput)

    def action_page(self, direction: int) -> None:
        log = self.log_view
        if direction < 0:
            log.scroll_page_up(animate=False)
        else:
            log.scroll_page_down(animate=False)

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        text = event.value.strip()
        if not text:
            self.input.value = ""  # only spaces: nothing to ask
            return
        self.input.remember(text)
        self.input.value = ""
        self.post_message(SubmitTask(text))

    def on_button_pressed(self, event: Button.Pressed) -> None:
        if event.button.id == "stop-button":
            event.stop()
            self.post_message(StopRequested())

    def set_running(self, running: bool) -> None:
        self.set_class(running, "-running")
        if running and not self.query("#stop-button"):
            self.query_one("#chat-row").mount(
                Button(
                    "■ Stop",
                    id="stop-button",
                    variant="error",
                    tooltip="Stop the agent (Esc; from the input Esc twice)",
                )
            )

    # ---- content ---------------------------------------------------------------------------

    async def _add(self, widget: Static | Any) -> None:
        log = self.log_view
        await log.mount(widget)
        if not log.is_anchored and log.scroll_offset.y >= log.max_scroll_y - 2:
            log.anchor()

    async def add_user(self, text: str) -> None:
        line = Text()
        line.append("› ", style="bold")
        line.append(text)
        await self._add(ChatEntry(line, classes="user"))
        # the user's own question: show it and follow the answer, wherever they had scrolled
        self.log_view.scroll_end(animate=False)
        self.log_view.anchor()

    async def add_notice(self, text: str, level: str = "info") -> None:
        await self._add(ChatEntry(Text(text), classes=f"notice -{level}"))

    async def add_context(self, lines: list[str], source: str = "") -> None:
        """Lines sent from the log viewer become context for the next question."""
        self.context_lines = list(lines)
        self.context_source = source
        await self.add_notice(
            f"{len(lines)} log line(s) attached as context for your next question.", "info"
        )

    def take_context(self) -> list[str]:
        lines, self.context_lines = self.context_lines, []
        self.context_source = ""
        return lines

    async def _ensure_answer(self) -> Markdown:
        if self._answer is None:
            from textual.widgets import Markdown

            self._answer = Markdown("", classes="answer -streaming", parser_factory=_parser)
            self._answer_text = ""
            await self._add(self._answer)
            self._stream = Markdown.get_stream(self._answer)
        return self._answer

    async def append_answer(self, delta: str) -> None:
        """Stream a piece of text into the current answer (batched by MarkdownStream)."""
        if not delta:
            return
        await self._ensure_answer()
        self._answer_text += delta
        assert self._stream is not None
        await self._stream.write(delta)

    async def _stop_stream(self) -> None:
        if self._stream is not None:
            stream, self._stream = self._stream, None
            await stream.stop()

    async def discard_answer(self) -> None:
        """The streamed text turned out to be a Thought (tool calls followed): drop it here."""
        await self._stop_stream()
        if self._answer is not None:
            answer, self._answer = self._answer, None
            await answer.remove()
        self._answer_text = ""

    async def add_answer(self, text: str) -> None:
        """A complete earlier answer (a resumed session), not streamed."""
        from textual.widgets import Markdown

        await self._add(Markdown(text, classes="answer", parser_factory=_parser))

    async def finish_answer(self, text: str) -> None:
        """The final answer: make sure the whole text is shown, then close the block."""
        await self._stop_stream()
        if self._answer is None:
            # nothing was streamed (a non-streaming model): show it whole. Opening a
            # MarkdownStream only to stop it at once never returns.
            await self.add_answer(text)
            self._answer_text = ""
            return
        md = self._answer
        if text and text.strip() != self._answer_text.strip():
            await md.update(text)
        md.remove_class("-streaming")
        self._answer = None
        self._answer_text = ""

    async def end_run(self, note: str | None = None, level: str = "info") -> None:
        """Close any open answer (cancel / failure) and add a closing note."""
        await self._stop_stream()
        if self._answer is not None:
            self._answer.remove_class("-streaming")
            self._answer = None
            self._answer_text = ""
        if note:
            await self.add_notice(note, level)

    async def clear(self) -> None:
        await self._stop_stream()
        self._answer = None
        self._answer_text = ""
        await self.log_view.remove_children()
        await self._add(ChatEntry(self.welcome(), classes="notice"))
