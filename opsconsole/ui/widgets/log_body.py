"""The log viewer's body: a Line API widget that renders only the visible rows.

It owns scrolling, follow/pause, wrapping layout, the line selection and mouse handling; the
lines, search results and toggles belong to the parent :class:`~opsconsole.ui.widgets.log_view.
LogView`. Follow is derived from the scroll position: at the bottom means following; any
scroll away from it (keys, wheel, scrollbar) pauses; End or scrolling back down resumes.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar

from rich.cells import cell_len
from rich.segment import Segment
from rich.style import Style
from textual import events
from textual.actions import SkipAction
from textual.binding import Binding, BindingType
from textual.geometry import Size
from textual.scroll_view import ScrollView
from textual.strip import Strip

from opsconsole.ui.widgets.log_render import (
    Span,
    display_text,
    level_span,
    segments,
    wrap_points,
)

if TYPE_CHECKING:
    from opsconsole.ui.widgets.log_view import LogView

_LINE_CACHE_MAX = 512
_FOREGROUND_ONLY = frozenset({"timestamp", "error", "warn"})


class LogBody(ScrollView, can_focus=True):
    """Renders the visible part of a :class:`LogView`'s lines."""

    ALLOW_SELECT = False  # our own line selection (mouse drag, v, shift+arrows)

    COMPONENT_CLASSES: ClassVar[set[str]] = {
        "log-body--timestamp",
        "log-body--error",
        "log-body--warn",
        "log-body--match",
        "log-body--current-match",
        "log-body--selection",
    }

    DEFAULT_CSS = """
    LogBody {
        background: $surface;
        color: $foreground;
        scrollbar-size-vertical: 1;
        /* no horizontal bar: in 256-colour terminals only its thumb's end glyphs (▌ ▍ ▉) showed,
           like stray cursors; the header says "→ col N" while the view is scrolled sideways */
        scrollbar-size-horizontal: 0;
        & > .log-body--timestamp { color: $text-muted; }
        & > .log-body--error { color: $text-error; text-style: bold; }
        & > .log-body--warn { color: $text-warning; }
        & > .log-body--match { background: $warning 40%; }
        & > .log-body--current-match { background: $warning; color: $background; }
        & > .log-body--selection { background: $primary 35%; }
    }
    """

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("up,k", "line_up", "Up", show=False, id="logs.up", tooltip="Scroll up"),
        Binding("down,j", "line_down", "Down", show=False, id="logs.down", tooltip="Scroll down"),
        Binding("pageup", "page_up", "PgUp", show=False, id="logs.page_up", tooltip="Page up"),
        Binding(
            "pagedown", "page_down", "PgDn", show=False, id="logs.page_down", tooltip="Page down"
        ),
        Binding("home,g", "top", "Top", show=False, id="logs.top", tooltip="Oldest line"),
        Binding("end,G", "follow", "Follow", id="logs.follow", tooltip="Newest line; follow"),
        Binding("left", "scroll_left", "Left", show=False, id="logs.left", tooltip="Scroll left"),
        Binding(
            "right", "scroll_right", "Right", show=False, id="logs.right", tooltip="Scroll right"
        ),
        Binding(
            "shift+up",
            "extend_selection(-1)",
            "Select up",
            show=False,
            id="logs.select_up",
            tooltip="Extend the selection up",
        ),
        Binding(
            "shift+down",
            "extend_selection(1)",
            "Select down",
            show=False,
            id="logs.select_down",
            tooltip="Extend the selection down",
        ),
        Binding(
            "escape",
            "clear_selection",
            "Unselect",
            show=False,
            id="logs.unselect",
            tooltip="Drop the selection",
        ),
    ]

    def __init__(self, view: LogView, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.view = view
        self.follow = True
        """At the bottom: new lines scroll into view."""
        self.selecting = False
        """``v`` mode: up/down move the selection end instead of scrolling."""
        self._anchor: int | None = None  # absolute line numbers
        self._cursor: int | None = None
        self._dragging = False
        self._drag_start = 0
        self._drag_moved = False
        self._adjusting = False
        self._line_cache: dict[int, tuple[str, list[Span], bool]] = {}  # by absolute number
        self._rows_key: tuple | None = None
        self._rows: list[tuple[int, int, int]] = []
        self._style_cache: dict[str, Style] = {}

    # -- called by LogView -----------------------------------------------------------------
    def _update_virtual_size(self) -> None:
        store = self.view.store
        wrap = self.view.wrap
        overflow = "hidden" if wrap else "auto"
        if self.styles.overflow_x != overflow:
            self.styles.overflow_x = overflow
        size = Size(0 if wrap else store.max_width, len(store))
        old = self.virtual_size
        if size == old:
            return
        width, height = self.container_size
        if (old.height > height) == (size.height > height) and (old.width > width) == (
            size.width > width
        ):
            # the scrollbars stay as they are: no layout pass needed (it would re-lay out the
            # whole screen on every batch while the log grows), only the scrollbar windows
            self.set_reactive(LogBody.virtual_size, size)
            self._scroll_update(size)
            self.refresh()
        else:
            self.virtual_size = size

    def sync(self) -> None:
        """Apply appended/dropped lines: resize, follow, repaint (once per loop turn)."""
        self._update_virtual_size()
        if self.follow and self.scroll_y != self.max_scroll_y:
            self._scroll_y_to(self.max_scroll_y)
        # the line cache is keyed by absolute line number, so it survives appends and drops
        if len(self._line_cache) > _LINE_CACHE_MAX:
            self._line_cache.clear()
        self._rows_key = None
        self.refresh()

    def invalidate(self) -> None:
        """Something that changes how lines look (toggle, search, selection): re-render all."""
        self._line_cache.clear()
        self._rows_key = None
        self.refresh()

    def reset(self) -> None:
        self._anchor = self._cursor = None
        self.selecting = False
        self.follow = True
        self.virtual_size = Size(0, 0)
        self._scroll_y_to(0)
        self.scroll_x = 0
        self.invalidate()

    def lines_dropped(self, count: int) -> None:
        """``count`` oldest lines went away: keep a paused view on the same lines."""
        if count and not self.follow:
            self._scroll_y_to(max(0, self.scroll_y - count))

    def show_line(self, index: int) -> None:
        """Scroll so the line at ``index`` is visible (centred if it was off screen)."""
        self._update_virtual_size()  # lines appended since the last sync are reachable
        top = int(self.scroll_y)
        height = max(self.size.height, 1)
        if self.view.wrap and index >= top:
            visible = {i for i, _, _ in self._wrap_rows()}
            if index in visible and index != max(visible, default=-1):
                return
        elif top <= index < top + height:
            return
        self._scroll_y_to(max(0, index - height // 2), user=True)

    def reveal_match(self, index: int) -> None:
        """Scroll sideways (no-wrap mode) so the first match in line ``index`` is visible."""
        matcher = self.view.matcher
        if self.view.wrap or matcher is None or not 0 <= index < len(self.view.store):
            return
        text = self._line(index)[0]
        spans = matcher.spans(text)
        if not spans:
            return
        start, end = spans[0]
        left, right = cell_len(text[:start]), cell_len(text[:end])
        width = self.scrollable_content_region.width
        x = int(self.scroll_x)
        if left < x or right > x + width:
            self._update_virtual_size()
            target = max(0, left - width // 4)
            self.scroll_to(x=target, animate=False, immediate=True, force=True)

    def selection_range(self) -> tuple[int, int] | None:
        """(start, stop) indices of the selected lines in the store, or ``None``."""
        if self._anchor is None or self._cursor is None:
            return None
        dropped = self.view.store.dropped
        lo = max(min(self._anchor, self._cursor) - dropped, 0)
        hi = min(max(self._anchor, self._cursor) - dropped + 1, len(self.view.store))
        return (lo, hi) if hi > lo else None

    def toggle_selection(self) -> None:
        if self.selecting:
            self.selecting = False
            return
        self.selecting = True
        if self._anchor is None:
            start = self._default_cursor()
            if start is not None:
                self._anchor = self._cursor = start + self.view.store.dropped
        self.invalidate()

    def clear_selection(self) -> None:
        self._anchor = self._cursor = None
        self.selecting = False
        self.invalidate()

    # -- scrolling and follow --------------------------------------------------------------
    def _scroll_y_to(self, y: float, *, user: bool = False) -> None:
        self._adjusting = not user
        try:
            self.scroll_to(y=y, animate=False, immediate=True, force=True)
        finally:
            self._adjusting = False

    def watch_scroll_y(self, old_value: float, new_value: float) -> None:
        super().watch_scroll_y(old_value, new_value)
        self._rows_key = None
        if len(self._line_cache) > _LINE_CACHE_MAX:
            self._line_cache.clear()
        if self._adjusting:
            return
        follow = round(new_value) >= self.max_scroll_y
        if follow != self.follow:
            self.follow = follow
            if follow:
                self.view.new_while_paused = 0
            self.view._schedule_sync()

    def watch_scroll_x(self, old_value: float, new_value: float) -> None:
        super().watch_scroll_x(old_value, new_value)
        if int(old_value) != int(new_value):
            self.view._schedule_sync()  # the header's "→ col N"

    def on_resize(self) -> None:
        if self.follow:
            self.call_after_refresh(self._stick_to_end)
        self.view._schedule_sync()

    def _stick_to_end(self) -> None:
        if self.follow:
            self._scroll_y_to(self.max_scroll_y)

    def action_line_up(self) -> None:
        if self.selecting:
            self.action_extend_selection(-1)
        else:
            self._scroll_y_to(self.scroll_y - 1, user=True)

    def action_line_down(self) -> None:
        if self.selecting:
            self.action_extend_selection(1)
        else:
            self._scroll_y_to(self.scroll_y + 1, user=True)

    def action_page_up(self) -> None:
        self._scroll_y_to(self.scroll_y - max(self.size.height - 1, 1), user=True)

    def action_page_down(self) -> None:
        self._scroll_y_to(self.scroll_y + max(self.size.height - 1, 1), user=True)

    def action_top(self) -> None:
        self._scroll_y_to(0, user=True)

    def action_follow(self) -> None:
        """End: jump to the newest line and follow again."""
        self.follow = True
        self.view.new_while_paused = 0
        self._scroll_y_to(self.max_scroll_y)
        self.view._schedule_sync()

    # -- selection -------------------------------------------------------------------------
    def _visible_lines(self) -> tuple[int, int]:
        """(first, last) indices of the lines on screen (last < first when empty)."""
        n = len(self.view.store)
        if self.view.wrap:
            rows = self._wrap_rows()
            return (rows[0][0], rows[-1][0]) if rows else (0, -1)
        top = int(self.scroll_y)
        return top, min(n, top + self.size.height) - 1

    def _default_cursor(self) -> int | None:
        first, last = self._visible_lines()
        if last < first:
            return None
        current = self.view.current_match_line
        if current is not None and first <= current <= last:
            return current
        return last if self.follow else first

    def action_extend_selection(self, delta: int) -> None:
        store = self.view.store
        if not len(store):
            return
        dropped = store.dropped
        if self._cursor is None or self._anchor is None:
            start = self._default_cursor()
            if start is None:
                return
            self._anchor = self._cursor = start + dropped
        else:
            index = min(max(self._cursor - dropped + delta, 0), len(store) - 1)
            self._cursor = index + dropped
        self.show_line(self._cursor - dropped)
        self.invalidate()
        self.view._schedule_sync()

    def action_clear_selection(self) -> None:
        if self._anchor is None and not self.selecting:
            raise SkipAction()
        self.clear_selection()
        self.view._schedule_sync()

    def _line_at(self, y: int) -> int | None:
        if self.view.wrap:
            rows = self._wrap_rows()
            if not rows:
                return None
            return rows[min(max(y, 0), len(rows) - 1)][0]
        n = len(self.view.store)
        if not n:
            return None
        return min(max(int(self.scroll_y) + y, 0), n - 1)

    def on_mouse_down(self, event: events.MouseDown) -> None:
        if event.button != 1:
            return
        offset = event.get_content_offset(self)
        line = self._line_at(offset.y) if offset is not None else None
        if line is None:
            return
        self._dragging = True
        self._drag_start = line
        self._drag_moved = False
        self.capture_mouse()

    def on_mouse_move(self, event: events.MouseMove) -> None:
        if not self._dragging:
            return
        offset = event.get_content_offset_capture(self)
        if offset.y < 0:
            self._scroll_y_to(self.scroll_y - 1, user=True)
        elif offset.y >= self.size.height:
            self._scroll_y_to(self.scroll_y + 1, user=True)
        line = self._line_at(offset.y)
        if line is None:
            return
        dropped = self.view.store.dropped
        if line != self._drag_start or self._drag_moved:
            self._drag_moved = True
            self._anchor = self._drag_start + dropped
            self._cursor = line + dropped
            self.invalidate()
            self.view._schedule_sync()

    def on_mouse_up(self, event: events.MouseUp) -> None:
        if not self._dragging:
            return
        self._dragging = False
        self.release_mouse()
        if not self._drag_moved and self._anchor is not None:  # a plain click drops it
            self.clear_selection()
            self.view._schedule_sync()

    # -- rendering -------------------------------------------------------------------------
    def notify_style_update(self) -> None:
        super().notify_style_update()
        self._style_cache.clear()
        self._line_cache.clear()

    def _style(self, name: str) -> Style:
        style = self._style_cache.get(name)
        if style is None:
            # resolved against the widget's background (``auto``/alpha colours need it)
            style = self.get_component_rich_style(f"log-body--{name}")
            if name in _FOREGROUND_ONLY:  # keep the selection/match background under them
                style = Style(color=style.color, bold=style.bold, italic=style.italic)
            self._style_cache[name] = style
        return style

    def _line(self, index: int) -> tuple[str, list[Span], bool]:
        """Display text, highlight spans and "selected" for the line at ``index``."""
        absolute = index + self.view.store.dropped
        cached = self._line_cache.get(absolute)
        if cached is not None:
            return cached
        view = self.view
        text, ts_len = display_text(view.store[index], view.show_timestamps)
        spans: list[Span] = []
        if ts_len:
            spans.append((0, ts_len, self._style("timestamp")))
        level = level_span(text, ts_len)
        if level is not None:
            spans.append((level[0], level[1], self._style(level[2])))
        if view.matcher is not None:
            current = index == view.current_match_line
            style = self._style("current-match" if current else "match")
            spans.extend((s, e, style) for s, e in view.matcher.spans(text))
        selected = False
        rng = self.selection_range()
        if rng is not None:
            selected = rng[0] <= index < rng[1]
        result = (text, spans, selected)
        self._line_cache[absolute] = result
        return result

    def _placeholder_line(self, y: int, width: int, base: Style) -> Strip:
        """Row ``y`` of an empty body: the view's placeholder (why there are no lines), wrapped."""
        text = self.view.placeholder
        if not text:
            return Strip.blank(width, base)
        import textwrap

        rows = textwrap.wrap(text, max(width - 1, 8))
        if y >= len(rows):
            return Strip.blank(width, base)
        style = base + self._style("timestamp")
        return Strip([Segment(rows[y], style)]).crop_extend(0, width, base)

    def _wrap_rows(self) -> list[tuple[int, int, int]]:
        """Visual rows (line index, start char, end char) for the screen in wrap mode."""
        n = len(self.view.store)
        top = int(self.scroll_y)
        height, width = self.size.height, self.scrollable_content_region.width
        key = (top, height, width, n, self.view.store.dropped, self.max_scroll_y)
        if key == self._rows_key:
            return self._rows
        rows: list[tuple[int, int, int]] = []
        if n and height > 0:
            if top >= self.max_scroll_y:  # at the end: lay out upwards from the newest line
                i = n - 1
                while i >= 0 and len(rows) < height:
                    rows[0:0] = self._rows_of(i, width)
                    i -= 1
                if len(rows) > height:
                    rows = rows[len(rows) - height :]
            else:
                i = top
                while i < n and len(rows) < height:
                    rows.extend(self._rows_of(i, width))
                    i += 1
                del rows[height:]
        self._rows_key = key
        self._rows = rows
        return rows

    def _rows_of(self, index: int, width: int) -> list[tuple[int, int, int]]:
        text = self._line(index)[0]
        points = wrap_points(text, width)
        ends = points[1:] + [len(text)]
        return [(index, a, b) for a, b in zip(points, ends, strict=True)]

    def _base_style(self) -> Style:
        style = self._style_cache.get("")
        if style is None:  # ``rich_style`` walks the ancestors: once per style change
            style = self._style_cache[""] = self.rich_style
        return style

    def render_line(self, y: int) -> Strip:
        width = self.size.width
        base = self._base_style()
        store = self.view.store
        if not len(store):
            return self._placeholder_line(y, width, base)
        if self.view.wrap:
            rows = self._wrap_rows()
            if y >= len(rows):
                return Strip.blank(width, base)
            index, start, end = rows[y]
            scroll_x = 0
        else:
            index = int(self.scroll_y) + y
            if index >= len(store):
                return Strip.blank(width, base)
            start, end, scroll_x = 0, -1, int(self.scroll_x)
        text, spans, selected = self._line(index)
        if end < 0:
            end = len(text)
        style = base + self._style("selection") if selected else base
        strip = Strip(segments(text, start, end, style, spans))
        if not self.view.wrap and store.widen(strip.cell_length):
            self.view._schedule_sync()  # a wide (CJK) line was under-estimated: rescroll range
        return strip.crop_extend(scroll_x, scroll_x + width, style)
