"""Pod list fixes from the console review: a header breakdown that adds up, STATUS always visible
and NAME given the room in a narrow pane, a persistent disconnected
marker, and Esc in the filter closing the filter, not un-zooming, with a truthful
footer. Real keys through the Pilot, real rendering."""

from __future__ import annotations

import dataclasses
import re
import time
from pathlib import Path

from textual.app import App, ComposeResult
from textual.binding import Binding
from textual.containers import Vertical

from opsconsole.ui.widgets.pod_list import PodList, header_lines
from opsconsole.ui.widgets.virtual_table import fit_cell

from .conftest import make_settings, wait_for
from .test_pod_list import pod, screen_text

# the demo's shape: 7 unhealthy pods in 4 problems, two of them Running but not ready
UNHEALTHY = [
    pod("image-resizer-b7f9c8d67g-zz6wc", "shop", "CrashLoopBackOff", ready=0, restarts=9),
    pod("payment-api-fzqmjlq8xg-6zpf2", "payments", "CrashLoopBackOff", ready=0, restarts=4),
    pod("payment-api-fzqmjlq8xg-9kq2d", "payments", "CrashLoopBackOff", ready=0, restarts=5),
    pod("checkout-zwgggnk7b9-x7xrw", "shop", "ImagePullBackOff", ready=0),
    pod("recommend-6c9d7f5b8-q2x7k", "shop", "Running", ready=0),
    pod("search-7d8f9b6c5d-m4n2p", "shop", "Running", ready=0, total=1),
    pod("batch-loader-5f6d7c8b9-k8s2d", "ml", "Pending", ready=0, node=""),
]
HEALTHY = [
    pod("cart-l5lkx6fsg9-7kttc", "shop", node="worker-1-long-node-name"),
    pod("cart-l5lkx6fsg9-flpks", "shop", node="worker-2-long-node-name"),
    pod("coredns-tg9rml7ddd-49xv4", "kube-system", restarts=2),
    pod("grafana-qlc22d8947-9ppd8", "monitoring"),
    pod("job-0", "ml", "Completed", ready=0),
]
ROWS = UNHEALTHY + HEALTHY
BREAKDOWN = "7 unhealthy: CrashLoopBackOff 3, NotReady 2, ImagePullBackOff 1, Pending 1"


class Pane(Vertical):
    ALLOW_MAXIMIZE = True  # as the console's panes


class Host(App[None]):
    """A pod list under an app with the console's Esc binding (Stop) and zoom."""

    ESCAPE_TO_MINIMIZE = False  # what the console's main screen must set (see test below)
    BINDINGS = [Binding("escape", "stop", "Stop")]

    def __init__(self, namespace: str | None = None) -> None:
        super().__init__()
        self.namespace = namespace
        self.stops = 0

    def compose(self) -> ComposeResult:
        with Pane(id="pane"):
            yield PodList(namespace=self.namespace)

    def action_stop(self) -> None:
        self.stops += 1
        if self.screen.maximized is not None:
            self.screen.minimize()


def counts(text: str) -> list[int]:
    """The per-problem counts named in a breakdown (not the total)."""
    return [int(n) for n in re.findall(r"[A-Za-z]+ (\d+)", text.split("unhealthy")[1])]


# -- the breakdown ----------------------------------------------------------------------


async def test_breakdown_counts_every_unhealthy_pod_once_whatever_the_sort():
    app = Host()
    async with app.run_test(size=(200, 20)) as pilot:
        pl = app.query_one(PodList)
        pl.set_rows(ROWS)
        for column in ("name", "age", "status", "restarts", "node", "namespace", "ready"):
            for reverse in (False, True):
                pl.set_sort(column, reverse=reverse)
                await pilot.pause()
                assert BREAKDOWN in pl.header_text, (column, reverse, pl.header_text)
                assert BREAKDOWN in pl.header_line  # wide pane: all of it is shown
        assert "Running" not in pl.header_text  # a not-ready Running pod is NotReady
        # watch events keep it adding up
        pl.apply("MODIFIED", dataclasses.replace(UNHEALTHY[4], ready=1))
        pl.apply("MODIFIED", dataclasses.replace(HEALTHY[3], status="Error", phase="Failed"))
        pl.apply("DELETED", UNHEALTHY[6])
        pl.apply("MODIFIED", dataclasses.replace(HEALTHY[0], deleting=True))
        await pilot.pause()
        assert (
            "7 unhealthy: CrashLoopBackOff 3, Error 1, ImagePullBackOff 1, NotReady 1, "
            "Terminating 1" in pl.header_text
        )
        assert sum(pl.model.unhealthy.values()) == 7


async def test_narrow_header_elides_problems_as_more_never_silently():
    app = Host()
    async with app.run_test(size=(58, 16)) as pilot:  # the pods pane at 120x40
        pl = app.query_one(PodList)
        pl.set_rows(ROWS)
        await pilot.pause()
        shown = pl.header_line
        assert "7 unhealthy: CrashLoopBackOff 3, NotReady 2, +2 more" in shown, shown
        assert all(len(line) <= 56 for line in shown.splitlines())
        assert BREAKDOWN in pl.header_text  # in full in the tooltip
        await pilot.pause()
        assert "+2 more" in screen_text(app)


def test_header_lines_fit_the_width_and_keep_every_pod_counted():
    head = ["40/40 pods"]
    problems = [("CrashLoopBackOff", 3), ("NotReady", 2), ("ImagePullBackOff", 1), ("Pending", 1)]
    stale = "⚠ disconnected — last update 19:02:11"
    for marker in (None, stale):
        for width in range(34, 140):
            lines = header_lines(head, problems, "sort name↑", width, stale=marker, scope="all ns")
            assert len(lines) <= 2 and all(len(line) <= width for line in lines), (width, lines)
            text = " ".join(lines)
            assert "7 unhealthy" in text and "40/40 pods" in text
            if marker:
                assert lines[0].startswith(marker if width >= 37 else "⚠ disconnected · 19:02:11")
            named = counts(text)
            more = re.search(r"\+(\d+) more", text)
            kinds = re.search(r"\((\d+) kinds\)", text)
            # the named problems plus the elided ones are all the problems, never fewer
            assert len(named) + (int(more[1]) if more else 0) == 4 or (kinds and kinds[1] == "4")
    # the 80x24 pane: the scope goes (the status bar has it), the problems are counted
    assert header_lines(head, problems, "sort name↑", 36, scope="all ns") == [
        "40/40 pods · 7 unhealthy (4 kinds)"
    ]
    assert header_lines(head, [], "sort name↑", 40, scope="all ns") == [
        "all ns · 40/40 pods · 0 unhealthy"
    ]


# -- narrow pod list: columns ------------------------------------------------------------


async def test_status_stays_visible_in_the_80x24_pane():
    app = Host()
    async with app.run_test(size=(38, 12)) as pilot:  # the pods pane at 80x24
        pl = app.query_one(PodList)
        pl.set_rows(ROWS)
        pl.set_sort("status")  # the unhealthy ones on screen
        await pilot.pause()
        keys = [c.key for c in pl.table.columns]
        assert "status" in keys and "name" in keys and "ready" in keys, keys
        text = screen_text(app)
        assert "STATUS" in text and "CrashLoopBack" in text and "ImagePull" in text
        # names keep their unique suffix
        assert "-zz6wc" in text and "-6zpf2" in text and "-9kq2d" in text
        # every line of the table fits the pane
        assert sum(c.width for c in pl.table.columns) + 2 * (len(keys) - 1) <= 37


async def test_one_namespace_shown_hides_namespace_and_names_fit_at_120x40():
    app = Host()
    async with app.run_test(size=(58, 16)) as pilot:  # the pods pane at 120x40
        pl = app.query_one(PodList)
        pl.set_rows(ROWS)
        await pilot.pause()
        assert "status" in [c.key for c in pl.table.columns]
        pl.filter = "ns:shop"  # all namespaces, but the rows shown are in one
        await pilot.pause()
        keys = [c.key for c in pl.table.columns]
        assert "namespace" not in keys and "status" in keys, keys
        text = screen_text(app)
        for row in pl.rows():
            assert row.name in text  # in full: pods of one deployment are told apart
        assert "all ns (only shop)" in pl.header_line
        pl.filter = ""
        pl.set_namespace("shop")
        await pilot.pause()
        assert "namespace" not in [c.key for c in pl.table.columns]
        assert "cart-l5lkx6fsg9-7kttc" in screen_text(app)


async def test_all_namespaces_narrow_keeps_status_and_unique_suffixes():
    app = Host()
    async with app.run_test(size=(58, 16)) as pilot:
        pl = app.query_one(PodList)
        pl.set_rows(ROWS)
        pl.set_sort("status")
        await pilot.pause()
        keys = [c.key for c in pl.table.columns]
        assert keys[-2:] == ["ready", "status"] and "namespace" in keys
        text = screen_text(app)
        assert "CrashLoopBackOff" in text and "ImagePullBackOff" in text
        assert "-6zpf2" in text and "-9kq2d" in text and "payment-api-" in text


async def test_zoomed_pane_shows_every_column():
    app = Host()
    async with app.run_test(size=(58, 16)) as pilot:
        pl = app.query_one(PodList)
        pl.set_rows(ROWS)
        await pilot.pause()
        assert "node" not in [c.key for c in pl.table.columns]
        await pilot.resize_terminal(120, 40)  # what zoom gives the pane
        await pilot.pause()
        await pilot.pause()
        keys = [c.key for c in pl.table.columns]
        assert keys == ["namespace", "name", "ready", "status", "restarts", "age", "node"]
        assert "worker-1-long-node-name" in screen_text(app)


def test_middle_cut_keeps_the_pod_suffix_whole():
    assert fit_cell("cart-l5lkx6fsg9-7kttc", 15, cut="middle") == "cart-l5l…-7kttc"
    assert fit_cell("catalog-wsjsddgpk5-bgf68", 19, cut="middle") == "catalog-wsjs…-bgf68"
    assert fit_cell("nodashesatallinthisname", 11, cut="middle") == "nodas…sname"
    assert fit_cell("short", 10, cut="middle") == "short     "


# -- disconnected ---------------------------------------------------------------------------


async def test_stale_marker_stays_until_fresh_rows():
    app = Host()
    async with app.run_test(size=(120, 20)) as pilot:
        pl = app.query_one(PodList)
        pl.set_rows(ROWS)
        stamp = time.strftime("%H:%M:%S", time.localtime(pl.last_update))
        await pilot.pause()
        assert "disconnected" not in screen_text(app)
        pl.set_stale("cluster unreachable: connection refused")
        await pilot.pause()
        marker = f"⚠ disconnected — last update {stamp}"
        assert pl.header_line.startswith(marker) and pl.has_class("-stale")
        assert marker in screen_text(app)
        pl.set_stale("cluster unreachable: connection refused")  # repeated failures: same time
        await pilot.pause(0.05)
        assert pl.header_line.startswith(marker)
        pl.set_rows(ROWS)  # the watch resynced
        await pilot.pause()
        assert "disconnected" not in pl.header_line and not pl.has_class("-stale")
        pl.set_stale("watch error")
        pl.apply("MODIFIED", dataclasses.replace(HEALTHY[0], restarts=1))  # live again
        await pilot.pause()
        assert "disconnected" not in screen_text(app)
        pl.set_stale("x")
        pl.set_stale(None)
        await pilot.pause()
        assert "disconnected" not in pl.header_line


async def test_stale_before_any_rows_says_so():
    app = Host()
    async with app.run_test(size=(120, 20)) as pilot:
        pl = app.query_one(PodList)
        pl.set_stale("cluster unreachable")
        await pilot.pause()
        assert "⚠ disconnected — no data yet" in screen_text(app)


# -- the footer: Esc in the filter ------------------------------------------------------


async def test_esc_in_filter_closes_it_and_the_zoom_stays():
    app = Host()
    async with app.run_test(size=(120, 20)) as pilot:
        pl = app.query_one(PodList)
        pl.set_rows(ROWS)
        pl.table.focus()
        pane = app.query_one(Pane)
        app.screen.maximize(pane, container=False)
        await pilot.pause()
        assert app.screen.maximized is pane
        assert app.screen.active_bindings["escape"].binding.description == "Stop"
        await pilot.press("slash", *"crash")
        await pilot.pause()
        # the footer says what Esc does here
        active = app.screen.active_bindings["escape"]
        assert active.binding.description == "Close filter" and active.binding.show
        await pilot.press("escape")
        await pilot.pause()
        assert not pl.has_class("-filtering") and pl.filter == "" and pl.table.has_focus
        assert app.screen.maximized is pane and app.stops == 0
        assert app.screen.active_bindings["escape"].binding.description == "Stop"
        await pilot.press("escape")  # now Esc is the app's again
        assert app.stops == 1 and app.screen.maximized is None


async def test_console_footer_shows_close_filter(tmp_path: Path):
    from opsconsole.ui.factory import build_app

    app = build_app(make_settings(tmp_path), demo=True, connect=False, frozen=True)
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_for(pilot, lambda: app.main.query("PodList"), 10, "pod list mounted")
        pods = app.main.pods
        pods.set_rows(ROWS)
        pods.table.focus()
        await pilot.press("slash")
        await pilot.pause()
        binding = app.screen.active_bindings["escape"].binding
        assert binding.description == "Close filter" and binding.show
        await pilot.press("escape")
        assert pods.table.has_focus and not pods.has_class("-filtering")


async def test_console_zoomed_esc_in_filter_keeps_zoom(tmp_path: Path):
    from opsconsole.ui.factory import build_app

    app = build_app(make_settings(tmp_path), demo=True, connect=False, frozen=True)
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_for(pilot, lambda: app.main.query("PodList"), 10, "pod list mounted")
        pods = app.main.pods
        pods.set_rows(ROWS)
        pods.table.focus()
        await pilot.press("z", "slash", *"crash")
        await pilot.pause()
        assert app.main.maximized is not None and pods.filter == "crash"
        await pilot.press("escape")
        await pilot.pause()
        assert not pods.has_class("-filtering") and pods.table.has_focus
        assert app.main.maximized is not None  # the zoom stays
        await pilot.press("escape")  # then Esc un-zooms (no agent running)
        assert app.main.maximized is None


def test_counts_kept_by_watch_events_match_a_recount():
    """The breakdown and the one-namespace check are kept incrementally on every event; they
    must always equal a recount of the view (sorts and filters in between)."""
    import random
    from collections import Counter

    from opsconsole.ui.widgets.pod_model import PodTable, _only_namespace

    rnd = random.Random(5)
    statuses = ["Running", "CrashLoopBackOff", "Pending", "Completed", "Error"]
    model = PodTable()
    model.set_rows(ROWS)
    for step in range(600):
        if step % 50 == 0:
            model.set_filter(rnd.choice(["", "ns:shop", "api", "is:unhealthy", "!running"]))
        if step % 70 == 0:
            model.set_sort(rnd.choice(["name", "status", "age", "namespace"]), rnd.random() < 0.5)
        ns = rnd.choice(["shop", "ml", "payments"])
        row = pod(f"p-{rnd.randrange(12)}", ns, rnd.choice(statuses), ready=rnd.randrange(2))
        model.apply(rnd.choice(["ADDED", "MODIFIED", "DELETED", "MODIFIED"]), row)
        view = [model.entry_at(i) for i in range(len(model))]
        expected = Counter(e.category for e in view if e.category)
        assert model.unhealthy == expected, step
        assert model.single_namespace == _only_namespace(view), step
        assert sum(n for _, n in model.breakdown()) == sum(e.category != "" for e in view)


async def test_stale_marker_fits_the_80x24_pane():
    app = Host()
    async with app.run_test(size=(38, 12)) as pilot:
        pl = app.query_one(PodList)
        pl.set_rows(ROWS)
        stamp = time.strftime("%H:%M:%S", time.localtime(pl.last_update))
        pl.set_stale("cluster unreachable")
        await pilot.pause()
        text = screen_text(app)
        assert f"⚠ disconnected · {stamp}" in text and "7 unhealthy" in text
        assert "STATUS" in text
