"""PodList behaviour through a tiny host app and the Pilot (real keys, real rendering)."""

from __future__ import annotations

import dataclasses

from textual.app import App, ComposeResult
from textual.message import Message

from opsconsole.k8s.models import PodRow
from opsconsole.ui.widgets.pod_list import PodList


def pod(
    name: str,
    namespace: str = "shop",
    status: str = "Running",
    *,
    ready: int = 1,
    total: int = 1,
    restarts: int = 0,
    node: str = "node-1",
    created: str = "2026-01-01T00:00:00Z",
) -> PodRow:
    phase = {"Pending": "Pending", "Completed": "Succeeded", "Failed": "Failed"}.get(
        status, "Running"
    )
    return PodRow(
        namespace=namespace,
        name=name,
        uid=f"uid-{namespace}-{name}",
        phase=phase,
        status=status,
        ready=ready,
        total=total,
        restarts=restarts,
        node=node,
        pod_ip="10.0.0.1",
        created=created,
    )


ROWS = [
    pod("api-0", restarts=1, created="2026-01-03T00:00:00Z"),
    pod("api-1", status="CrashLoopBackOff", ready=0, restarts=7, node="node-2"),
    pod("web-0", namespace="front", node="node-3", created="2026-01-02T00:00:00Z"),
    pod("db-0", namespace="data", status="Pending", ready=0, node=""),
    pod("job-1", namespace="data", status="Completed", ready=0),
]


class Host(App[None]):
    def __init__(self, namespace: str | None = None) -> None:
        super().__init__()
        self.namespace = namespace
        self.messages: list[Message] = []

    def compose(self) -> ComposeResult:
        yield PodList(namespace=self.namespace)

    def on_pod_list_pod_highlighted(self, message: PodList.PodHighlighted) -> None:
        self.messages.append(message)

    def on_pod_list_open_logs(self, message: PodList.OpenLogs) -> None:
        self.messages.append(message)

    def on_pod_list_describe(self, message: PodList.Describe) -> None:
        self.messages.append(message)


def names(pl: PodList) -> list[str]:
    return [r.name for r in pl.rows()]


def screen_text(app: App) -> str:
    return "\n".join(
        "".join(seg.text for seg in strip) for strip in app.screen._compositor.render_strips()
    )


async def test_rows_sorted_by_name_and_rendered():
    app = Host()
    async with app.run_test(size=(120, 20)) as pilot:
        pl = app.query_one(PodList)
        pl.set_rows(ROWS)
        await pilot.pause()
        assert names(pl) == ["api-0", "api-1", "db-0", "job-1", "web-0"]
        text = screen_text(app)
        assert "NAMESPACE" in text and "RESTARTS" in text and "NODE" in text
        assert "CrashLoopBackOff" in text
        assert "5/5 pods" in text
        assert "2 unhealthy" in text  # CrashLoopBackOff + Pending; Completed is fine
        assert "CrashLoopBackOff 1, Pending 1" in pl.header_text


async def test_one_namespace_hides_namespace_column_and_other_rows():
    app = Host(namespace="shop")
    async with app.run_test(size=(120, 20)) as pilot:
        pl = app.query_one(PodList)
        pl.set_rows(ROWS)
        await pilot.pause()
        assert names(pl) == ["api-0", "api-1"]
        text = screen_text(app)
        assert "NAMESPACE" not in text and "ns shop" in text
        pl.set_namespace(None)
        await pilot.pause()
        assert len(pl.rows()) == 5
        assert "NAMESPACE" in screen_text(app)


async def test_filter_by_typing_and_prefixes():
    app = Host()
    async with app.run_test(size=(120, 20)) as pilot:
        pl = app.query_one(PodList)
        pl.set_rows(ROWS)
        pl.table.focus()
        await pilot.press("slash", *"crash")
        await pilot.pause()
        assert names(pl) == ["api-1"]
        await pilot.press("enter")  # keep the filter, back to the table
        assert pl.table.has_focus and pl.filter == "crash"
        pl.filter = "node:node-3"
        assert names(pl) == ["web-0"]
        pl.filter = "ns:data !pending"
        assert names(pl) == ["job-1"]
        pl.filter = "is:unhealthy"
        assert names(pl) == ["api-1", "db-0"]
        pl.filter = "status:COMPLETED"
        assert names(pl) == ["job-1"]
        await pilot.press("slash", "escape")  # Esc in the filter clears it
        assert pl.filter == "" and len(pl.rows()) == 5


async def test_sort_cycle_and_reverse():
    app = Host()
    async with app.run_test(size=(120, 20)) as pilot:
        pl = app.query_one(PodList)
        pl.set_rows(ROWS)
        pl.table.focus()
        await pilot.press("s", "s", "s")  # namespace -> name -> ready -> status (from name)
        assert pl.model.sort_column == "restarts"
        assert [r.restarts for r in pl.rows()] == [0, 0, 0, 1, 7]
        await pilot.press("S")
        assert [r.restarts for r in pl.rows()] == [7, 1, 0, 0, 0]
        pl.set_sort("status", reverse=False)
        assert names(pl)[:2] == ["api-1", "db-0"]  # errors first, then warnings
        pl.set_sort("age")
        assert names(pl)[0] == "api-0"  # youngest first


async def test_cursor_keys_click_and_messages():
    app = Host()
    async with app.run_test(size=(120, 20)) as pilot:
        pl = app.query_one(PodList)
        pl.set_rows(ROWS)
        pl.table.focus()
        await pilot.pause()
        await pilot.press("down", "down")
        assert pl.highlighted.name == "db-0"
        await pilot.press("end")
        assert pl.highlighted.name == "web-0"
        await pilot.press("home")
        assert pl.highlighted.name == "api-0"
        app.messages.clear()
        await pilot.press("l")
        await pilot.press("d")
        await pilot.press("down", "enter")
        await pilot.pause()
        kinds = [(type(m).__name__, m.row.name) for m in app.messages]
        assert kinds == [
            ("OpenLogs", "api-0"),
            ("Describe", "api-0"),
            ("PodHighlighted", "api-1"),
            ("OpenLogs", "api-1"),
        ]
        # a click on the 4th row (header line 0 of the table; table starts below the header)
        table = pl.table
        await pilot.click(table, offset=(5, 4))
        assert pl.highlighted.name == "job-1"
        # a click on a column title sorts by it, a second click reverses
        status_x = sum(c.width + 2 for c in table.columns[:3]) + 1
        assert table.columns[3].key == "status"
        await pilot.click(table, offset=(status_x, 0))
        assert pl.model.sort_column == "status" and names(pl)[0] == "api-1"
        await pilot.click(table, offset=(status_x, 0))
        assert pl.model.reverse and names(pl)[-1] == "api-1"


async def test_watch_events_touch_one_row():
    app = Host()
    async with app.run_test(size=(120, 20)) as pilot:
        pl = app.query_one(PodList)
        pl.set_rows(ROWS)
        pl.table.focus()
        await pilot.press("down")  # api-1
        assert pl.highlighted.name == "api-1"
        pl.apply("ADDED", pod("aaa-new"))
        assert names(pl)[0] == "aaa-new"
        assert pl.highlighted.name == "api-1"  # the cursor follows its pod
        fixed = dataclasses.replace(ROWS[1], status="Running", ready=1, restarts=8)
        pl.apply("MODIFIED", fixed)
        assert pl.model.get("shop", "api-1").restarts == 8
        assert sum(pl.model.unhealthy.values()) == 1  # only db-0 Pending left
        pl.set_sort("restarts")
        pl.apply("MODIFIED", dataclasses.replace(ROWS[0], restarts=99))
        assert names(pl)[-1] == "api-0"
        pl.apply("DELETED", ROWS[3])
        assert "db-0" not in names(pl) and pl.model.total == 5
        assert sum(pl.model.unhealthy.values()) == 0
        # a filtered-out pod changing does not show up
        pl.filter = "api"
        pl.apply("MODIFIED", dataclasses.replace(ROWS[2], restarts=3))
        assert names(pl) == ["api-1", "api-0"]
        await pilot.pause()
        assert "api-1" in screen_text(app)


async def test_deleting_highlighted_pod_highlights_next():
    app = Host()
    async with app.run_test(size=(120, 20)) as pilot:
        pl = app.query_one(PodList)
        pl.set_rows(ROWS)
        await pilot.pause()
        assert pl.highlighted.name == "api-0"
        app.messages.clear()
        pl.apply("DELETED", ROWS[0])
        await pilot.pause()
        assert pl.highlighted.name == "api-1"
        assert [m.row.name for m in app.messages] == ["api-1"]


async def test_select_pod_moves_cursor_and_clears_hiding_filter():
    app = Host()
    async with app.run_test(size=(120, 20)) as pilot:
        pl = app.query_one(PodList)
        pl.set_rows(ROWS)
        pl.filter = "shop"
        await pilot.pause()
        app.messages.clear()
        assert pl.select_pod("data", "job-1")
        await pilot.pause()
        assert pl.filter == "" and pl.highlighted.name == "job-1"
        assert [(type(m).__name__, m.row.name) for m in app.messages] == [
            ("PodHighlighted", "job-1")
        ]
        assert not pl.select_pod("nowhere", "ghost")


async def test_narrow_pane_drops_node_and_age_before_squeezing_names():
    app = Host()
    async with app.run_test(size=(60, 12)) as pilot:
        pl = app.query_one(PodList)
        pl.set_rows([pod("checkout-7d9f8b6c5-zx2kq", status="CrashLoopBackOff")])
        await pilot.pause()
        keys = [c.key for c in pl.table.columns]
        assert "node" not in keys and "name" in keys and "status" in keys
        assert "checkout-7d9f8b6c5-zx2kq" in screen_text(app)
        # narrower still: the name loses its middle, never its unique suffix
        pl.set_rows([pod("checkout-7d9f8b6c5-zx2kq-" + "x" * 30 + "-tail9")])
        await pilot.pause()
        assert "…" in screen_text(app) and "-tail9" in screen_text(app)


async def test_scrolls_with_cursor_and_renders_cjk():
    rows = [pod(f"p-{i:05d}") for i in range(2000)] + [pod("支付服务-0", node="节点-一")]
    app = Host()
    async with app.run_test(size=(100, 20)) as pilot:
        pl = app.query_one(PodList)
        pl.set_rows(rows)
        pl.table.focus()
        await pilot.press("pagedown", "pagedown")
        assert pl.table.cursor > 20 and pl.table.scroll_y > 0
        await pilot.press("end")
        await pilot.pause()
        text = screen_text(app)
        assert "支付服务-0" in text and "节点-一" in text
        # wide characters are counted as two cells: the NODE column still lines up
        lines = [ln for ln in text.splitlines() if "p-01999" in ln or "支付服务-0" in ln]
        from rich.cells import cell_len

        ascii_line, cjk_line = lines
        assert cell_len(ascii_line[: ascii_line.index("node-1")]) == cell_len(
            cjk_line[: cjk_line.index("节点")]
        )


async def test_bindings_have_ids_and_follow_the_keymap():
    from opsconsole.ui.widgets.virtual_table import VirtualTable

    for cls in (PodList, VirtualTable):
        for binding in cls.BINDINGS:
            assert binding.id and binding.tooltip, binding
    app = Host()
    async with app.run_test(size=(120, 20)) as pilot:
        pl = app.query_one(PodList)
        pl.set_rows(ROWS)
        pl.table.focus()
        app.set_keymap({"pods.logs": "o", "table.cursor_down": "ctrl+n"})
        await pilot.pause()
        app.messages.clear()
        await pilot.press("l", "ctrl+n", "o")
        await pilot.pause()
        assert [(type(m).__name__, m.row.name) for m in app.messages] == [
            ("PodHighlighted", "api-1"),
            ("OpenLogs", "api-1"),
        ]


async def test_feeding_before_mount_is_kept():
    pl = PodList(namespace=None)
    pl.set_rows(ROWS[:2])
    pl.apply("ADDED", pod("early-0"))
    pl.filter = "api"
    assert pl.select_pod("shop", "early-0")  # clears the filter that hides it
    assert pl.filter == ""

    class Late(App[None]):
        def compose(self) -> ComposeResult:
            yield pl

    async with Late().run_test(size=(100, 12)) as pilot:
        await pilot.pause()
        assert names(pl) == ["api-0", "api-1", "early-0"]
        assert pl.highlighted.name == "early-0"
