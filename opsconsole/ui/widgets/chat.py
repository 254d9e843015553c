"""The chat pane: the conversation (Markdown answers streamed in) and an input with history.

The conversation is one :class:`ChatLog` (a :class:`~opsconsole.ui.widgets.virtual_list.
VirtualList`): however long it gets, a keypress or a new message costs what the screen shows.
A long answer is collapsed to its head and its end, with a line saying how much is between;
Enter or a click opens the whole answer in a scrollable window. A streaming answer is parsed
segment by segment as it arrives (:mod:`opsconsole.ui.widgets.markdown_lines`) and redrawn at
most :data:`STREAM_REFRESH` times a second, so a 5 MB answer streams and finishes like a short
one. The Markdown code is imported on the first answer, not at startup: it pulls in
markdown-it, which has no business on the path to the first frame.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar

from rich.padding import Padding
from rich.text import Text
from textual import events
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.widgets import Button, Input, Static

from opsconsole.ui.messages import ShowOutput, StopRequested, SubmitTask
from opsconsole.ui.widgets.markdown_lines import markdown_classes, markdown_css
from opsconsole.ui.widgets.virtual_list import Node, RenderContext, Rendered, VirtualList

if TYPE_CHECKING:
    from textual.strip import Strip
    from textual.timer import Timer

    from opsconsole.ui.widgets.markdown_lines import Segmenter

#: redraws of a streaming answer per second (the text arrives in between, cheaply)
STREAM_REFRESH = 12
#: an answer longer than this is collapsed to its head and its end
COLLAPSE_LINES = 120
COLLAPSE_CHARS = 12_000
#: rows shown of a collapsed answer: its first ones and its last ones
HEAD_ROWS = 24
TAIL_ROWS = 10


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
    """The welcome text of the first frame, where the chat shows it a moment later."""

    DEFAULT_CSS = """
    ChatEntry { margin: 0 0 1 0; }
    """


def human_size(chars: int) -> str:
    """A length for people: 812 chars, 12.3 KB, 4.8 MB (characters, roughly bytes)."""
    if chars < 1000:
        return f"{chars} chars"
    if chars < 1_000_000:
        return f"{chars / 1000:.1f} KB"
    return f"{chars / 1_000_000:.1f} MB"


class EntryItem(Node):
    """One user message, notice or error line in the conversation."""

    def __init__(self, text: Text, kind: str = "notice", level: str = "info") -> None:
        super().__init__()
        self.text = text
        self.kind = kind  # user | notice
        self.level = level  # info | warning | error

    @property
    def classes(self) -> str:
        return self.kind if self.kind == "user" else f"notice -{self.level}"

    def plain(self) -> str:
        return self.text.plain

    def estimate(self, width: int) -> int:
        if self._renders:
            return super().estimate(width)
        return 2 + self.text.cell_len // max(1, width - 2)

    def render(self, width: int, ctx: RenderContext) -> Rendered:
        if self.kind == "user":
            lines = ctx.lines(Padding(self.text, (0, 1)), width, ctx.style("user"))
        else:
            style = ctx.style("notice" if self.level == "info" else self.level)
            lines = ctx.lines(self.text, width, style)
        return Rendered([*lines, ctx.blank(width)])  # a blank line between messages


class AnswerItem(Node):
    """A Markdown answer: streamed in segment by segment, collapsed when long."""

    def __init__(self, text: str = "", *, streaming: bool = False) -> None:
        super().__init__()
        from opsconsole.ui.widgets.markdown_lines import Segmenter

        self.streaming = streaming
        self._segmenter: Segmenter = Segmenter()
        self._chunks: list[str] = []
        self.chars = 0
        #: rendered segments: index -> (width, theme generation, lines)
        self._segment_lines: dict[int, tuple[int, int, list[Strip]]] = {}
        if text:
            self.feed(text)
        if not streaming:
            self._segmenter.finish()

    # -- content ---------------------------------------------------------------------------
    def feed(self, delta: str) -> None:
        """More streamed text (shown at the next :meth:`Node.changed`)."""
        self._chunks.append(delta)
        self.chars += len(delta)
        self._segmenter.feed(delta)

    def _streamed(self, text: str) -> bool:
        """``text`` is what streamed in (compared without joining 5 MB when it obviously is:
        the same length, the same first and last pieces; else up to surrounding blanks)."""
        chunks = self._chunks
        if chunks and len(text) == self.chars:
            if text.startswith(chunks[0]) and text.endswith(chunks[-1]):
                return True
        return text.strip() == self.source.strip()

    def finish(self, text: str | None = None) -> None:
        """The answer is complete; ``text`` is the final answer if it differs from the stream."""
        if text and not text.isspace() and not self._streamed(text):
            from opsconsole.ui.widgets.markdown_lines import Segmenter

            self._segmenter = Segmenter()
            self._segment_lines.clear()
            self._chunks, self.chars = [], 0
            self.feed(text)
        self._segmenter.finish()
        self.streaming = False
        self.changed()

    @property
    def source(self) -> str:
        """The whole Markdown text (so far, while streaming)."""
        if len(self._chunks) > 1:
            self._chunks = ["".join(self._chunks)]
        return self._chunks[0] if self._chunks else ""

    @property
    def segments(self) -> list[str]:
        """The Markdown segments (closed ones, and the open one while streaming)."""
        seg = self._segmenter
        tail = seg.open_text
        return [*seg.segments, tail] if tail.strip() else list(seg.segments)

    @property
    def lines(self) -> int:
        return self._segmenter.total_lines

    @property
    def collapsed(self) -> bool:
        return self.lines > COLLAPSE_LINES or self.chars > COLLAPSE_CHARS

    def plain(self) -> str:
        return self.source

    def targets(self) -> list[Any]:
        return [self] if self.collapsed else []

    def estimate(self, width: int) -> int:
        if self._renders:
            return super().estimate(width)
        if self.collapsed:
            return HEAD_ROWS + TAIL_ROWS + 5
        return 1 + self.lines + self.chars // max(1, width)

    def forget(self) -> int:
        self._segment_lines.clear()
        return super().forget()

    # -- drawing ---------------------------------------------------------------------------
    def _segment(self, index: int, text: str, width: int, ctx: RenderContext) -> list[Strip]:
        from opsconsole.ui.widgets.markdown_lines import render_markdown

        closed = index < len(self._segmenter.segments)
        hit = self._segment_lines.get(index) if closed else None
        if hit is not None and hit[0] == width and hit[1] == ctx.generation:
            return hit[2]
        lines = render_markdown(ctx, text, width)
        if closed:
            self._segment_lines[index] = (width, ctx.generation, lines)
        return lines

    def _draw(
        self,
        indexes: list[int],
        texts: list[str],
        width: int,
        ctx: RenderContext,
        out: list[Strip] | None = None,
    ) -> list[Strip]:
        """The segments' lines (after ``out``), a blank line between two segments."""
        out = list(out or [])
        for index in indexes:
            lines = self._segment(index, texts[index], width, ctx)
            if lines:
                if out:
                    out.append(ctx.blank(width))
                out += lines
        return out

    def render(self, width: int, ctx: RenderContext) -> Rendered:
        texts = self.segments
        if not self.collapsed:
            lines = self._draw(list(range(len(texts))), texts, width, ctx)
            return Rendered([*lines, ctx.blank(width)])
        # the first HEAD_ROWS rows and the last TAIL_ROWS rows, drawn from the segments
        # they need only (a 5 MB answer draws a few segments, not 5 MB)
        head: list[Strip] = []
        index = 0
        while index < len(texts) and len(head) < HEAD_ROWS:
            head = self._draw([index], texts, width, ctx, head)
            index += 1
        tail: list[Strip] = []
        index = len(texts) - 1
        while index >= 0 and len(tail) < TAIL_ROWS:
            tail = [
                *self._draw([index], texts, width, ctx),
                *([ctx.blank(width)] if tail else []),
                *tail,
            ]
            index -= 1
        if self.streaming:
            note = f"⋯ streaming: {self.lines:,} lines so far ({human_size(self.chars)})"
        else:
            note = f"⋯ {self.lines:,} lines ({human_size(self.chars)}) · Enter: the whole answer"
        marker = ctx.lines(Text(note), width, ctx.style("marker"))
        lines = [*head[:HEAD_ROWS], ctx.blank(width), *marker, ctx.blank(width)]
        lines += tail[-TAIL_ROWS:]
        return Rendered([*lines, ctx.blank(width)], [(0, len(lines), self)])


class ChatLog(VirtualList):
    """The conversation: user messages, notices and answers (see the module docstring)."""

    COMPONENT_PREFIX = "chat-log"
    COMPONENT_CLASSES: ClassVar[set[str]] = {
        "chat-log--cursor",
        "chat-log--user",
        "chat-log--notice",
        "chat-log--warning",
        "chat-log--error",
        "chat-log--marker",
        *markdown_classes("chat-log"),
    }

    DEFAULT_CSS = f"""
    ChatLog {{
        background: transparent;
        scrollbar-gutter: stable;
        & > .chat-log--cursor {{ background: $accent-muted; }}
        & > .chat-log--user {{ color: $text; text-style: bold; background: $boost; }}
        & > .chat-log--notice {{ color: $text-muted; }}
        & > .chat-log--warning {{ color: $text-warning; }}
        & > .chat-log--error {{ color: $text-error; }}
        & > .chat-log--marker {{ color: $text-accent; text-style: italic; }}
        {markdown_css("chat-log")}
    }}
    """

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding(
            "enter,o",
            "open_answer",
            "Whole answer",
            id="chat.open_answer",
            tooltip="Open the whole text of the collapsed answer on screen",
        ),
    ]

    @property
    def answers(self) -> list[AnswerItem]:
        return [item for item in self.items if isinstance(item, AnswerItem)]

    def activate(self, target: Any) -> None:
        if isinstance(target, AnswerItem):
            title = "Answer" + (" (still streaming)" if target.streaming else "")
            self.post_message(ShowOutput(title, target.source, markdown=True))

    def action_open_answer(self) -> None:
        """The lowest collapsed answer on screen (or the last one) opens whole."""
        self.prepare()
        top = round(self.scroll_y)
        bottom = top + max(1, self.scrollable_content_region.height) - 1
        last = self._locate(bottom)[0] if self.items else -1
        first = self._locate(top)[0] if self.items else 0
        for index in range(last, first - 1, -1):
            item = self.items[index]
            if isinstance(item, AnswerItem) and item.collapsed:
                self.activate(item)
                return
        for item in reversed(self.items):
            if isinstance(item, AnswerItem) and item.collapsed:
                self.activate(item)
                return


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
        self._answer: AnswerItem | None = None
        self._refresh_timer: Timer | None = None
        self.context_lines: list[str] = []
        self.context_source = ""

    def compose(self) -> ComposeResult:
        log = ChatLog(id="chat-log")
        log.align_bottom = True  # the newest message just above the input
        log.append(EntryItem(self.welcome(), "notice"))
        yield log
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

    @property
    def log_view(self) -> ChatLog:
        return self.query_one("#chat-log", ChatLog)

    @property
    def input(self) -> ChatInput:
        return self.query_one(ChatInput)

    @property
    def streaming(self) -> bool:
        """An answer is streaming in."""
        return self._answer is not None

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

    async def add_user(self, text: str) -> None:
        line = Text()
        line.append("› ", style="bold")
        line.append(text)
        log = self.log_view
        log.append(EntryItem(line, "user"))
        # the user's own question: show it and follow the answer, wherever they had scrolled
        log.follow()

    async def add_notice(self, text: str, level: str = "info") -> None:
        self.log_view.append(EntryItem(Text(text), "notice", level))

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

    async def append_answer(self, delta: str) -> None:
        """Stream a piece of text into the current answer (redrawn a few times a second)."""
        if not delta:
            return
        if self._answer is None:
            self._answer = AnswerItem(streaming=True)
            self.log_view.append(self._answer)
        self._answer.feed(delta)
        if self._refresh_timer is None:
            self._refresh_timer = self.set_timer(1 / STREAM_REFRESH, self._redraw_answer)

    def _redraw_answer(self) -> None:
        self._refresh_timer = None
        if self._answer is not None:
            self._answer.changed()

    def _stop_refresh(self) -> None:
        if self._refresh_timer is not None:
            self._refresh_timer.stop()
            self._refresh_timer = None

    async def discard_answer(self) -> None:
        """The streamed text turned out to be a Thought (tool calls followed): drop it here."""
        self._stop_refresh()
        if self._answer is not None:
            answer, self._answer = self._answer, None
            self.log_view.remove_item(answer)

    async def add_answer(self, text: str) -> None:
        """A complete earlier answer (a resumed session), not streamed."""
        self.log_view.append(AnswerItem(text))

    async def finish_answer(self, text: str) -> None:
        """The final answer: make sure the whole text is shown, then close the block."""
        self._stop_refresh()
        if self._answer is None:
            await self.add_answer(text)  # nothing was streamed (a non-streaming model)
            return
        answer, self._answer = self._answer, None
        answer.finish(text)

    async def end_run(self, note: str | None = None, level: str = "info") -> None:
        """Close any open answer (cancel / failure) and add a closing note."""
        self._stop_refresh()
        if self._answer is not None:
            answer, self._answer = self._answer, None
            answer.finish()
        if note:
            await self.add_notice(note, level)

    def checkpoint(self) -> tuple[int, list[str], str] | None:
        """The conversation's state between two questions (a replay steps back to it with
        :meth:`restore`); None while an answer streams (it still changes)."""
        if self._answer is not None:
            return None
        return (len(self.log_view.items), list(self.context_lines), self.context_source)

    def restore(self, checkpoint: tuple[int, list[str], str]) -> None:
        """Back to a :meth:`checkpoint`: what came after it goes."""
        count, lines, source = checkpoint
        self._stop_refresh()
        self._answer = None
        self.log_view.truncate(count)
        self.context_lines, self.context_source = list(lines), source

    async def clear(self) -> None:
        self._stop_refresh()
        self._answer = None
        log = self.log_view
        log.clear_items()
        log.append(EntryItem(self.welcome(), "notice"))
