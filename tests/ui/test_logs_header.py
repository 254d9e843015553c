"""The log viewer's header in the half-width pane, and what the body draws at its edges.

At 120x40 the Logs pane is 58 columns wide (56 inside the padding): the header used to run
past that, so the paused state and the search count (which does update as lines arrive) were
cut off. A horizontal scrollbar drew stray ▌ ▍ ▉ glyphs at the bottom of the pane.
"""

from __future__ import annotations

from rich.cells import cell_len
from textual.app import App, ComposeResult

from opsconsole.ui.widgets.log_view import LogView, fit_header

from .test_log_view import screen_lines

POD = "payment-api-fzqmjlq8xg-6zpf2"
PANE = (58, 14)  # the Logs pane at 120x40


class Host(App[None]):
    def compose(self) -> ComposeResult:
        yield LogView(max_lines=10_000)


def _header(app: App) -> str:
    return screen_lines(app)[0].strip()


async def test_header_fits_the_half_width_pane_and_counts_new_matches() -> None:
    app = Host()
    async with app.run_test(size=PANE) as pilot:
        lv = app.query_one(LogView)
        lv.set_source("payments", POD)
        lv.append_lines([f"GET /api/{i} 200" if i % 10 else f"ERROR {i}" for i in range(100)])
        await pilot.pause()
        header = _header(app)
        assert header.endswith("following · 100 lines"), header
        assert header.startswith("payments/payment-api") and "6zpf2" in header
        lv.body.focus()
        await pilot.press("slash", *"error", "enter")
        await pilot.pause()
        assert "/error: 10/10" in _header(app)
        # new matching lines arrive: the count on screen follows
        lv.append_lines(["ERROR late 1", "ok", "ERROR late 2"])
        await pilot.pause()
        assert "/error: 10/12" in _header(app)
        await pilot.press("n")
        await pilot.pause()
        assert "/error: 11/12" in _header(app)
        # paused with new lines: state and count both fit
        await pilot.press("pageup")
        lv.append_lines(["ERROR later"] * 5)
        await pilot.pause()
        header = _header(app)
        assert "⏸ 5 new (End)" in header and "/error: 11/17" in header, header
        assert cell_len(lv.header_text) <= lv.query_one("#log-header").content_region.width


def test_fit_header_elides_the_pod_name_then_drops_minor_parts() -> None:
    parts = [("following", 0), ("/x: 1/2", 0), ("100 lines", 1), ("wrap", 3)]
    full = fit_header("payments", POD, "", parts, 0)
    assert full == f"payments/{POD} · following · /x: 1/2 · 100 lines · wrap"
    assert fit_header("payments", POD, "", parts, len(full)) == full
    # a little short: the pod name loses its middle, nothing is dropped
    fitted = fit_header("payments", POD, "", parts, len(full) - 5)
    assert fitted == "payments/payment-api…lq8xg-6zpf2 · following · /x: 1/2 · 100 lines · wrap"
    # short: "wrap" goes first, then the line count; the important parts stay
    fitted = fit_header("payments", POD, " › app", parts, 56)
    assert "following · /x: 1/2" in fitted and "wrap" not in fitted
    assert cell_len(fitted) <= 56 and fitted.startswith("payments/payment") and "6zpf2" in fitted
    # the 80x24 layout (36 cells): the namespace goes before the state or the search count
    fitted = fit_header("payments", POD, "", parts, 36)
    assert fitted == "payment…-6zpf2 · following · /x: 1/2", fitted
    # CJK search text is measured in cells
    fitted = fit_header("payments", POD, "", [("/支付失败: 1/1", 0), ("9 lines", 1)], 40)
    assert cell_len(fitted) <= 40 and "/支付失败: 1/1" in fitted


async def test_timestamps_are_off_by_default_and_no_stray_scrollbar_glyphs() -> None:
    app = Host()
    async with app.run_test(size=PANE) as pilot:
        lv = app.query_one(LogView)
        lv.set_source("payments", POD)
        stamp = "2026-11-25T18:49:27.758289098Z"
        lv.append_lines([f"{stamp} 2026-11-25T18:49:27.758Z INFO {'x' * 80} {i}" for i in range(5)])
        lv.body.focus()
        await pilot.pause()
        rows = screen_lines(app)
        assert rows[1].startswith("2026-11-25T18:49:27.758Z INFO")  # the app's own time only
        # lines wider than the pane: no horizontal scrollbar and its partial-cell glyphs
        glyphs = set("▏▎▍▌▋▊▉█▔▁")
        assert not any(ch in glyphs for row in rows[1:] for ch in row), rows
        await pilot.press("right", "right")
        await pilot.pause()
        assert "→ col 3" in _header(app)
        await pilot.press("t")
        lv.body.scroll_to(x=0, animate=False, immediate=True)
        await pilot.pause()
        assert screen_lines(app)[1].startswith(stamp)
        assert "→ col" not in _header(app)


async def test_empty_header_names_the_key_and_a_stopped_log_says_why() -> None:
    app = Host()
    async with app.run_test(size=PANE) as pilot:
        lv = app.query_one(LogView)
        await pilot.pause()
        assert "following" not in _header(app) and "no pod selected" in _header(app)
        lv.set_source("default", "debug-tools-tht9jl7q5j-b6cdc")
        lv.append_lines(["one", "two"])
        lv.stop_following("pod deleted — last lines", "The pod was deleted.")
        await pilot.pause()
        header = _header(app)
        assert "⏹ pod deleted — last lines" in header and "following" not in header
        assert screen_lines(app)[1].startswith("one")  # lines keep the body; no placeholder
        lv.set_source("default", "other")
        lv.stop_following("no previous container", "No previous container: it has not restarted.")
        await pilot.pause()
        assert screen_lines(app)[1].strip() == "No previous container: it has not restarted."
        lv.set_source("default", "third")  # a new source forgets the notice
        await pilot.pause()
        assert "following" in _header(app) and screen_lines(app)[1].strip() == ""
