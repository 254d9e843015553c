"""Markdown answers as lines for a :class:`~opsconsole.ui.widgets.virtual_list.VirtualList`.

An answer is cut into *segments* at block boundaries (a blank line outside a code fence, after
:data:`SEGMENT_LINES` lines; at any line after :data:`SEGMENT_MAX_LINES` lines or
:data:`SEGMENT_MAX_CHARS` characters, closing and reopening a fence that is cut), as it
streams: each segment is parsed and rendered once, so a streaming answer costs the text that
arrived, not the whole answer per token, and a long one renders only the segments it shows.

Parsed with markdown-it (as Rich's renderer expects) *without raw HTML*: with HTML on,
``<pod>`` or ``<namespace>`` in an answer is a tag and vanishes from the screen. Rendered with
Rich's Markdown elements, headings left-aligned and the colours from the list's component
classes (so they follow the theme).
"""

from __future__ import annotations

from collections import OrderedDict
from functools import lru_cache
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from rich.theme import Theme
    from textual.strip import Strip

    from opsconsole.ui.widgets.virtual_list import RenderContext

#: a segment closes at the first block boundary after this many lines
SEGMENT_LINES = 24
#: ... and at any line after this many lines or characters (a fence is closed and reopened)
SEGMENT_MAX_LINES = 120
SEGMENT_MAX_CHARS = 8_000

#: the component classes (``<prefix>--md-<name>``) markdown is drawn with
MARKDOWN_STYLES = {
    "h1": "markdown.h1",
    "h2": "markdown.h2",
    "h3": "markdown.h3",
    "h4": "markdown.h4",
    "h5": "markdown.h5",
    "h6": "markdown.h6",
    "code": "markdown.code",
    "link": "markdown.link",
    "link-url": "markdown.link_url",
    "quote": "markdown.block_quote",
    "hr": "markdown.hr",
    "item": "markdown.item.bullet",
    "number": "markdown.item.number",
    "table-border": "markdown.table.border",
    "table-header": "markdown.table.header",
}


def markdown_css(prefix: str) -> str:
    """CSS for a list's markdown component classes (theme variables only)."""
    rules = {
        f"h{n}": f"color: $markdown-h{n}-color; text-style: $markdown-h{n}-text-style;"
        for n in range(1, 7)
    }
    rules |= {
        "code": "color: $text-accent; background: $boost;",
        "code-block": "background: $boost;",
        "link": "color: $text-primary; text-style: underline;",
        "link-url": "color: $text-muted;",
        "quote": "color: $text-muted;",
        "hr": "color: $foreground 30%;",
        "item": "color: $text-accent;",
        "number": "color: $text-accent;",
        "table-border": "color: $foreground 30%;",
        "table-header": "text-style: bold;",
    }
    return "\n".join(f"& > .{prefix}--md-{name} {{ {rule} }}" for name, rule in rules.items())


def markdown_classes(prefix: str) -> set[str]:
    return {f"{prefix}--md-{name}" for name in (*MARKDOWN_STYLES, "code-block")}


@lru_cache(maxsize=1)
def parser() -> Any:
    """CommonMark with tables and strikethrough (as Rich parses it), without raw HTML; no
    linkify or typographer (they doubled the parse time, and links are shown as text)."""
    from markdown_it import MarkdownIt

    return MarkdownIt("commonmark", {"html": False}).enable("table").enable("strikethrough")


@lru_cache(maxsize=1)
def _markdown_type() -> Any:
    """Rich's Markdown parsed by :func:`parser` (no raw HTML), with our headings and code
    blocks (defined on first use: rich.markdown loads markdown-it)."""
    from rich.console import Console, ConsoleOptions, RenderResult
    from rich.markdown import CodeBlock, Heading, Markdown
    from rich.syntax import Syntax

    class _Heading(Heading):
        """Headings left-aligned: a narrow pane has no room for centred titles."""

        def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
            text = self.text.copy()
            text.justify = "left"
            yield text

    class _CodeBlock(CodeBlock):
        """A code block on the theme's code background, wrapped to the width."""

        background: str | None = None

        @classmethod
        def create(cls, markdown: Markdown, token: Any) -> _CodeBlock:
            lexer = (token.info or "").partition(" ")[0]
            block = cls(lexer or "text", markdown.code_theme)
            block.background = getattr(markdown, "code_background", None)
            return block

        def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
            yield Syntax(
                str(self.text).rstrip(),
                self.lexer_name,
                theme=self.theme,
                word_wrap=True,
                padding=(0, 1),
                background_color=self.background,
            )

    class AnswerMarkdown(Markdown):
        elements = {
            **Markdown.elements,
            "heading_open": _Heading,
            "fence": _CodeBlock,
            "code_block": _CodeBlock,
        }

        def __init__(self, text: str, *, dark: bool, code_background: str | None) -> None:
            super().__init__("", code_theme="monokai" if dark else "default", hyperlinks=False)
            self.markup = text
            self.parsed = parser().parse(text)
            self.code_background = code_background

    return AnswerMarkdown


def markdown_theme(ctx: RenderContext) -> Theme:
    """Rich's markdown styles from the list's component classes."""
    from rich.theme import Theme

    return Theme(
        {rich_name: ctx.style(f"md-{name}") for name, rich_name in MARKDOWN_STYLES.items()},
        inherit=True,
    )


#: rendered segments kept per list and theme, by (text, width): a segment shown again (the
#: same answer after a replay steps back, a zoom and back) is not parsed again
RENDER_CACHE = 256


def render_markdown(ctx: RenderContext, text: str, width: int) -> list[Strip]:
    """``text`` as Markdown lines at ``width``."""
    if not text.strip():
        return []
    cache: OrderedDict[tuple[str, int], list[Strip]] | None = ctx.memo.get("markdown-lines")
    if cache is None:
        cache = ctx.memo["markdown-lines"] = OrderedDict()
    key = (text, width)
    lines = cache.get(key)
    if lines is not None:
        cache.move_to_end(key)
        return list(lines)
    theme = ctx.memo.get("markdown-theme")
    if theme is None:
        theme = ctx.memo["markdown-theme"] = markdown_theme(ctx)
    background = ctx.style("md-code-block").bgcolor
    code_bg = background.name if background is not None else None
    md = _markdown_type()(text, dark=ctx.dark, code_background=code_bg)
    with ctx.console.use_theme(theme):
        lines = ctx.lines(md, width)
    cache[key] = lines
    if len(cache) > RENDER_CACHE:
        cache.popitem(last=False)
    return list(lines)


def _fence_marker(stripped: str) -> str | None:
    """The fence a line opens (```` ``` ```` or ``~~~``, 3 or more), if it opens one."""
    if not stripped or stripped[0] not in "`~":
        return None
    char = stripped[0]
    count = len(stripped) - len(stripped.lstrip(char))
    if count < 3 or (char == "`" and "`" in stripped[count:]):
        return None
    return char * count


class Segmenter:
    """Cuts Markdown into segments as it arrives (see the module docstring)."""

    def __init__(self) -> None:
        self.segments: list[str] = []
        #: source lines in each segment (a reopened fence line is not one)
        self.segment_lines: list[int] = []
        self.lines = 0
        self._open: list[str] = []
        self._open_source = 0
        self._chars = 0
        self._partial = ""
        self._fence: str | None = None
        self._fence_line = ""
        self._cut_pending = False

    def feed(self, text: str) -> None:
        if not text:
            return
        if "\n" not in text:
            self._partial += text
        else:
            parts = (self._partial + text).split("\n")
            self._partial = parts.pop()
            for line in parts:
                self._line(line)
        if len(self._partial) > SEGMENT_MAX_CHARS:  # one very long line: cut it as a line
            partial, self._partial = self._partial, ""
            self._line(partial)

    def finish(self) -> None:
        """The text is complete: close the open segment."""
        if self._partial:
            partial, self._partial = self._partial, ""
            self._line(partial)
        self._close()

    @property
    def open_text(self) -> str:
        """The text after the last closed segment (it may still grow)."""
        if not self._open:
            return self._partial
        return "\n".join(self._open) + "\n" + self._partial

    @property
    def open_lines(self) -> int:
        return self._open_source + (1 if self._partial else 0)

    @property
    def total_lines(self) -> int:
        return self.lines + (1 if self._partial else 0)

    def _line(self, line: str) -> None:
        stripped = line.lstrip()
        if self._fence is not None:
            if stripped.startswith(self._fence) and not stripped.strip(self._fence[0]).strip():
                self._fence = None
        else:
            if self._cut_pending and stripped:
                self._cut_pending = False
                if line[:1] not in (" ", "\t"):  # not a continuation of a list item
                    self._close()
            marker = _fence_marker(stripped)
            if marker is not None:
                self._fence, self._fence_line = marker, line
        self._open.append(line)
        self._open_source += 1
        self._chars += len(line) + 1
        self.lines += 1
        if self._fence is None and not stripped and self._open_source >= SEGMENT_LINES:
            self._cut_pending = True
        if self._open_source >= SEGMENT_MAX_LINES or self._chars >= SEGMENT_MAX_CHARS:
            self._close(forced=True)

    def _close(self, *, forced: bool = False) -> None:
        self._cut_pending = False
        if not self._open_source:
            return
        text = "\n".join(self._open) + "\n"
        reopen: list[str] = []
        if self._fence is not None:
            text += self._fence + "\n"  # cut inside a fence: close it here, reopen it next
            if forced:
                reopen = [self._fence_line]
            else:
                self._fence = None
        self.segments.append(text)
        self.segment_lines.append(self._open_source)
        self._open = reopen
        self._open_source = 0
        self._chars = sum(len(line) + 1 for line in reopen)


def segments_of(text: str) -> Segmenter:
    """The segments of a complete text."""
    seg = Segmenter()
    seg.feed(text)
    seg.finish()
    return seg
