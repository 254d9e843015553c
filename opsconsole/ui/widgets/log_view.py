"""The log viewer: follow, pause, wrap, timestamps, search and "send selection to agent".

The shell streams a pod's log in a worker and feeds batches on the UI thread::

    log_view.set_source("shop", "api-0", "app", previous=False)   # clears, sets the header
    log_view.set_containers(["app", "istio-proxy"])                # for the container picker
    log_view.append_lines(batch)                                   # a list of str lines
    log_view.append_bytes(chunk)                                   # or raw bytes (fastest)
    log_view.set_container("web", default=True)   # the feed chose kubectl's default container
    log_view.stop_following("pod deleted", "...")  # the stream ended for good: say why
    log_view.clear()

Lines live in a compact bounded :class:`~opsconsole.ui.widgets.log_store.LineStore`
(``max_lines``, default ``settings.ui.log_max_lines``); the body is a Line API widget that
renders only the visible rows, and an append only updates counters and schedules one sync per
turn of the message loop, so batches of any size cost one repaint.

Messages: :class:`LogView.SendToAgent` (``a``, the selected lines), :class:`LogView.PickContainer`
(``c``), :class:`LogView.TogglePrevious` (``p``). The viewer never reads logs itself.

Keys: ``/`` or ctrl+f search (smart case), ``n``/``N`` next/previous match, ``w`` wrap,
``t`` timestamps, ``v`` start/stop a line selection (then ↑/↓), shift+↑/↓ extend it,
``escape`` drop it, ``a`` send it to the agent, End resume following.

Timestamps are off by default, as in ``kubectl logs``: most programs write their own, and the
API's RFC 3339 stamp (31 cells) would fill half of the normal-width pane. The feed still asks
for them, so ``t`` shows them at once for every line already held.

The one-line header fits its width (:func:`fit_header`): the pod name is shortened in the
middle and the least important parts are dropped first, so the follow state and the search
count stay visible in the half-width pane.
"""

from __future__ import annotations

from collections.abc import Iterable
from time import monotonic
from typing import ClassVar

from rich.cells import cell_len
from textual import events, on
from textual.actions import SkipAction
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.message import Message
from textual.reactive import reactive
from textual.widgets import Input, Static

from opsconsole.ui.widgets.log_body import LogBody
from opsconsole.ui.widgets.log_store import LineStore, Matcher, line_offsets

SYNC_HZ = 30
"""Most repaints a second caused by appended lines (keys and toggles repaint at once)."""

SEND_LIMIT_LINES = 2_000
"""At most this many selected lines go to the agent (the newest of the selection)."""

HEADER_SEP = " · "


def _elide(text: str, width: int) -> str:
    """``text`` shortened in the middle to ``width`` cells (pod names differ at both ends)."""
    if cell_len(text) <= width:
        return text
    if width < 3:
        return text[:width]
    keep = width - 1
    head = (keep + 1) // 2
    return text[:head] + "…" + text[len(text) - (keep - head) :]


def fit_header(
    namespace: str, pod: str, suffix: str, parts: list[tuple[str, int]], width: int
) -> str:
    """The header line in ``width`` cells (0: no limit).

    ``namespace/pod`` + ``suffix`` (the container) come first, then ``parts`` as ``(text,
    priority)``, 0 most important. The pod name is shortened in the middle (to 20 cells at
    first), then parts are dropped, least important and rightmost first, then the pod name is
    shortened down to 9 cells, then the namespace goes (the pod list shows it). Whatever
    still does not fit is cut by the widget.
    """
    sep = len(HEADER_SEP)
    kept = list(parts)

    def line(prefix: str, pod_width: int) -> str:
        who = f"{prefix}{_elide(pod, pod_width)}{suffix}"
        return HEADER_SEP.join([who, *(text for text, _ in kept)])

    full = line(f"{namespace}/", len(pod))
    if width <= 0 or cell_len(full) <= width:
        return full
    for prefix, floor in ((f"{namespace}/", 20), (f"{namespace}/", 9), ("", 9)):
        while True:
            fixed = cell_len(prefix) + cell_len(suffix)
            room = width - fixed - sum(cell_len(t) + sep for t, _ in kept)
            if room >= min(floor, len(pod)):
                return line(prefix, max(room, 1))
            if floor < 20 or not kept or max(p for _, p in kept) == 0:
                break
            worst = max(p for _, p in kept)
            del kept[max(i for i, (_, p) in enumerate(kept) if p == worst)]
    return line("", min(9, len(pod)))


class LogView(Vertical):
    """A bounded, searchable log viewer for one pod container."""

    DEFAULT_CSS = """
    LogView {
        height: 1fr;
        & > #log-header { height: 1; background: $panel; color: $foreground; padding: 0 1; }
        &.-paused > #log-header { color: $text-warning; }
        & > #log-search { display: none; height: 3; }
        &.-searching > #log-search { display: block; }
        & > LogBody { height: 1fr; }
    }
    """

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("slash,ctrl+f", "start_search", "Search", id="logs.search", tooltip="Search"),
        Binding("n", "next_match", "Next", show=False, id="logs.next", tooltip="Next match"),
        Binding(
            "N", "previous_match", "Prev", show=False, id="logs.previous", tooltip="Previous match"
        ),
        Binding("w", "toggle_wrap", "Wrap", id="logs.wrap", tooltip="Wrap long lines"),
        Binding("t", "toggle_timestamps", "Times", id="logs.timestamps", tooltip="Timestamps"),
        Binding("v", "toggle_select", "Select", id="logs.select", tooltip="Select lines (↑/↓)"),
        Binding(
            "a",
            "send_to_agent",
            "To agent",
            id="logs.send",
            tooltip="Send the selected lines to the agent as context",
        ),
        Binding(
            "p",
            "toggle_previous",
            "Previous",
            show=False,
            id="logs.previous_container",
            tooltip="Logs of the previous (crashed) container",
        ),
        Binding(
            "c", "pick_container", "Container", id="logs.container", tooltip="Pick a container"
        ),
    ]

    wrap: reactive[bool] = reactive(False, init=False)
    show_timestamps: reactive[bool] = reactive(False, init=False)

    class SendToAgent(Message):
        """Request: use these log lines as context for the next question."""

        def __init__(self, log_view: LogView, text: str, line_count: int) -> None:
            super().__init__()
            self.log_view = log_view
            self.text = text
            self.line_count = line_count
            # (Message.namespace is a class-level naming hint; this instance value shadows it)
            self.namespace = log_view.namespace  # type: ignore[misc,assignment]
            self.pod = log_view.pod
            self.container = log_view.container

        @property
        def control(self) -> LogView:
            return self.log_view

    class PickContainer(Message):
        """Request: let the user pick one of ``containers`` (the shell shows a picker modal)."""

        def __init__(self, log_view: LogView, containers: list[str], current: str | None):
            super().__init__()
            self.log_view = log_view
            self.containers = containers
            self.current = current

        @property
        def control(self) -> LogView:
            return self.log_view

    class TogglePrevious(Message):
        """Request: stream this container's ``previous`` (crashed) instance, or the current."""

        def __init__(self, log_view: LogView, previous: bool) -> None:
            super().__init__()
            self.log_view = log_view
            self.previous = previous
            self.namespace = log_view.namespace  # type: ignore[misc,assignment]
            self.pod = log_view.pod
            self.container = log_view.container

        @property
        def control(self) -> LogView:
            return self.log_view

    def __init__(
        self,
        *,
        max_lines: int = 200_000,
        show_timestamps: bool = False,
        wrap: bool = False,
        name: str | None = None,
        id: str | None = None,
        classes: str | None = None,
    ) -> None:
        super().__init__(name=name, id=id, classes=classes)
        self.store = LineStore(max_lines)
        self.set_reactive(LogView.wrap, wrap)
        self.set_reactive(LogView.show_timestamps, show_timestamps)
        self.namespace: str | None = None
        self.pod: str | None = None
        self.container: str | None = None
        self.previous = False
        self.live = True
        self.ended: str | None = None
        """Why following stopped for good (the pod was deleted...), shown in the header."""
        self.placeholder: str | None = None
        """What the empty body says instead (e.g. "no previous container...")."""
        self.default_container = False
        """The container was chosen for the user (kubectl's default), not picked."""
        self.containers: list[str] = []
        self.matcher: Matcher | None = None
        self.matches: list[int] = []
        """Absolute numbers of the matching lines (oldest first)."""
        self.match_index = -1
        self.match_limit = 100_000
        self.new_while_paused = 0
        self._sync_pending = False
        self._last_sync = 0.0
        self._carry = b""
        self._composed = False  # children composed (``is_mounted`` is still False in on_mount)
        self.header_text = ""

    def compose(self) -> ComposeResult:
        yield Static(id="log-header", markup=False)
        yield LogBody(self, id="log-body")
        yield Input(placeholder="search (smart case); Enter finds, n/N move", id="log-search")

    def on_mount(self) -> None:
        self._composed = True
        self._update_header()
        self._schedule_sync()  # lines appended before mounting

    @property
    def _shown(self) -> bool:
        """Composed and still holding its body: lines that arrive before the children are
        composed, or while the screen takes them down (quitting while a log streams), only go
        to the store."""
        return self._composed and bool(self.query(LogBody))

    # -- public API ------------------------------------------------------------------------
    @property
    def body(self) -> LogBody:
        return self.query_one(LogBody)

    @property
    def following(self) -> bool:
        """True while the view sticks to the newest line (auto-scroll)."""
        return self.body.follow if self._shown else True

    @property
    def line_count(self) -> int:
        return len(self.store)

    def set_source(
        self,
        namespace: str,
        pod: str,
        container: str | None = None,
        previous: bool = False,
        *,
        live: bool = True,
        clear: bool = True,
    ) -> None:
        """Say whose log this is (the header) and, by default, clear the old lines."""
        self.namespace, self.pod, self.container = namespace, pod, container
        self.previous = previous
        self.live = live and not previous
        self.ended = self.placeholder = None
        self.default_container = False
        if clear:
            self.clear()
            self._clear_search()  # a search belongs to the log it was made in
        else:
            self._schedule_sync()

    def set_container(self, container: str, *, default: bool = False) -> None:
        """Name the container shown (``default``: chosen for the user, so the header says so)."""
        self.container = container
        self.default_container = default
        self._schedule_sync()

    def stop_following(self, reason: str, placeholder: str | None = None) -> None:
        """The log stream ended for good: the header says ``reason`` instead of "following";
        ``placeholder`` is what the body says while it holds no lines."""
        self.live = False
        self.ended = reason
        self.placeholder = placeholder
        if self._shown:
            self.body.refresh()
        self._schedule_sync()

    def _clear_search(self) -> None:
        self.matcher = None
        self.matches = []
        self.match_index = -1
        if self._shown:
            field = self.query_one("#log-search", Input)
            field.value = ""
            if self.has_class("-searching"):
                self.remove_class("-searching")
                if field.has_focus:
                    self.body.focus()

    def set_containers(self, containers: Iterable[str]) -> None:
        """The pod's containers (for :class:`PickContainer`)."""
        self.containers = list(containers)

    def append_lines(self, lines: list[str]) -> None:
        """Append a batch of lines (newline characters inside items are split)."""
        if not lines:
            return
        lines, blob = LineStore.normalize(lines)
        self._append(lines, blob, blob + "\n")

    def append_bytes(self, data: bytes, *, final: bool = False) -> None:
        """Append raw UTF-8 log bytes as read from the API (the fastest path).

        ``data`` may end in the middle of a line: the partial line is kept until the next call
        (or shown at once with ``final=True``, e.g. when the stream ends).
        """
        if self._carry:
            data = self._carry + data
            self._carry = b""
        if not final:
            cut = data.rfind(b"\n")
            if cut < 0:
                self._carry = data
                return
            data, self._carry = data[: cut + 1], data[cut + 1 :]
        if not data:
            return
        lines, blob = LineStore.split_bytes(data)
        self._append(lines, blob, blob + b"\n")

    def _append(self, lines: list, blob: str | bytes, ended: str | bytes) -> None:
        first_abs = self.store.total_appended
        dropped = self.store.extend(lines, blob)
        if self.matcher is not None and len(self.matches) < self.match_limit:
            self.matcher.scan(ended, line_offsets(lines), first_abs, self.matches, self.match_limit)
        if self._shown:
            body = self.body
            if not body.follow:
                self.new_while_paused += len(lines)
            body.lines_dropped(dropped)
            self._schedule_sync(throttle=True)

    def clear(self) -> None:
        """Drop every line (and the search results and selection)."""
        self.store.clear()
        self._carry = b""
        self.matches = []
        self.match_index = -1
        self.new_while_paused = 0
        if self._shown:
            self.body.reset()
        self._schedule_sync()

    def search(self, query: str) -> int:
        """Search all held lines; jumps to the newest match. Returns the number of matches."""
        if not query:
            self.matcher = None
            self.matches = []
            self.match_index = -1
            if self._shown:
                self.body.invalidate()
            self._schedule_sync()
            return 0
        self.matcher = Matcher(query)
        self.matches = self.store.search(self.matcher, self.match_limit)
        if self._shown:
            self.body.invalidate()
        self.match_index = len(self.matches) - 1
        if self.matches:
            self._go_to_match()
        self._schedule_sync()
        return len(self.matches)

    def selected_text(self) -> str:
        """The selected lines as shown (timestamps per the toggle), newline-joined."""
        rng = self.body.selection_range()
        if rng is None:
            return ""
        start, stop = rng
        start = max(start, stop - SEND_LIMIT_LINES)
        from opsconsole.ui.widgets.log_render import display_text

        return "\n".join(
            display_text(line, self.show_timestamps)[0] for line in self.store.slice(start, stop)
        )

    # -- sync (coalesced: at most once per turn of the message loop) ------------------------
    def _schedule_sync(self, *, throttle: bool = False) -> None:
        """Sync on the next turn of the loop; appends (``throttle``) at most ``SYNC_HZ`` a second.

        While a log streams, every sync scrolls and so repaints the whole pane; capping that at
        30 a second halves the rendering work of a 60 Hz follow without a visible difference.
        """
        if self._sync_pending or not self._shown:
            return
        self._sync_pending = True
        delay = self._last_sync + 1 / SYNC_HZ - monotonic() if throttle else 0.0
        if delay > 0:
            self.set_timer(delay, self._sync)
        else:
            self.call_later(self._sync)

    def _sync(self) -> None:
        self._last_sync = monotonic()
        self._sync_pending = False
        if not self._shown:  # taken down since it was scheduled
            return
        self.body.sync()
        self._update_header()

    def _update_header(self) -> None:
        """One line, most important first: who, follow state, search, selection, toggles."""
        parts: list[tuple[str, int]] = []  # (text, priority: 0 is kept longest)
        if self.previous:
            parts.append(("previous container", 0))
        paused = self._shown and not self.body.follow
        if self.pod and self.ended:
            parts.append((f"⏹ {self.ended}", 0))
        elif paused:
            new = self.new_while_paused
            # short: the half-width pane must keep the search count beside it
            parts.append((f"⏸ {new:,} new (End)" if new else "⏸ paused (End)", 0))
        elif self.live and self.pod:
            parts.append(("following", 0))
        if self.matcher is not None:
            n = len(self.matches)
            pos = self._match_position()
            more = "+" if n >= self.match_limit else ""
            where = f"{pos + 1}/{n}{more}" if pos >= 0 else f"{n}{more}"
            parts.append((f"/{self.matcher.query}: {where}", 0))
        rng = self.body.selection_range() if self._shown else None
        if rng is not None:
            parts.append((f"{rng[1] - rng[0]} selected (a: to agent)", 0))
        scroll_x = int(self.body.scroll_x) if self._shown and not self.wrap else 0
        if scroll_x:  # (no horizontal scrollbar: see LogBody)
            parts.append((f"→ col {scroll_x + 1}", 1))
        store = self.store
        count = f"{len(store):,} lines"
        if store.dropped:
            count += f" ({store.dropped:,} older dropped)"
        parts.append((count, 1))  # dropped before the column (rightmost goes first)
        if self.wrap:
            parts.append(("wrap", 3))
        if self.show_timestamps:
            parts.append(("timestamps", 3))
        header = self.query_one("#log-header", Static)
        if self.pod:
            suffix = ""
            if self.container:
                suffix = f" › {self.container}"
                if self.default_container:
                    suffix += " (default)"
            width = header.content_region.width if self._shown else 0
            text = fit_header(self.namespace or "", self.pod, suffix, parts, width)
        elif not len(store) and self.matcher is None:
            text = "no pod selected: l on a pod shows its log"
        else:
            text = HEADER_SEP.join(["no pod selected", *(t for t, _ in parts)])
        self.header_text = text
        header.update(text, layout=False)
        self.set_class(paused, "-paused")

    # -- search navigation -----------------------------------------------------------------
    def _prune_matches(self) -> None:
        first = self.store.dropped
        if self.matches and self.matches[0] < first:
            from bisect import bisect_left

            cut = bisect_left(self.matches, first)
            del self.matches[:cut]
            self.match_index = max(self.match_index - cut, -1 if not self.matches else 0)

    def _match_position(self) -> int:
        self._prune_matches()
        if not self.matches:
            return -1
        return min(self.match_index, len(self.matches) - 1)

    def _go_to_match(self) -> None:
        pos = self._match_position()
        if pos < 0:
            return
        self.match_index = pos
        self.body.invalidate()  # the current match is drawn differently
        index = self.matches[pos] - self.store.dropped
        self.body.show_line(index)
        self.body.reveal_match(index)

    @property
    def current_match_line(self) -> int | None:
        """Index (into the held lines) of the current match, if any."""
        pos = self._match_position()
        return self.matches[pos] - self.store.dropped if pos >= 0 else None

    def action_next_match(self) -> None:
        if not self.matches:
            raise SkipAction()
        self.match_index = (self._match_position() + 1) % len(self.matches)
        self._go_to_match()
        self._schedule_sync()

    def action_previous_match(self) -> None:
        if not self.matches:
            raise SkipAction()
        self.match_index = (self._match_position() - 1) % len(self.matches)
        self._go_to_match()
        self._schedule_sync()

    def action_start_search(self) -> None:
        self.add_class("-searching")
        field = self.query_one("#log-search", Input)
        if self.matcher is not None and not field.value:
            field.value = self.matcher.query
        field.focus()

    @on(Input.Submitted, "#log-search")
    def _on_search_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self.search(event.value)
        self.remove_class("-searching")
        self.body.focus()

    def on_key(self, event: events.Key) -> None:  # Esc in the search field closes it
        if event.key == "escape" and self.has_class("-searching"):
            event.stop()
            self.remove_class("-searching")
            self.body.focus()

    # -- toggles and requests --------------------------------------------------------------
    def watch_wrap(self) -> None:
        self._refresh_all()

    def watch_show_timestamps(self) -> None:
        self._refresh_all()

    def _refresh_all(self) -> None:
        if self._shown:
            self.body.invalidate()
            self._schedule_sync()

    def action_toggle_wrap(self) -> None:
        self.wrap = not self.wrap

    def action_toggle_timestamps(self) -> None:
        self.show_timestamps = not self.show_timestamps

    def action_toggle_select(self) -> None:
        self.body.toggle_selection()
        self._schedule_sync()

    def action_send_to_agent(self) -> None:
        rng = self.body.selection_range()
        if rng is None:
            self.notify("Select lines first: v (then ↑/↓), shift+↑/↓ or drag with the mouse")
            return
        text = self.selected_text()
        self.post_message(self.SendToAgent(self, text, min(rng[1] - rng[0], SEND_LIMIT_LINES)))
        self.body.clear_selection()
        self._schedule_sync()

    def action_toggle_previous(self) -> None:
        if self.pod is None:
            raise SkipAction()
        self.post_message(self.TogglePrevious(self, not self.previous))

    def action_pick_container(self) -> None:
        if self.pod is None:
            raise SkipAction()
        self.post_message(self.PickContainer(self, list(self.containers), self.container))
