"""The pod list: a k9s-style virtual table of pods fed by a watch, with filter, sort and counts.

Feeding (the shell does the I/O in a worker and calls these on the UI thread)::

    pod_list.set_rows(rows)                 # initial list, or a resync after a watch expired
    pod_list.apply("MODIFIED", row)         # one watch event: O(1) rows touched, no reload
    pod_list.set_namespace(None)            # all namespaces (shows the NAMESPACE column)
    pod_list.select_pod("shop", "api-0")    # move the cursor (the trace-to-pod link)

Messages (requests and facts for the shell): :class:`PodList.PodHighlighted`,
:class:`PodList.OpenLogs` (``l`` / Enter / double click), :class:`PodList.Describe` (``d``).

Staleness: ``pod_list.set_stale("cluster unreachable")`` when the feed fails; the header then
says ``disconnected — last update HH:MM:SS`` until ``set_stale(None)`` or fresh data
(``set_rows`` / ``apply``).

Keys: ``/`` filter (Enter keeps it, Esc closes and clears it), ``s`` next sort column,
``S`` reverse, arrows / PgUp / PgDn / Home / End (also j k g G) move. Filter syntax: see
:func:`opsconsole.ui.widgets.pod_model.compile_filter` (``crash``, ``status:pending``,
``node:worker-3``, ``ns:shop``, ``is:unhealthy``, ``!running``).
"""

from __future__ import annotations

import time
from dataclasses import replace
from typing import ClassVar

from rich.cells import cell_len
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.message import Message
from textual.reactive import reactive
from textual.widgets import Input, Static

from opsconsole.k8s.models import PodRow
from opsconsole.ui.widgets.pod_model import COLUMNS, PodTable, format_age
from opsconsole.ui.widgets.virtual_table import Step, VirtualTable, fit_columns

_TITLES = {
    "namespace": "NAMESPACE",
    "name": "NAME",
    "ready": "READY",
    "status": "STATUS",
    "restarts": "RESTARTS",
    "age": "AGE",
    "node": "NODE",
}
_ALIGN = {"ready": "right", "restarts": "right", "age": "right"}
_DROP_ORDER: tuple[Step, ...] = ("node", "age", "restarts", ("namespace", 8))
"""Columns left out (or cut), in this order, while the pane is too narrow for NAME in full."""
_SQUEEZE: tuple[Step, ...] = ("namespace", ("name", 14), ("status", 12), ("name", 10))
"""Then, with NAME at its minimum, while the row is still too wide. STATUS is never left out."""
_SORT_ARROW = {False: "↑", True: "↓"}
_SHORT_TITLES = {"namespace": "NS", "restarts": "RST"}
"""Titles for columns cut narrower than their full title."""


class _PodSource:
    """Adapts :class:`PodTable` to :class:`VirtualTable`'s row source protocol."""

    def __init__(self, model: PodTable) -> None:
        self.model = model
        self.all_namespaces = True

    def __len__(self) -> int:
        return len(self.model)

    def cells(self, index: int) -> dict[str, str]:
        entry = self.model.entry_at(index)
        row = entry.row
        return {
            "namespace": row.namespace,
            "name": row.name,
            "ready": row.ready_text,
            "status": row.status,
            "restarts": str(row.restarts),
            "age": format_age(time.time() - entry.epoch) if entry.epoch else "?",
            "node": row.node or "<none>",
        }

    def row_class(self, index: int) -> str:
        return self.model.entry_at(index).health


class _RowMessage(Message):
    """A pod-list message about one row; ``control`` is the list."""

    def __init__(self, pod_list: PodList, row: PodRow) -> None:
        super().__init__()
        self.pod_list = pod_list
        self.row = row

    @property
    def control(self) -> PodList:
        return self.pod_list


class PodList(Vertical):
    """Pods of one namespace or all, as a virtual table (renders only the visible rows)."""

    DEFAULT_CSS = """
    PodList {
        height: 1fr;
        & > #pod-list-header {
            height: auto;
            max-height: 2;
            background: $panel;
            color: $foreground;
            padding: 0 1;
        }
        &.-stale > #pod-list-header {
            background: $error-muted;
            color: $text-error;
            text-style: bold;
        }
        &.-stale > VirtualTable { text-opacity: 70%; }
        & > #pod-list-filter { display: none; height: 3; }
        &.-filtering > #pod-list-filter { display: block; }
        & > VirtualTable { height: 1fr; }
    }
    """

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding(
            "slash",
            "start_filter",
            "Filter",
            id="pods.filter",
            tooltip="Filter pods by name, namespace, status or node (status:crash, is:unhealthy)",
        ),
        Binding("l", "open_logs", "Logs", id="pods.logs", tooltip="Show the pod's logs"),
        Binding(
            "enter", "open_logs", "Logs", show=False, id="pods.enter", tooltip="Show the pod's logs"
        ),
        Binding("d", "describe", "Describe", id="pods.describe", tooltip="Describe the pod"),
        Binding("s", "cycle_sort", "Sort", id="pods.sort", tooltip="Sort by the next column"),
        Binding(
            "S", "reverse_sort", "Reverse", show=False, id="pods.reverse", tooltip="Reverse sort"
        ),
        # active only while the filter is open (check_action): nearer the focus than the app's
        # Esc (Stop), so it wins and the footer says what Esc does here
        Binding(
            "escape",
            "close_filter",
            "Close filter",
            id="pods.filter_close",
            tooltip="Close and clear the filter",
        ),
    ]

    filter: reactive[str] = reactive("", init=False)
    """The filter text (what ``/`` edits). Setting it re-filters at once."""

    class PodHighlighted(_RowMessage):
        """The cursor is on a (different) pod."""

    class OpenLogs(_RowMessage):
        """Request: show this pod's logs (``l``, Enter or a double click)."""

    class Describe(_RowMessage):
        """Request: describe this pod (``d``)."""

    def __init__(
        self,
        *,
        namespace: str | None = None,
        name: str | None = None,
        id: str | None = None,
        classes: str | None = None,
    ) -> None:
        super().__init__(name=name, id=id, classes=classes)
        self.model = PodTable()
        self.model.set_namespace(namespace)
        self._source = _PodSource(self.model)
        self._source.all_namespaces = namespace is None
        self._cursor_key: tuple[str, str] | None = None
        self._header_pending = False
        self._composed = False  # children composed (``is_mounted`` is still False in on_mount)
        self.header_text = ""
        """The header's full text (the one-line header shows :attr:`header_line`)."""
        self.header_line = ""
        """What the header shows: :attr:`header_text` fitted to the pane (one or two lines)."""
        self._header_rows = 1
        self.stale_reason: str | None = None
        """Why the rows may be out of date (the feed failed), or ``None``: live."""
        self.last_update: float | None = None
        """Wall-clock time of the last rows received (``set_rows`` / ``apply``)."""

    def compose(self) -> ComposeResult:
        yield Static(id="pod-list-header", markup=False)
        yield Input(
            placeholder="filter: text, status:crash, node:x, ns:y, is:unhealthy, !running",
            id="pod-list-filter",
        )
        yield VirtualTable(self._source, id="pod-list-table")

    def on_mount(self) -> None:
        if not self.query("#pod-list-table"):
            return  # the app is closing while the pane mounts (a quit during start-up)
        self._composed = True
        if self.filter:  # set before mounting
            self.query_one("#pod-list-filter", Input).value = self.filter
        self._refit()
        self._after_reset()
        self._update_header()
        self.set_interval(5.0, self.table.refresh)  # ages

    # -- public API ------------------------------------------------------------------------
    @property
    def table(self) -> VirtualTable:
        return self.query_one("#pod-list-table", VirtualTable)

    @property
    def namespace(self) -> str | None:
        """The namespace shown, or ``None`` for all namespaces."""
        return self.model.namespace

    @property
    def all_namespaces(self) -> bool:
        return self.model.namespace is None

    @property
    def highlighted(self) -> PodRow | None:
        """The pod under the cursor."""
        if not len(self.model) or not self._composed:
            return None
        return self.model.row_at(min(self.table.cursor, len(self.model) - 1))

    def set_rows(self, rows: list[PodRow]) -> None:
        """Replace all rows (initial sync or resync). The cursor stays on the same pod.

        Fresh rows clear a :meth:`set_stale` marker."""
        self._fresh()
        self.model.set_rows(rows)
        self._refit()
        self._after_reset()

    def apply(self, event_type: str, row: PodRow) -> None:
        """Apply one watch event (``ADDED``/``MODIFIED``/``DELETED``); repaints only what moved."""
        self._fresh()
        change = self.model.apply(event_type, row)
        if not self._composed:
            return
        table = self.table
        if change.removed is None and change.inserted is None:
            self._schedule_header()
            return
        if change.removed is not None and change.removed == change.inserted:
            table.row_changed(change.inserted)
        else:
            first = min(i for i in (change.removed, change.inserted) if i is not None)
            table.rows_changed(first)
        if table.columns and (self._widths_outgrown() or change.removed != change.inserted):
            self._refit()
        self._restore_cursor(moved_row_key=row.key)
        self._schedule_header()

    def set_stale(self, reason: str | None) -> None:
        """Mark the rows as out of date (the feed failed: ``reason``) or live again (``None``).

        While stale the header starts with ``disconnected — last update HH:MM:SS`` and the rows
        are dimmed. ``set_rows`` and ``apply`` clear it (fresh data means a live feed)."""
        if reason == self.stale_reason:
            return
        self.stale_reason = reason
        self.set_class(reason is not None, "-stale")
        if self._composed:
            self._schedule_header()

    def _fresh(self) -> None:
        self.last_update = time.time()
        if self.stale_reason is not None:
            self.set_stale(None)

    def set_namespace(self, namespace: str | None) -> None:
        """Show one namespace, or all (``None``) with a NAMESPACE column."""
        self.model.set_namespace(namespace)
        self._source.all_namespaces = namespace is None
        self._refit()
        self._after_reset()

    def set_sort(self, column: str, reverse: bool | None = None) -> None:
        """Sort by ``column`` (one of ``COLUMNS``), optionally setting the direction."""
        self.model.set_sort(column, reverse)
        self._after_reset()

    def select_pod(self, namespace: str, name: str) -> bool:
        """Move the cursor to a pod; clears a filter that hides it. False if it is not listed."""
        key = (namespace, name)
        index = self.model.index_of(key)
        if index is None and self.model.get(namespace, name) is not None and self.filter:
            self.filter = ""
            index = self.model.index_of(key)
        if index is None:
            return False
        if self._composed:
            self.table.move_cursor(index, force_message=True)  # -> PodHighlighted if it moved
        else:
            self._cursor_key = key  # the cursor goes there when mounted
        return True

    def rows(self) -> list[PodRow]:
        """The rows shown, in display order."""
        return self.model.rows()

    # -- internals -------------------------------------------------------------------------
    def watch_filter(self, value: str) -> None:
        self.model.set_filter(value)
        if self._composed:
            field = self.query_one("#pod-list-filter", Input)
            if field.value != value:
                field.value = value
        self._after_reset()

    def _after_reset(self) -> None:
        if not self._composed:
            return
        self._refit()
        index = self.model.index_of(self._cursor_key) if self._cursor_key else None
        self.table.reset(cursor=index if index is not None else self.table.cursor)
        self._schedule_header()

    def _restore_cursor(self, moved_row_key: tuple[str, str]) -> None:
        table = self.table
        index = self.model.index_of(self._cursor_key) if self._cursor_key else None
        if index is None:  # the highlighted pod went away (or none yet): stay at that position
            table.move_cursor(table.cursor, force_message=self._cursor_key == moved_row_key)
        elif index != table.cursor:
            old = table.cursor
            table.cursor = index
            table.refresh_lines(old + 1)
            table.refresh_lines(index + 1)
            table._scroll_cursor_into_view()

    def _widths_outgrown(self) -> bool:
        cols = {c.key: c.width for c in self.table.columns}
        w = self.model.widths
        return any(w[k] > cols.get(k, w[k]) for k in cols)

    def _refit(self) -> None:
        if not self._composed:
            return
        table = self.table
        m = self.model
        keys = [c for c in COLUMNS if c != "namespace" or self._shows_namespace()]
        widths = dict(m.widths)
        if len(m):
            widths["name"] = m.view_name_width  # a filter or one namespace: its own widest name
        arrow = _SORT_ARROW[m.reverse]
        titles = {k: _TITLES[k] + (arrow if k == m.sort_column else "") for k in keys}
        specs = [(k, titles[k], widths[k], _ALIGN.get(k, "left")) for k in keys]
        # the outer width, less the vertical scrollbar when the rows will need one
        width = table.outer_size.width or self.size.width
        if len(self.model) + 1 > table.outer_size.height:
            width -= 1
        columns = fit_columns(
            specs, width, flex="name", min_flex=16, drop_order=_DROP_ORDER, squeeze=_SQUEEZE
        )
        table.set_columns(
            [
                replace(c, title=_SHORT_TITLES[c.key] + c.title[len(_TITLES[c.key]) :])
                if c.key in _SHORT_TITLES and c.width < cell_len(c.title)
                else c
                for c in columns
            ]
        )

    def _shows_namespace(self) -> bool:
        """NAMESPACE is a column for all namespaces, unless every row shown is in one."""
        return self._source.all_namespaces and self.model.single_namespace is None

    def on_resize(self) -> None:
        self._refit()
        self._schedule_header()
        self.call_after_refresh(self._refit)  # the table's own size settles after layout

    def _schedule_header(self) -> None:
        if not self._header_pending:
            self._header_pending = True
            self.call_later(self._update_header)

    def _update_header(self) -> None:
        """Most important first: a stale marker, scope, shown/total, unhealthy by problem,
        filter, sort; see :func:`header_lines` for how it fits a narrow pane."""
        self._header_pending = False
        if not self._composed:
            return
        header = self.query_one("#pod-list-header", Static)
        m = self.model
        stale = self._stale_text() if self.stale_reason is not None else None
        if m.namespace is not None:
            scope = f"ns {m.namespace}"
        elif m.single_namespace is not None:
            scope = f"all ns (only {m.single_namespace})"
        else:
            scope = "all ns"
        head = [f"{len(m):,}/{m.total:,} pods"]
        if m.filter_text:
            head.append(f"filter “{m.filter_text}”")
        sort = f"sort {m.sort_column}{_SORT_ARROW[m.reverse]}"
        problems = m.breakdown()
        width = header.content_size.width
        lines = header_lines(head, problems, sort, width, stale=stale, scope=scope)
        full = [stale or "", scope, *head, _unhealthy_text(problems, len(problems)), sort]
        self.header_text = " · ".join(p for p in full if p)
        self.header_line = "\n".join(lines)
        header.update(self.header_line, layout=len(lines) != self._header_rows)
        self._header_rows = len(lines)
        header.tooltip = None if [self.header_text] == lines else self.header_text
        header.set_class(bool(problems), "-unhealthy")

    def _stale_text(self) -> str:
        if self.last_update is None:
            return "⚠ disconnected — no data yet"
        stamp = time.strftime("%H:%M:%S", time.localtime(self.last_update))
        return f"⚠ disconnected — last update {stamp}"

    @on(VirtualTable.CursorMoved, "#pod-list-table")
    def _on_cursor_moved(self, event: VirtualTable.CursorMoved) -> None:
        event.stop()
        row = self.highlighted  # the model may have changed since the message was posted
        if row is None:
            return
        if row.key != self._cursor_key:
            self._cursor_key = row.key
            self.post_message(self.PodHighlighted(self, row))

    @on(VirtualTable.RowActivated, "#pod-list-table")
    def _on_row_activated(self, event: VirtualTable.RowActivated) -> None:
        event.stop()
        self.action_open_logs()

    @on(VirtualTable.HeaderClicked, "#pod-list-table")
    def _on_header_clicked(self, event: VirtualTable.HeaderClicked) -> None:
        """Click a title to sort by it; click it again to reverse."""
        event.stop()
        if event.key == self.model.sort_column:
            self.model.set_reverse(not self.model.reverse)
            self._after_reset()
        else:
            self.set_sort(event.key, reverse=False)

    @on(Input.Changed, "#pod-list-filter")
    def _on_filter_changed(self, event: Input.Changed) -> None:
        event.stop()
        # read the field's current value: a programmatic ``filter = ...`` also posts Changed,
        # and a stale queued value must not undo a later change
        self.filter = event.input.value

    @on(Input.Submitted, "#pod-list-filter")
    def _on_filter_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self.remove_class("-filtering")
        self.table.focus()
        self.refresh_bindings()

    # -- actions ---------------------------------------------------------------------------
    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "close_filter":  # hidden and inactive (Esc goes on to the app) otherwise
            return self.has_class("-filtering")
        return True

    def action_start_filter(self) -> None:
        self.add_class("-filtering")
        self.query_one("#pod-list-filter", Input).focus()
        self.refresh_bindings()

    def action_close_filter(self) -> None:
        """Esc while filtering: clear the filter, hide the input, focus the table."""
        self.filter = ""
        self.remove_class("-filtering")
        self.table.focus()
        self.refresh_bindings()

    def action_open_logs(self) -> None:
        row = self.highlighted
        if row is not None:
            self.post_message(self.OpenLogs(self, row))

    def action_describe(self) -> None:
        row = self.highlighted
        if row is not None:
            self.post_message(self.Describe(self, row))

    def action_cycle_sort(self) -> None:
        keys = [c for c in COLUMNS if c != "namespace" or self._source.all_namespaces]
        current = self.model.sort_column
        nxt = keys[(keys.index(current) + 1) % len(keys)] if current in keys else "name"
        self.set_sort(nxt)

    def action_reverse_sort(self) -> None:
        self.model.set_reverse(not self.model.reverse)
        self._after_reset()


def _unhealthy_text(problems: list[tuple[str, int]], shown: int) -> str:
    """``7 unhealthy: CrashLoopBackOff 3, NotReady 2, +2 more`` (the first ``shown`` named);
    ``7 unhealthy (4 kinds)`` when none is named."""
    bad = sum(n for _, n in problems)
    if not problems:
        return "0 unhealthy"
    if not shown:
        return (
            f"{bad:,} unhealthy ({len(problems)} kinds)"
            if len(problems) > 1
            else (f"{bad:,} unhealthy")
        )
    named = [f"{p} {n:,}" for p, n in problems[:shown]]
    if shown < len(problems):
        named.append(f"+{len(problems) - shown} more")
    return f"{bad:,} unhealthy: " + ", ".join(named)


def header_lines(
    head: list[str],
    problems: list[tuple[str, int]],
    sort: str,
    width: int,
    *,
    stale: str | None = None,
    scope: str = "",
) -> list[str]:
    """The pod list's header in ``width`` cells (``<= 0``: unbounded), one or two lines.

    ``stale`` (a disconnected marker) always comes first and is never left out; ``scope``
    (``all ns``) then ``head`` (counts, filter) follow. Every unhealthy pod is counted once,
    under one problem; problems are never dropped silently. In order of preference:

    1. one line with every problem named (with the sort, then without it);
    2. two lines: ``stale · scope · head · sort`` (less the sort, then the scope, if need
       be), then the problems, the last ones elided as ``+N more``;
    3. one line with ``N unhealthy (K kinds)``, without the scope if need be (the status bar
       has it); with a stale marker, two lines: the marker, then the rest.

    The header's tooltip has the full text.
    """

    def fits(*lines: str) -> bool:
        return width <= 0 or all(cell_len(line) <= width for line in lines)

    def join(*parts: str | None) -> str:
        return " · ".join(p for p in parts if p)

    if stale and not fits(stale):  # the 80x24 pane: "⚠ disconnected · 19:02:11"
        stale = stale.replace(" — last update ", " · ")
    n = len(problems)
    full = _unhealthy_text(problems, n)
    lead = [stale, scope, *head]
    for line in (join(*lead, full, sort), join(*lead, full)):
        if fits(line):
            return [line]
    firsts = [join(*lead, sort), join(*lead), join(stale, *head)]
    first = next((f for f in firsts if fits(f)), None)
    for shown in range(n, 0, -1) if first is not None else ():
        if fits(second := _unhealthy_text(problems, shown)):
            return [first, second]
    short = _unhealthy_text(problems, 0)
    candidates = [[join(*lead, short)], [join(stale, *head, short)]]
    if stale:
        candidates += [[stale, join(scope, *head, short)], [stale, join(*head, short)]]
    return next((c for c in candidates if fits(*c)), candidates[-1])
