"""A whole text in a scrollable view, drawn on demand: a tool's full output (plain text) or a
whole answer (Markdown). The text is cut into chunks (50 lines of plain text, or the Markdown
segments of :mod:`opsconsole.ui.widgets.markdown_lines`), items of a
:class:`~opsconsole.ui.widgets.virtual_list.VirtualList`: opening 5 MB renders one screenful.
"""

from __future__ import annotations

from typing import ClassVar

from rich.text import Text

from opsconsole.ui.widgets.markdown_lines import markdown_classes, markdown_css
from opsconsole.ui.widgets.virtual_list import Node, RenderContext, Rendered, VirtualList

CHUNK_LINES = 50


class TextChunk(Node):
    """Some lines of plain text (no markup), wrapped to the width."""

    def __init__(self, lines: list[str]) -> None:
        super().__init__()
        self.lines = lines

    def plain(self) -> str:
        return "\n".join(self.lines)

    def estimate(self, width: int) -> int:
        width = max(1, width)
        return sum(1 + len(line) // width for line in self.lines)

    def render(self, width: int, ctx: RenderContext) -> Rendered:
        return Rendered(ctx.lines(Text("\n".join(self.lines), no_wrap=False), width))


class MarkdownChunk(Node):
    """One Markdown segment."""

    def __init__(self, text: str, last: bool = False) -> None:
        super().__init__()
        self.text = text
        self.last = last

    def plain(self) -> str:
        return self.text

    def estimate(self, width: int) -> int:
        width = max(1, width)
        return sum(1 + len(line) // width for line in self.text.split("\n"))

    def render(self, width: int, ctx: RenderContext) -> Rendered:
        from opsconsole.ui.widgets.markdown_lines import render_markdown

        lines = render_markdown(ctx, self.text, width)
        if lines and not self.last:
            lines.append(ctx.blank(width))  # the blank line between blocks
        return Rendered(lines)


class TextView(VirtualList):
    """The view (see the module docstring); :meth:`load` fills it."""

    COMPONENT_PREFIX = "text-view"
    COMPONENT_CLASSES: ClassVar[set[str]] = {"text-view--cursor", *markdown_classes("text-view")}

    DEFAULT_CSS = f"""
    TextView {{
        background: transparent;
        {markdown_css("text-view")}
    }}
    """

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.following = False  # a text is read from its start

    def load(self, text: str, *, markdown: bool = False) -> None:
        self.clear_items()
        self.following = False
        if markdown:
            from opsconsole.ui.widgets.markdown_lines import segments_of

            segments = segments_of(text).segments
            for i, segment in enumerate(segments):
                self.append(MarkdownChunk(segment, last=i == len(segments) - 1))
        else:
            lines = text.split("\n")
            for start in range(0, len(lines), CHUNK_LINES):
                self.append(TextChunk(lines[start : start + CHUNK_LINES]))
