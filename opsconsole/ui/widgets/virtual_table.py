"""A virtual table: a Line API widget that renders only the visible rows of a row source.

Textual's ``DataTable`` measures every cell of every row it holds (docs/performance.md: 850 ms to
clear and re-add 10,000 rows). ``VirtualTable`` holds nothing but a reference to a
:class:`TableSource`; each frame it asks for the cells of the rows on screen (about 40), so the
cost of a re-filter or re-sort is the source's, not the widget's.

Line 0 is the column header and stays put; rows start on line 1. The cursor is a display index
into the source. Cells are fitted with ``rich.cells`` so CJK (double-width) text aligns.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import ClassVar, Literal, Protocol

from rich.cells import cell_len, set_cell_size
from rich.segment import Segment
from rich.style import Style
from textual import events
from textual.binding import Binding, BindingType
from textual.geometry import Size
from textual.message import Message
from textual.scroll_view import ScrollView
from textual.strip import Strip

GAP = 2
"""Blank cells between columns."""


@dataclass(frozen=True, slots=True)
class Column:
    key: str
    title: str
    width: int
    align: Literal["left", "right"] = "left"
    cut: Literal["end", "middle"] = "end"
    """Where a too-long cell loses characters (``middle`` keeps a pod name's unique suffix)."""


class TableSource(Protocol):
    """What a :class:`VirtualTable` renders: a row count and the cells of one row."""

    def __len__(self) -> int: ...

    def cells(self, index: int) -> Mapping[str, str]:
        """Cell texts of the row at display ``index``, by column key (extra keys are fine)."""
        ...

    def row_class(self, index: int) -> str:
        """Style class of the row: ``ok``, ``warn``, ``error``, ``done`` or ``""``."""
        ...


class _Empty:
    def __len__(self) -> int:
        return 0

    def cells(self, index: int) -> Mapping[str, str]:
        return {}

    def row_class(self, index: int) -> str:
        return ""


Step = str | tuple[str, int]
"""One way to make a row of columns narrower: a column key (leave that column out) or
``(key, width)`` (cut that column down towards ``width`` cells, no further than needed)."""


def fit_columns(
    specs: Sequence[tuple[str, str, int, str]],
    total_width: int,
    flex: str,
    min_flex: int = 12,
    drop_order: Sequence[Step] = (),
    flex_wanted: int = 32,
    squeeze: Sequence[Step] = (),
) -> list[Column]:
    """Fit columns to ``total_width`` cells, giving up the least important first.

    ``specs`` are ``(key, title, natural content width, align)``. Each column gets
    ``max(natural, title)``. When that is too wide:

    1. the steps of ``drop_order`` are taken, one at a time, while the ``flex`` column (e.g.
       NAME) would get less than ``min(natural, flex_wanted)``;
    2. the flex column absorbs the rest of the shortfall, down to ``min_flex``;
    3. the steps of ``squeeze`` are taken, one at a time, while the row is still too wide
       (a column that must stay visible, e.g. STATUS, is simply never named in a drop step);
    4. room freed beyond the shortfall goes back to the flex column.

    Whatever still does not fit is cut at the screen edge by the renderer.
    """
    natural = {key: max(width, cell_len(title)) for key, title, width, _ in specs}
    widths = dict(natural)
    keys = [key for key, _, _, _ in specs]
    wanted = min(widths.get(flex, 0), flex_wanted)

    def over() -> int:
        return sum(widths[k] for k in keys) + GAP * (len(keys) - 1) - total_width

    def take(step: Step, need: int) -> None:
        if isinstance(step, str):
            if step in keys:
                keys.remove(step)
            return
        key, floor = step
        if key in keys and widths[key] > floor:
            widths[key] = max(floor, widths[key] - need)

    for step in drop_order:
        short = over() - max(0, widths[flex] - wanted) if flex in keys else over()
        if short <= 0:
            break
        take(step, short)
    if over() > 0 and flex in keys:
        widths[flex] = max(min(min_flex, widths[flex]), widths[flex] - over())
    for step in squeeze:
        if over() <= 0:
            break
        take(step, over())
    if over() < 0 and flex in keys:
        widths[flex] = min(natural[flex], widths[flex] - over())
    by_key = {key: (title, align) for key, title, _, align in specs}
    return [
        Column(
            key,
            by_key[key][0],
            widths[key],
            "right" if by_key[key][1] == "right" else "left",
            "middle" if key == flex else "end",
        )
        for key in keys
    ]


def fit_cell(text: str, width: int, align: str = "left", cut: str = "end") -> str:
    """Pad or truncate ``text`` to exactly ``width`` cells (an ellipsis marks a cut)."""
    length = cell_len(text)
    if length > width:
        if width <= 1:
            return set_cell_size(text, width)
        if cut == "middle" and width >= 7:
            tail = (width - 1) // 2
            dash = text.rfind("-")
            if dash > 0 and cell_len(text[dash:]) <= tail:
                # keep the last "-segment" whole (a pod's unique suffix) and give the head the
                # rest: "cart-l5lkx8…-7kttc", not "cart-l5l…x8-7kttc"
                tail = cell_len(text[dash:])
            head = width - 1 - tail
            end = _last_cells(text, tail)
            return set_cell_size(text, head) + "…" + set_cell_size(end, tail)
        return set_cell_size(text, width - 1) + "…"
    if length == width:
        return text
    pad = " " * (width - length)
    return pad + text if align == "right" else text + pad


def _last_cells(text: str, cells: int) -> str:
    """The shortest suffix of ``text`` that is at least ``cells`` wide (or all of it)."""
    if text.isascii():
        return text[-cells:] if cells else ""
    width = 0
    i = len(text)
    while i > 0 and width < cells:
        i -= 1
        width += cell_len(text[i])
    return text[i:]


class _TableMessage(Message):
    """A message from a :class:`VirtualTable`; ``control`` is the table."""

    def __init__(self, table: VirtualTable) -> None:
        super().__init__()
        self.table = table

    @property
    def control(self) -> VirtualTable:
        return self.table


class _IndexMessage(_TableMessage):
    """About the row at display ``index``."""

    def __init__(self, table: VirtualTable, index: int) -> None:
        super().__init__(table)
        self.index = index


class VirtualTable(ScrollView, can_focus=True):
    """Renders the visible rows of a :class:`TableSource`, with a row cursor."""

    ALLOW_SELECT = False

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("up,k", "cursor_up", "Up", show=False, id="table.cursor_up", tooltip="Row up"),
        Binding(
            "down,j", "cursor_down", "Down", show=False, id="table.cursor_down", tooltip="Row down"
        ),
        Binding("pageup", "page_up", "Page up", show=False, id="table.page_up", tooltip="Page up"),
        Binding(
            "pagedown",
            "page_down",
            "Page down",
            show=False,
            id="table.page_down",
            tooltip="Page down",
        ),
        Binding("home,g", "cursor_home", "First", show=False, id="table.home", tooltip="First row"),
        Binding("end,G", "cursor_end", "Last", show=False, id="table.end", tooltip="Last row"),
    ]

    COMPONENT_CLASSES: ClassVar[set[str]] = {
        "virtual-table--header",
        "virtual-table--cursor",
        "virtual-table--cursor-blurred",
        "virtual-table--ok",
        "virtual-table--warn",
        "virtual-table--error",
        "virtual-table--done",
    }

    DEFAULT_CSS = """
    VirtualTable {
        background: $surface;
        color: $foreground;
        overflow-x: hidden;
        overflow-y: auto;
        scrollbar-size-vertical: 1;
        & > .virtual-table--header { color: $text-primary; text-style: bold; }
        & > .virtual-table--cursor {
            background: $block-cursor-background;
            color: $block-cursor-foreground;
            text-style: $block-cursor-text-style;
        }
        & > .virtual-table--cursor-blurred {
            background: $block-cursor-blurred-background;
            color: $block-cursor-blurred-foreground;
        }
        & > .virtual-table--ok { color: $text-success; }
        & > .virtual-table--warn { color: $text-warning; }
        & > .virtual-table--error { color: $text-error; text-style: bold; }
        & > .virtual-table--done { color: $text-muted; }
    }
    """

    class CursorMoved(_IndexMessage):
        """The cursor moved to display ``index`` (posted for user and programmatic moves)."""

    class RowActivated(_IndexMessage):
        """Enter or a double click on the row at display ``index``."""

    class HeaderClicked(_TableMessage):
        """A click on the title of the column ``key`` (e.g. to sort by it)."""

        def __init__(self, table: VirtualTable, key: str) -> None:
            super().__init__(table)
            self.key = key

    def __init__(
        self,
        source: TableSource | None = None,
        *,
        name: str | None = None,
        id: str | None = None,
        classes: str | None = None,
    ) -> None:
        super().__init__(name=name, id=id, classes=classes)
        self.source: TableSource = source if source is not None else _Empty()
        self.columns: list[Column] = []
        self.cursor = 0
        self._row_styles: dict[str, Style] = {}

    # -- data ------------------------------------------------------------------------------
    def set_columns(self, columns: list[Column]) -> None:
        if columns != self.columns:
            self.columns = columns
            self.refresh()

    def reset(self, cursor: int | None = None) -> None:
        """The source changed wholesale (filter, sort, resync): resize and repaint."""
        n = len(self.source)
        self.virtual_size = Size(self.size.width, n + 1)
        self.move_cursor(self.cursor if cursor is None else cursor, force_message=True)
        self.refresh()

    def rows_changed(self, first: int) -> None:
        """Rows from display ``first`` down changed (an insert or delete shifted them)."""
        n = len(self.source)
        if self.virtual_size.height != n + 1:
            self.virtual_size = Size(self.size.width, n + 1)
        top = int(self.scroll_y)
        if first < top + self.size.height:
            start = max(first, top)
            self.refresh_lines(start + 1, top + self.size.height - start)

    def row_changed(self, index: int) -> None:
        """One row changed in place: repaint that line only."""
        top = int(self.scroll_y)
        if top <= index < top + self.size.height:
            self.refresh_lines(index + 1)

    # -- cursor ----------------------------------------------------------------------------
    @property
    def page_rows(self) -> int:
        return max(1, self.size.height - 1)

    def move_cursor(self, index: int, *, force_message: bool = False) -> None:
        n = len(self.source)
        new = min(max(index, 0), max(n - 1, 0))
        old = self.cursor
        self.cursor = new
        if old != new:
            self.refresh_lines(old + 1)
            self.refresh_lines(new + 1)
        self._scroll_cursor_into_view()
        if (old != new or force_message) and n:
            self.post_message(self.CursorMoved(self, new))

    def _scroll_cursor_into_view(self) -> None:
        top = int(self.scroll_y)
        rows = self.page_rows
        if self.cursor < top:
            self.scroll_to(y=self.cursor, animate=False, immediate=True, force=True)
        elif self.cursor >= top + rows:
            self.scroll_to(y=self.cursor - rows + 1, animate=False, immediate=True, force=True)

    def action_cursor_up(self) -> None:
        self.move_cursor(self.cursor - 1)

    def action_cursor_down(self) -> None:
        self.move_cursor(self.cursor + 1)

    def action_page_up(self) -> None:
        self.move_cursor(self.cursor - self.page_rows)

    def action_page_down(self) -> None:
        self.move_cursor(self.cursor + self.page_rows)

    def action_cursor_home(self) -> None:
        self.move_cursor(0)

    def action_cursor_end(self) -> None:
        self.move_cursor(len(self.source) - 1)

    def action_select_cursor(self) -> None:
        if len(self.source):
            self.post_message(self.RowActivated(self, self.cursor))

    def on_click(self, event: events.Click) -> None:
        offset = event.get_content_offset(self)
        if offset is None:
            return
        if offset.y == 0:
            x = 0
            for column in self.columns:
                if x <= offset.x < x + column.width + GAP:
                    self.post_message(self.HeaderClicked(self, column.key))
                    return
                x += column.width + GAP
            return
        index = int(self.scroll_y) + offset.y - 1
        if 0 <= index < len(self.source):
            self.move_cursor(index)
            if event.chain >= 2:
                self.post_message(self.RowActivated(self, index))

    def on_resize(self, event: events.Resize) -> None:
        self.virtual_size = Size(event.size.width, len(self.source) + 1)
        self._scroll_cursor_into_view()

    def on_focus(self) -> None:
        self.refresh_lines(self.cursor + 1)

    def on_blur(self) -> None:
        self.refresh_lines(self.cursor + 1)

    # -- rendering -------------------------------------------------------------------------
    def notify_style_update(self) -> None:
        super().notify_style_update()
        self._row_styles.clear()

    def _style(self, name: str) -> Style:
        style = self._row_styles.get(name)
        if style is None:
            base = self.rich_style
            if name:
                style = base + self.get_component_rich_style(f"virtual-table--{name}")
            else:
                style = base
            self._row_styles[name] = style
        return style

    def render_line(self, y: int) -> Strip:
        width = self.size.width
        if y == 0:
            titles = [fit_cell(c.title, c.width, c.align) for c in self.columns]
            return self._strip(titles, self._style("header"), width)
        index = int(self.scroll_y) + y - 1
        source = self.source
        if index >= len(source) or not self.columns:
            return Strip.blank(width, self._style(""))
        cells = source.cells(index)
        texts = [fit_cell(cells.get(c.key, ""), c.width, c.align, c.cut) for c in self.columns]
        style = self._style(source.row_class(index))
        if index == self.cursor:
            cursor = "cursor" if self.has_focus else "cursor-blurred"
            style = style + self.get_component_rich_style(f"virtual-table--{cursor}")
        return self._strip(texts, style, width)

    def _strip(self, texts: list[str], style: Style, width: int) -> Strip:
        line = (" " * GAP).join(texts)
        return Strip([Segment(line, style)], cell_len(line)).crop_extend(0, width, style)
