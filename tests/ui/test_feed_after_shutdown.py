"""A feed's message that arrives while the console shuts down (its screens already gone) is
dropped quietly: the pod watch and log follow run in threads and can post one last batch
after the user quit (seen as an IndexError from the pod list under load)."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

from opsconsole.config import SessionSettings, Settings
from opsconsole.ui import messages as msg
from opsconsole.ui.factory import build_app


async def _until(predicate, timeout: float = 120.0) -> None:
    start = time.monotonic()
    while not predicate():
        assert time.monotonic() - start < timeout, "timed out waiting for the console"
        await asyncio.sleep(0.05)


def test_feed_messages_after_the_screens_are_gone(tmp_path: Path) -> None:
    settings = Settings(sessions=SessionSettings(record=False, dir=str(tmp_path)))
    app = build_app(settings, demo=True, offline=True, frozen=True)

    async def run() -> list[object]:
        async with app.run_test(size=(120, 40)):
            await _until(lambda: app.backend is not None and app.feeds.pods_ready)
            rows = app.main.pods.rows()[:2]
            app.exit()
        return rows

    rows = asyncio.run(run())
    assert rows, "the pod list had rows while it ran"
    assert not app.screen_stack
    app.on_pods_changed(msg.PodsChanged([("MODIFIED", rows[0])]))
    app.on_pods_loaded(msg.PodsLoaded(rows, None))


def test_log_lines_while_the_log_view_is_taken_down() -> None:
    """The screen removes a widget's children before the widget: a follow's batch that lands
    in between goes to the log store, it does not look for the body that just went."""
    from textual.app import App, ComposeResult

    from opsconsole.ui.widgets.log_view import LogView

    class One(App[None]):
        def compose(self) -> ComposeResult:
            yield LogView(id="log-view")

    async def run() -> int:
        app = One()
        async with app.run_test(size=(80, 20)) as pilot:
            view = app.query_one(LogView)
            view.append_lines(["first line"])
            await view.body.remove()  # as the screen does first when it goes
            view.append_lines(["a line that arrived meanwhile", "and one more"])
            view.clear()
            view.append_lines(["after the clear"])
            await pilot.pause()
            return view.line_count

    assert asyncio.run(run()) == 1
