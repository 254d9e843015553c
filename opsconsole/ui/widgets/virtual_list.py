"""A scrolling list of items drawn on demand (Line API): the chat, the trace, the full-text windows.

One widget however long the list: each item renders itself to lines (Strips) at the list's
width, and only the items on screen are rendered. A frame costs the same after 10 items or
10,000 (Textual's cost per frame, style and layout passes grow with the number of mounted
widgets; a conversation of widgets got slower with every answer).

- :class:`Node` renders to lines at a width and caches them (for the last two widths, so a
  zoom and back re-renders nothing) until it says :meth:`Node.changed`. Nodes nest (a trace
  step holds its tool calls); the top-level ones are the list's items.
- Heights of items not rendered at the current width are estimates until they come into
  view; the view keeps its place meanwhile: at the end while following, else on the item at
  its top. So a width change (zoom, resize) costs the items on screen, not the history.
- Selectable parts (a tool call, a pod link, a collapsed answer) are a node's ``targets``:
  a cursor moves over them (:meth:`VirtualList.move_cursor`), Enter or a click activates one
  (:meth:`VirtualList.activate`, which subclasses implement).
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any, ClassVar

from rich.console import Console, RenderableType
from rich.segment import Segment
from rich.style import Style
from textual import events
from textual.binding import Binding, BindingType
from textual.geometry import Offset, Size
from textual.scroll_view import ScrollView
from textual.selection import Selection
from textual.strip import Strip

#: rendered lines kept in caches across the list (heights are always kept)
CACHE_LINES = 40_000


@dataclass(slots=True)
class Rendered:
    """A node's lines at one width, and the line ranges of its selectable parts."""

    lines: list[Strip]
    targets: list[tuple[int, int, Any]] = field(default_factory=list)


class RenderContext:
    """What nodes render with: the console, the list's styles (from its component classes,
    so they follow the theme) and a generation that changes with the theme."""

    __slots__ = ("console", "base", "generation", "dark", "memo", "_styles", "_widget")

    def __init__(self, widget: VirtualList, generation: int) -> None:
        self._widget = widget
        self.console: Console = widget.app.console
        self.base: Style = widget.rich_style
        self.generation = generation
        self.dark = bool(getattr(widget.app.current_theme, "dark", True))
        self._styles: dict[str, Style] = {}
        #: what renderers derive from the styles once per theme (e.g. a Rich Theme)
        self.memo: dict[str, Any] = {}

    def style(self, name: str) -> Style:
        """The component class ``<list type>--<name>`` as a Rich style (foreground, background
        and text style)."""
        style = self._styles.get(name)
        if style is None:
            component = f"{self._widget.COMPONENT_PREFIX}--{name}"
            if component in self._widget.COMPONENT_CLASSES:
                style = self._widget.get_component_rich_style(component, partial=True)
            else:
                style = Style()
            self._styles[name] = style
        return style

    def lines(
        self, renderable: RenderableType, width: int, style: Style | None = None
    ) -> list[Strip]:
        """``renderable`` at ``width`` as padded lines over the list's base style."""
        width = max(1, width)
        options = self.console.options.update(width=width, height=None, highlight=False)
        base = self.base + style if style is not None else self.base
        rows = self.console.render_lines(renderable, options, style=base, pad=True)
        return [Strip(row, width) for row in rows]

    def blank(self, width: int, style: Style | None = None) -> Strip:
        return Strip.blank(max(1, width), self.base + style if style is not None else self.base)


def prefix_lines(lines: list[Strip], prefix: list[Segment], width: int) -> list[Strip]:
    """``lines`` (each ``width`` wide) after ``prefix`` (one line's worth of segments)."""
    cells = sum(seg.cell_length for seg in prefix)
    return [Strip([*prefix, *line], cells + width) for line in lines]


class Node:
    """Something that renders to lines at a width, cached until it :meth:`changed`."""

    def __init__(self) -> None:
        self.parent: Node | None = None
        #: set on the list's items (top-level nodes)
        self.owner: VirtualList | None = None
        self.index = -1
        self.version = 0
        self._renders: dict[int, tuple[int, int, Rendered]] = {}

    # -- to implement ------------------------------------------------------------------------
    def render(self, width: int, ctx: RenderContext) -> Rendered:
        raise NotImplementedError

    def plain(self) -> str:
        """The node's text (for tests, copy and search): what it shows, without styles."""
        return ""

    def targets(self) -> list[Any]:
        """Selectable parts, in order (each must appear in :attr:`Rendered.targets`)."""
        return []

    def nodes(self) -> list[Node]:
        """The nodes drawn inside this one (a step's calls...), in order."""
        return []

    # -- provided ----------------------------------------------------------------------------
    def changed(self) -> None:
        """The content changed: re-render when next shown (and the parents with it)."""
        node: Node | None = self
        while node is not None:
            node.version += 1
            if node.parent is None and node.owner is not None:
                node.owner.item_changed(node)
            node = node.parent

    def root(self) -> Node:
        node = self
        while node.parent is not None:
            node = node.parent
        return node

    def rendered(self, width: int, ctx: RenderContext) -> Rendered:
        """The lines at ``width``, from the cache when nothing changed."""
        hit = self._renders.get(width)
        if hit is not None and hit[0] == self.version and hit[1] == ctx.generation:
            return hit[2]
        out = self.render(width, ctx)
        if width not in self._renders and len(self._renders) >= 2:
            del self._renders[next(iter(self._renders))]  # keep the two newest widths
        self._renders[width] = (self.version, ctx.generation, out)
        return out

    def cached_height(self, width: int, generation: int) -> int | None:
        hit = self._renders.get(width)
        if hit is not None and hit[0] == self.version and hit[1] == generation:
            return len(hit[2].lines)
        return None

    def estimate(self, width: int) -> int:
        """A height at ``width`` without rendering: from another width's lines if any."""
        for known, (_, _, out) in self._renders.items():
            if known > 0:
                return max(1, round(len(out.lines) * known / max(1, width)))
        return 1

    def forget(self) -> int:
        """Drop the cached lines, its nodes' too (to bound memory); returns how many lines
        it held."""
        held = sum(len(out.lines) for _, _, out in self._renders.values())
        self._renders.clear()
        for node in self.nodes():
            node.forget()
        return held


class VirtualList(ScrollView, can_focus=True):
    """The scrolling list (see the module docstring). Subclasses set ``COMPONENT_PREFIX`` /
    ``COMPONENT_CLASSES`` for their nodes' styles and implement :meth:`activate`."""

    COMPONENT_PREFIX: ClassVar[str] = "virtual-list"
    COMPONENT_CLASSES: ClassVar[set[str]] = {"virtual-list--cursor"}

    DEFAULT_CSS = """
    VirtualList {
        overflow-x: hidden;
        overflow-y: scroll;
        scrollbar-size-vertical: 1;
        & > .virtual-list--cursor { background: $accent-muted; }
    }
    """

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("home", "top", "Top", show=False, id="list.top", tooltip="Scroll to the top"),
        Binding("end", "bottom", "End", show=False, id="list.end", tooltip="Scroll to the end"),
    ]

    def __init__(self, *, id: str | None = None, classes: str | None = None) -> None:
        super().__init__(id=id, classes=classes)
        self.items: list[Node] = []
        self.following = True
        """At the end: new lines scroll into view."""
        self.cursor: Any = None
        """The selected target (see :meth:`Node.targets`), or None."""
        self.align_bottom = False
        """Items shorter than the view sit at its bottom (a chat grows upwards)."""
        self._pad = 0  # blank rows above the items (align_bottom)
        self._width = 0
        self._heights: list[int] = []
        self._exact: list[bool] = []
        self._offsets: list[int] = [0]
        self._valid = 0  # _offsets[: _valid + 1] are right
        self._anchor = (0, 0)  # (item, line in it) at the top of the view when not following
        self._generation = 0
        self._styles_seen: tuple[Any, ...] | None = None
        self._ctx: RenderContext | None = None
        self._adjusting = False
        self._rendered_lru: dict[int, Node] = {}  # id -> node, oldest first
        self._cached_lines = 0

    # -- the items ---------------------------------------------------------------------------
    def append(self, item: Node) -> Node:
        """Add ``item`` at the end (shown at once if the view follows the end)."""
        item.owner = self
        item.parent = None
        item.index = len(self.items)
        self.items.append(item)
        self._heights.append(self._guess(item))
        self._exact.append(False)
        self.refresh()
        return item

    def remove_item(self, item: Node) -> None:
        """Take ``item`` out of the list."""
        index = item.index
        if not (0 <= index < len(self.items)) or self.items[index] is not item:
            return
        del self.items[index]
        del self._heights[index]
        del self._exact[index]
        for later in self.items[index:]:
            later.index -= 1
        item.owner = None
        self._valid = min(self._valid, index)
        del self._offsets[self._valid + 1 :]
        anchor, offset = self._anchor
        if anchor > index:
            self._anchor = (anchor - 1, offset)
        elif anchor == index:
            self._anchor = (index, 0)
        if self.cursor is not None and self._item_of(self.cursor) is None:
            self.cursor = None
        self.refresh()

    def truncate(self, count: int) -> None:
        """Keep the first ``count`` items (the replay steps back this way)."""
        if count >= len(self.items):
            return
        for item in self.items[count:]:
            item.owner = None
        del self.items[count:]
        del self._heights[count:]
        del self._exact[count:]
        self._valid = min(self._valid, count)
        del self._offsets[self._valid + 1 :]
        if self._anchor[0] >= count:
            self._anchor = (max(0, count - 1), 0)
        if self.cursor is not None and self._item_of(self.cursor) is None:
            self.cursor = None
        self.refresh()

    def clear_items(self) -> None:
        self.truncate(0)
        self.following = True
        self._anchor = (0, 0)

    def item_changed(self, item: Node) -> None:
        index = item.index
        if 0 <= index < len(self._exact) and self.items[index] is item:
            self._exact[index] = False
            self.refresh()

    def visible_items(self) -> list[Node]:
        """The items on screen (as of the last layout: :meth:`prepare`)."""
        if not self.items or self._valid < len(self.items):
            return []
        top = round(self.scroll_y)
        first = self._locate(top)[0]
        last = self._locate(top + max(1, self._view_size.height) - 1)[0]
        return self.items[first : last + 1]

    def drawn_items(self) -> list[Node]:
        """The items holding lines drawn at the current width and theme: those on screen
        now or before (after a width change, only those on screen since)."""
        width, generation = self._width, self._generation
        return [item for item in self.items if item.cached_height(width, generation) is not None]

    def plain_text(self) -> str:
        """Every item's text, in order (what the list holds, on screen or not)."""
        return "\n".join(item.plain() for item in self.items)

    # -- geometry ----------------------------------------------------------------------------
    def _render_context(self) -> RenderContext:
        if self._ctx is None:
            self._ctx = RenderContext(self, self._generation)
        return self._ctx

    def _style_key(self) -> tuple[Any, ...] | None:
        """What the nodes' lines depend on of the styles (the theme, this list's CSS)."""
        try:
            components = tuple(
                self.get_component_rich_style(name, partial=True)
                for name in sorted(self.COMPONENT_CLASSES)
            )
        except KeyError:  # the component styles are not set up yet
            return None
        return (self.rich_style, getattr(self.app.current_theme, "dark", True), components)

    def notify_style_update(self) -> None:
        super().notify_style_update()
        # called on every restyle (a zoom restyles the screen): re-render only if the styles
        # the lines were drawn with changed (a theme switch), not on every zoom
        key = self._style_key()
        if key is not None and key == self._styles_seen:
            return
        self._styles_seen = key
        self._generation += 1
        self._ctx = None
        self._exact = [False] * len(self.items)
        self.refresh()

    def _guess(self, item: Node) -> int:
        if self._width <= 0:
            return 1
        cached = item.cached_height(self._width, self._generation)
        return cached if cached is not None else item.estimate(self._width)

    def _rebuild_offsets(self) -> None:
        offsets, heights = self._offsets, self._heights
        del offsets[self._valid + 1 :]
        total = offsets[-1]
        for height in heights[self._valid :]:
            total += height
            offsets.append(total)
        self._valid = len(heights)

    def _measure(self, index: int, ctx: RenderContext) -> Rendered:
        """Render item ``index`` at the current width and fix its height."""
        item = self.items[index]
        out = item.rendered(self._width, ctx)
        height = len(out.lines)
        if not self._exact[index] or self._heights[index] != height:
            if self._heights[index] != height:
                self._heights[index] = height
                self._valid = min(self._valid, index)
                del self._offsets[self._valid + 1 :]
            self._exact[index] = True
            self._track(item, height)
        return out

    def _track(self, item: Node, height: int) -> None:
        """Bound the lines held in caches: forget the least recently rendered items'."""
        key = id(item)
        if key in self._rendered_lru:
            del self._rendered_lru[key]
        else:
            self._cached_lines += height
        self._rendered_lru[key] = item
        while self._cached_lines > CACHE_LINES and len(self._rendered_lru) > 1:
            old_key = next(iter(self._rendered_lru))
            old = self._rendered_lru.pop(old_key)
            self._cached_lines -= old.forget()
        if self._cached_lines < 0:
            self._cached_lines = 0

    def prepare(self) -> None:
        """Lay out what the view shows: exact heights of the items on screen, offsets, the
        virtual size and the scroll position (kept at the end or on the top item)."""
        width, height = self._view_size.width, self._view_size.height
        if width <= 0:
            return
        ctx = self._render_context()
        count = len(self.items)
        if width != self._width:
            self._width = width
            for i, item in enumerate(self.items):
                cached = item.cached_height(width, ctx.generation)
                self._exact[i] = cached is not None
                self._heights[i] = cached if cached is not None else item.estimate(width)
            self._valid = 0
            del self._offsets[1:]
        view = max(1, height)
        if self.following:
            covered, i = 0, count - 1
            while i >= 0 and covered < view:
                if not self._exact[i]:
                    self._measure(i, ctx)
                covered += self._heights[i]
                i -= 1
        else:
            first, offset = self._anchor
            first = max(0, min(first, count - 1))
            if count:
                if not self._exact[first]:
                    self._measure(first, ctx)
                offset = min(offset, max(0, self._heights[first] - 1))
                covered, i = self._heights[first] - offset, first + 1
                while i < count and covered < view:
                    if not self._exact[i]:
                        self._measure(i, ctx)
                    covered += self._heights[i]
                    i += 1
            self._anchor = (first, offset)
        self._rebuild_offsets()
        total = self._offsets[-1]
        pad = max(0, view - total) if self.align_bottom else 0
        if pad != self._pad:
            self._pad = pad
            self.refresh()
        self._set_virtual_height(total)
        if self.following:
            target = max(0, total - view)
        else:
            first, offset = self._anchor
            target = self._offsets[first] + offset if count else 0
            target = max(0, min(target, max(0, total - view)))
        if round(self.scroll_y) != target:
            self._scroll_to_y(target)

    def _set_virtual_height(self, total: int) -> None:
        size = Size(self._width, total)
        if size == self.virtual_size:
            return
        # the vertical scrollbar is always there (overflow-y: scroll): no layout pass needed,
        # only the scrollbar's window (a layout per new line would re-lay out the screen)
        self.set_reactive(VirtualList.virtual_size, size)
        self._adjusting = True  # a clamped scroll position is not the user scrolling
        try:
            self._scroll_update(size)
        finally:
            self._adjusting = False
        self.refresh()

    def _scroll_to_y(self, y: int) -> None:
        self.set_scroll(None, y)  # no watcher: this is not the user scrolling
        if self.show_vertical_scrollbar:
            self.vertical_scrollbar.position = y
        self.refresh()

    def watch_scroll_y(self, old_value: float, new_value: float) -> None:
        super().watch_scroll_y(old_value, new_value)
        if self._adjusting:
            return
        # the user scrolled (keys, wheel, scrollbar): follow the end only from the end
        self._rebuild_offsets()
        total = self._offsets[-1]
        view = max(1, self._view_size.height)
        self.following = new_value >= total - view
        if not self.following:
            self._anchor = self._locate(int(new_value))

    def _locate(self, line: int) -> tuple[int, int]:
        """(item, line in it) of the list's line ``line``."""
        if not self.items:
            return (0, 0)
        index = max(0, min(len(self.items) - 1, bisect_right(self._offsets, line) - 1))
        return (index, line - self._offsets[index])

    def on_resize(self, event: events.Resize) -> None:
        self.refresh()

    @property
    def _view_size(self) -> Size:
        """The size lines are drawn in: the content region less the scrollbar."""
        return self.scrollable_content_region.size

    # -- scrolling ---------------------------------------------------------------------------
    def follow(self) -> None:
        """Scroll to the end and follow it."""
        self.following = True
        self.prepare()
        self.refresh()

    def action_bottom(self) -> None:
        self.follow()

    def action_top(self) -> None:
        self.following = False
        self._anchor = (0, 0)
        self.prepare()
        self.refresh()

    def scroll_to_item(self, item: Node, *, line: int = 0, lines: int = 1) -> None:
        """Scroll so lines ``line``..``line + lines`` of ``item`` are on screen."""
        root = item.root()
        if root.owner is not self:
            return
        self.prepare()
        index = root.index
        if not self._exact[index]:
            self._measure(index, self._render_context())
            self._rebuild_offsets()
        top = self._offsets[index] + line
        view = max(1, self._view_size.height)
        now = round(self.scroll_y)
        if now <= top and top + lines <= now + view:
            return
        y = top if top < now or lines >= view else top + lines - view
        self.following = False
        self._anchor = self._locate(max(0, y))
        self.prepare()
        self.refresh()

    # -- the cursor --------------------------------------------------------------------------
    def _item_of(self, target: Any) -> Node | None:
        """The item holding ``target`` (or None if it is not in the list)."""
        node = target if isinstance(target, Node) else getattr(target, "node", None)
        if not isinstance(node, Node):
            return None
        root = node.root()
        if root.owner is self and 0 <= root.index < len(self.items):
            return root
        return None

    def _targets_from(self, index: int, step: int) -> Iterator[Any]:
        i = index
        while 0 <= i < len(self.items):
            found = self.items[i].targets()
            yield from found if step > 0 else reversed(found)
            i += step

    def _span_of(self, target: Any) -> tuple[int, int] | None:
        """The list lines (start, end) of ``target``, rendering its item if needed."""
        item = self._item_of(target)
        if item is None or self._width <= 0:
            return None
        out = self._measure(item.index, self._render_context())
        self._rebuild_offsets()
        for start, end, found in out.targets:
            if found is target:
                base = self._offsets[item.index]
                return (base + start, base + end)
        return None

    def select(self, target: Any) -> None:
        """Put the cursor on ``target`` and scroll it into view."""
        self.cursor = target
        item = self._item_of(target)
        if item is not None:
            span = self._span_of(target)
            if span is not None:
                base = self._offsets[item.index]
                self.scroll_to_item(item, line=span[0] - base, lines=span[1] - span[0])
        self.refresh()

    def move_cursor(self, step: int) -> bool:
        """Move the cursor to the next (``step`` 1) or previous (-1) target; False if there
        is none that way."""
        current = self._item_of(self.cursor) if self.cursor is not None else None
        if current is None:
            # from the view: the first target on screen going down, the last going up
            self.prepare()
            top = round(self.scroll_y)
            start = self._locate(top if step > 0 else top + max(1, self._view_size.height) - 1)[0]
            for target in self._targets_from(start, step):
                self.select(target)
                return True
            return False
        found = current.targets()
        try:
            position = found.index(self.cursor)
        except ValueError:
            position = -1
        inside = found[position + 1 :] if step > 0 else list(reversed(found[:position]))
        for target in inside:
            self.select(target)
            return True
        for target in self._targets_from(current.index + step, step):
            self.select(target)
            return True
        return False

    def activate(self, target: Any) -> None:
        """Enter or a click on ``target`` (subclasses decide what it does)."""

    def target_at(self, line: int) -> Any:
        """The target shown on the list's line ``line``, if any."""
        if not self.items or self._width <= 0:
            return None
        index, offset = self._locate(line)
        out = self._measure(index, self._render_context())
        hit = None
        for start, end, target in out.targets:
            if start <= offset < end:
                hit = target  # the innermost (targets nest: a pod link inside its call)
        return hit

    def on_click(self, event: events.Click) -> None:
        offset = event.get_content_offset(self)
        if offset is None:
            return
        self.prepare()
        target = self.target_at(round(self.scroll_y) + offset.y - self._pad)
        if target is not None:
            self.cursor = target
            self.refresh()
            self.activate(target)

    def on_focus(self) -> None:
        self.refresh()

    def on_blur(self) -> None:
        self.refresh()

    # -- text selection (mouse drag; the app's copy takes it) --------------------------------
    def _line_text(self, line: int) -> str:
        index, offset = self._locate(line)
        out = self._measure(index, self._render_context())
        if offset >= len(out.lines):
            return ""
        return "".join(segment.text for segment in out.lines[offset]).rstrip()

    def get_selection(self, selection: Selection) -> tuple[str, str] | None:
        """The selected text: the lines drawn between the selection's ends (only those are
        rendered, however long the list)."""
        if not self.items or self._width <= 0:
            return None
        self._rebuild_offsets()
        total = self._offsets[-1]
        first = selection.start.y if selection.start is not None else 0
        last = selection.end.y if selection.end is not None else total - 1
        first, last = max(0, first), min(total - 1, last)
        if last < first:
            return None
        text = "\n".join(self._line_text(line) for line in range(first, last + 1))
        shifted = Selection(
            None if selection.start is None else Offset(selection.start.x, 0),
            None if selection.end is None else Offset(selection.end.x, last - first),
        )
        return shifted.extract(text), "\n"

    def selection_updated(self, selection: Selection | None) -> None:
        self.refresh()

    # -- drawing -----------------------------------------------------------------------------
    def render_lines(self, crop: Any) -> list[Strip]:
        self.prepare()
        return super().render_lines(crop)

    def render_line(self, y: int) -> Strip:
        width = self._width or self._view_size.width
        ctx = self._render_context()
        line = round(self.scroll_y) + y - self._pad
        if not self.items or not 0 <= line < self._offsets[-1]:
            return ctx.blank(width)
        index, offset = self._locate(line)
        out = self.items[index].rendered(width, ctx)
        if len(out.lines) != self._heights[index]:
            # scrolled past what prepare() measured in this frame: right in the next one
            self.call_after_refresh(self.refresh)
        if offset >= len(out.lines):
            return ctx.blank(width)
        strip = out.lines[offset]
        selection = self.text_selection
        if selection is not None and (span := selection.get_span(line)) is not None:
            start, end = span
            end = strip.cell_length if end == -1 else end
            if start < end:
                left, middle, right = strip.divide([start, end, strip.cell_length])[:3]
                style = self.screen.get_component_rich_style("screen--selection")
                middle = Strip(
                    list(Segment.apply_style(iter(middle), post_style=style)), middle.cell_length
                )
                strip = Strip.join([left, middle, right])
        if self.cursor is not None and self.has_focus and out.targets:
            for start, end, target in out.targets:
                if target is self.cursor and start <= offset < end:
                    style = ctx.style("cursor")
                    segments = Segment.apply_style(iter(strip), post_style=style)
                    strip = Strip(list(segments), strip.cell_length)
                    break
        return strip.crop_extend(0, width, ctx.base).apply_offsets(0, line)
