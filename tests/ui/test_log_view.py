"""LogView behaviour through a tiny host app and the Pilot (real keys, real rendering)."""

from __future__ import annotations

from rich.cells import cell_len
from textual.app import App, ComposeResult
from textual.message import Message

from opsconsole.ui.widgets.log_store import LineStore, Matcher
from opsconsole.ui.widgets.log_view import LogView


class Host(App[None]):
    def __init__(self, max_lines: int = 1000) -> None:
        super().__init__()
        self.max_lines = max_lines
        self.messages: list[Message] = []

    def compose(self) -> ComposeResult:
        yield LogView(max_lines=self.max_lines)

    def on_log_view_send_to_agent(self, message: LogView.SendToAgent) -> None:
        self.messages.append(message)

    def on_log_view_toggle_previous(self, message: LogView.TogglePrevious) -> None:
        self.messages.append(message)

    def on_log_view_pick_container(self, message: LogView.PickContainer) -> None:
        self.messages.append(message)


def screen_lines(app: App) -> list[str]:
    return ["".join(seg.text for seg in strip) for strip in app.screen._compositor.render_strips()]


def body_lines(app: App) -> list[str]:
    """Rows of the log body only (below the one-line header)."""
    return [ln.rstrip() for ln in screen_lines(app)[1:]]


def numbered(start: int, count: int, prefix: str = "line") -> list[str]:
    return [f"{prefix} {i}" for i in range(start, start + count)]


async def test_append_batches_follow_and_render_only_the_end():
    app = Host()
    async with app.run_test(size=(80, 12)) as pilot:
        lv = app.query_one(LogView)
        lv.set_source("shop", "api-0", "app")
        for b in range(5):
            lv.append_lines(numbered(b * 100, 100))
        await pilot.pause()
        assert lv.line_count == 500 and lv.following
        rows = body_lines(app)
        assert rows[-1].startswith("line 499")
        assert "shop/api-0 › app" in screen_lines(app)[0]
        assert "following" in screen_lines(app)[0]


async def test_bounded_memory_drops_oldest():
    app = Host(max_lines=1000)
    async with app.run_test(size=(80, 12)) as pilot:
        lv = app.query_one(LogView)
        for b in range(30):
            lv.append_lines(numbered(b * 250, 250))
        await pilot.pause()
        assert lv.line_count == 1000
        assert lv.store[0] == "line 6500" and lv.store[-1] == "line 7499"
        assert lv.store.dropped == 6500
        assert "older dropped" in screen_lines(app)[0]
        lv.clear()
        await pilot.pause()
        assert lv.line_count == 0


def test_line_store_chunks_and_bound():
    store = LineStore(max_lines=3000)
    store.extend(["a\nb", "c\r\nd", "e"])  # embedded newlines are split
    assert list(store) == ["a", "b", "c", "d", "e"]
    for k in range(10):
        store.extend([f"{k}-{i}" for i in range(777)])
    assert len(store) == 3000
    assert store[-1] == "9-776" and store[0] == "6-108"
    assert store.search(Matcher("9-77")) == [
        store.dropped + i for i in range(len(store)) if "9-77" in store[i]
    ]


def test_line_store_utf8_chunks_and_search():
    store = LineStore(max_lines=10_000)
    lines = [f"{i} 支付失败 Ошибка ok" if i % 100 == 0 else f"{i} fine" for i in range(3000)]
    store.extend(lines)
    assert list(store) == lines  # sealed UTF-8 chunks decode back exactly
    every_100 = [i for i in range(3000) if i % 100 == 0]
    assert store.search(Matcher("失败")) == every_100
    assert store.search(Matcher("ошибка")) == every_100  # non-ASCII case folding
    assert store.search(Matcher("OK")) == []  # capitals: case-sensitive
    assert store.search(Matcher("0 支付")) == every_100


def test_line_store_item_with_own_newline():
    lines, blob = LineStore.normalize(["a\n", "b\r\n", "c"])
    assert lines == ["a", "b", "c"] and blob == "a\nb\nc"


async def test_append_bytes_partial_lines_crlf_and_bad_utf8():
    app = Host(max_lines=10_000)
    async with app.run_test(size=(80, 12)) as pilot:
        lv = app.query_one(LogView)
        lv.append_bytes("one\r\ntwo 支付".encode())
        assert list(lv.store) == ["one"]  # "two 支付" waits for its newline
        lv.append_bytes("失败\nthree\n".encode() + b"\xff\xfe bad\n")
        lv.append_bytes(b"partial", final=True)
        await pilot.pause()
        assert list(lv.store) == ["one", "two 支付失败", "three", "\ufffd\ufffd bad", "partial"]
        lv.append_bytes(b"".join(f"n{i}\n".encode() for i in range(3000)))
        assert lv.line_count == 3005 and lv.store[-1] == "n2999"
        assert lv.search("失败") == 1 and lv.search("n299") == 11
        await pilot.pause()
        assert body_lines(app)[-1].startswith("n2999")


async def test_pause_on_scroll_up_and_resume_with_end():
    app = Host()
    async with app.run_test(size=(80, 12)) as pilot:
        lv = app.query_one(LogView)
        lv.append_lines(numbered(0, 200))
        lv.body.focus()
        await pilot.pause()
        await pilot.press("pageup")
        assert not lv.following
        top = lv.body.scroll_y
        lv.append_lines(numbered(200, 50))
        await pilot.pause()
        assert lv.body.scroll_y == top  # paused: the view stays put
        assert "⏸ 50 new (End)" in screen_lines(app)[0]
        await pilot.press("end")
        await pilot.pause()
        assert lv.following
        lv.append_lines(numbered(250, 10))
        await pilot.pause()
        assert body_lines(app)[-1].startswith("line 259")
        # scrolling back down to the bottom resumes as well
        await pilot.press("up")
        assert not lv.following
        await pilot.press("down")
        assert lv.following


async def test_search_highlights_next_previous_and_counts():
    app = Host()
    async with app.run_test(size=(80, 12)) as pilot:
        lv = app.query_one(LogView)
        lines = [f"req {i} ok" if i % 50 else f"req {i} ERROR timeout" for i in range(400)]
        lv.append_lines(lines)
        lv.body.focus()
        await pilot.press("slash", *"error", "enter")  # smart case: lower case = any case
        await pilot.pause()
        assert len(lv.matches) == 8
        assert lv.store[lv.current_match_line] == "req 350 ERROR timeout"  # newest first
        assert "/error: 8/8" in screen_lines(app)[0]
        await pilot.press("N")
        assert lv.store[lv.current_match_line] == "req 300 ERROR timeout"
        await pilot.pause()
        assert any("req 300 ERROR" in row for row in body_lines(app))
        assert "7/8" in screen_lines(app)[0]
        await pilot.press("n", "n")
        assert lv.store[lv.current_match_line] == "req 0 ERROR timeout"  # wraps around
        # the match is highlighted: its cells carry the match style, others do not
        body = lv.body
        y = lv.current_match_line - int(body.scroll_y)
        strip = body.render_line(y)
        styled = [seg for seg in strip if seg.text == "ERROR"]
        assert styled and styled[0].style.bgcolor is not None
        # new lines are searched as they arrive; case-sensitive when the query has capitals
        lv.append_lines(["late ERROR here"])
        assert len(lv.matches) == 9
        assert lv.search("Error") == 0 and lv.search("ERROR") == 9


async def test_selection_keys_and_send_to_agent():
    app = Host()
    async with app.run_test(size=(80, 12)) as pilot:
        lv = app.query_one(LogView)
        lv.set_source("shop", "api-0", "app")
        lv.append_lines([f"2026-11-25T10:00:{i:02d}.000Z msg {i}" for i in range(40)])
        lv.body.focus()
        await pilot.pause()
        await pilot.press("t")  # timestamps are off by default (as in kubectl logs)
        await pilot.press("shift+up", "shift+up", "shift+up")
        await pilot.press("a")
        await pilot.pause()
        [msg] = app.messages
        assert isinstance(msg, LogView.SendToAgent)
        assert msg.line_count == 3 and (msg.namespace, msg.pod) == ("shop", "api-0")
        assert msg.text.splitlines()[-1] == "2026-11-25T10:00:39.000Z msg 39"
        assert msg.text.splitlines()[0].endswith("msg 37")
        # v mode with timestamps hidden: what is shown is what is sent
        app.messages.clear()
        await pilot.press("t", "v", "up", "up", "v", "a")
        await pilot.pause()
        assert app.messages[0].text == "msg 37\nmsg 38\nmsg 39"
        # nothing selected: nothing sent
        app.messages.clear()
        await pilot.press("a")
        await pilot.pause()
        assert app.messages == []


async def test_mouse_drag_selects_lines():
    app = Host()
    async with app.run_test(size=(80, 12)) as pilot:
        lv = app.query_one(LogView)
        lv.append_lines(numbered(0, 5))
        await pilot.pause()
        body = lv.body
        await pilot.mouse_down(body, offset=(2, 1))
        await pilot.hover(body, offset=(2, 3))
        await pilot.mouse_up(body, offset=(2, 3))
        assert lv.selected_text() == "line 1\nline 2\nline 3"
        await pilot.click(body, offset=(2, 0))  # a plain click drops the selection
        assert lv.selected_text() == ""


async def test_wrap_and_timestamp_toggles_and_cjk():
    app = Host()
    async with app.run_test(size=(40, 12)) as pilot:
        lv = app.query_one(LogView)
        cjk = (
            "2026-11-25T10:00:00Z 支付服务调用失败：连接被拒绝，正在重试第三次，请检查下游服务状态"
        )
        lv.append_lines(["short", cjk])
        lv.body.focus()
        await pilot.pause()
        assert not any("2026-11-25" in r for r in body_lines(app))  # off by default
        await pilot.press("t")
        await pilot.pause()
        assert any(r.startswith("2026-11-25T10:00:00Z") for r in body_lines(app))
        assert "timestamps" in lv.header_text
        await pilot.press("t")
        await pilot.pause()
        rows = body_lines(app)
        assert not any("2026-11-25" in r for r in rows)
        assert any(r.startswith("支付服务调用失败") for r in rows)
        await pilot.press("w")
        await pilot.pause()
        rows = [r for r in body_lines(app) if r]
        assert rows[0] == "short"
        wrapped = rows[1:]
        assert len(wrapped) >= 2
        width = lv.body.size.width
        assert all(cell_len(r) <= width for r in wrapped)
        assert "".join(wrapped) == cjk.split(" ", 1)[1]  # no character lost or split
        assert "wrap" in lv.header_text and "timestamps" not in lv.header_text


async def test_previous_and_container_requests():
    app = Host()
    async with app.run_test(size=(80, 12)) as pilot:
        lv = app.query_one(LogView)
        lv.body.focus()
        await pilot.press("p", "c")  # no pod yet: nothing
        assert app.messages == []
        lv.set_source("shop", "api-1", "app")
        lv.set_containers(["app", "istio-proxy"])
        await pilot.press("p", "c")
        await pilot.pause()
        prev, pick = app.messages
        assert isinstance(prev, LogView.TogglePrevious) and prev.previous is True
        assert isinstance(pick, LogView.PickContainer)
        assert pick.containers == ["app", "istio-proxy"] and pick.current == "app"
        lv.set_source("shop", "api-1", "app", previous=True)
        await pilot.pause()
        assert "previous container" in screen_lines(app)[0]


def test_log_bindings_have_ids_and_tooltips():
    from opsconsole.ui.widgets.log_body import LogBody

    ids = []
    for cls in (LogView, LogBody):
        for binding in cls.BINDINGS:
            assert binding.id and binding.id.startswith("logs.") and binding.tooltip, binding
            ids.append(binding.id)
    assert len(ids) == len(set(ids))


async def test_wrap_follow_shows_the_end_of_long_last_lines():
    app = Host()
    async with app.run_test(size=(40, 12)) as pilot:
        lv = app.query_one(LogView)
        lv.wrap = True
        lv.append_lines([f"{i:03d} " + "x" * 100 + f" end-{i}" for i in range(50)])
        await pilot.pause()
        rows = body_lines(app)
        assert rows[-1].endswith("end-49")  # the newest line's last row is at the bottom
        assert lv.following


async def test_selection_survives_old_lines_being_dropped():
    app = Host(max_lines=1000)
    async with app.run_test(size=(80, 12)) as pilot:
        lv = app.query_one(LogView)
        lv.append_lines(numbered(0, 1000))
        lv.body.focus()
        await pilot.pause()
        await pilot.press("pageup")  # pause, then select two lines
        await pilot.press("shift+down", "shift+down")
        selected = lv.selected_text()
        assert len(selected.splitlines()) == 2
        lv.append_lines(numbered(1000, 300))  # drops the 300 oldest lines
        await pilot.pause()
        assert lv.selected_text() == selected  # same lines, not the same positions
        assert not lv.following


async def test_lines_appended_before_mount_show():
    lv = LogView(max_lines=1000)
    lv.set_source("shop", "api-0", "app")
    lv.append_lines(numbered(0, 30))

    class Late(App[None]):
        def compose(self) -> ComposeResult:
            yield lv

    app = Late()
    async with app.run_test(size=(80, 12)) as pilot:
        await pilot.pause()
        assert body_lines(app)[-1].startswith("line 29")
        assert "shop/api-0 › app" in lv.header_text


def test_level_tokens_are_found():
    from opsconsole.ui.widgets.log_render import level_span

    assert level_span("2026-01-01T00:00:00Z ERROR boom", 21) == (21, 26, "error")
    assert level_span("ts=1 level=warn msg=slow") == (11, 15, "warn")
    assert level_span("E1125 10:00:00.000 1 reflector.go] failed") == (0, 5, "error")
    assert level_span("all fine, no errors here") is None  # "errors" is not a level


async def test_error_level_is_coloured_with_the_theme_error_colour():
    app = Host()
    async with app.run_test(size=(80, 12)) as pilot:
        lv = app.query_one(LogView)
        lv.append_lines(["2026-01-01T00:00:00Z ERROR payment failed", "INFO ok"])
        lv.show_timestamps = True
        await pilot.pause()
        strip = lv.body.render_line(0)
        error = next(seg for seg in strip if seg.text == "ERROR")
        expected = app.theme_variables["text-error"][:7].lower()
        assert error.style.color.triplet.hex.lower() == expected
        # timestamps are muted: neither the plain text colour nor the background
        stamp = next(seg for seg in strip if seg.text.startswith("2026-01-01"))
        text = next(seg for seg in strip if "payment" in seg.text)
        assert stamp.style.color != text.style.color
        assert stamp.style.color.triplet != text.style.bgcolor.triplet


async def test_search_scrolls_sideways_to_a_match_off_screen():
    app = Host()
    async with app.run_test(size=(60, 12)) as pilot:
        lv = app.query_one(LogView)
        lv.append_lines(["short"] * 5 + ["x" * 150 + " needle here", "short"])
        await pilot.pause()
        lv.search("needle")
        await pilot.pause()
        assert lv.body.scroll_x > 0
        assert any("needle here" in row for row in body_lines(app))
        lv.search("short")  # back at the start of the line
        await pilot.pause()
        assert lv.body.scroll_x == 0
