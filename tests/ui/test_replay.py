"""`opsconsole replay FILE` in the console: a session recorded by the live console plays back
into the same widgets from the file alone (no backend: zero model and cluster calls, P8)."""

from __future__ import annotations

from pathlib import Path

from opsconsole.sessions.reader import read_session
from opsconsole.ui.factory import build_app
from opsconsole.ui.replay import build_replay_app

from .conftest import chat_text, make_settings, trace_text, wait_for

QUESTION = "查看 default 命名空间下所有 Pod 的状态"


async def _record(tmp_path: Path) -> tuple[Path, str, str]:
    settings = make_settings(tmp_path)
    app = build_app(settings, demo=True, offline=True, frozen=True)
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_for(pilot, lambda: app.backend is not None and app.feeds.pods_ready, 30)
        app.feeds.show_pod("payments", "postgres-0")
        await wait_for(pilot, lambda: app.main.logs.line_count > 0, 15, "log lines")
        app.main.chat.input.value = QUESTION
        await pilot.press("enter")
        await wait_for(pilot, lambda: "■ finished" in trace_text(app), 60, "run end")
        answer = app.main.chat.log_view.answers[-1].source
        live_trace = trace_text(app)
    files = list((tmp_path / "sessions").rglob("*.jsonl"))
    assert len(files) == 1
    return files[0], answer, live_trace


async def test_replay_refills_chat_trace_pods_and_logs(tmp_path: Path) -> None:
    path, answer, live_trace = await _record(tmp_path)
    session = read_session(path)
    app = build_replay_app(make_settings(tmp_path), session, speed=None, frozen=True)
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_for(pilot, lambda: app.cursor.at_end and not app.playing, 15, "played")
        assert app.backend is None  # nothing was connected
        assert f"› {QUESTION}" in chat_text(app)
        assert answer in chat_text(app)
        replayed = trace_text(app)
        for piece in ("get_k8s_pods", "namespace=default", "Observation", "■ finished"):
            assert piece in replayed and piece in live_trace
        pods = app.main.pods
        assert any(row.name == "postgres-0" for row in pods.rows())
        logs = app.main.logs
        assert (logs.namespace, logs.pod) == ("payments", "postgres-0")
        assert logs.line_count > 0
        assert app.main.status.state.startswith("replay")
        # step back over "finished" and "answer": the answer goes away; step on: it is back
        kinds = [step.kind for step in app.cursor.steps]
        back = len(kinds) - kinds.index("answer")
        await pilot.press(*["left"] * back)
        assert app.cursor.position == len(kinds) - back
        await wait_for(pilot, lambda: answer not in chat_text(app), what="the answer gone")
        assert app.main.status.state.startswith("replay")  # the position stays shown
        await pilot.press("right")
        await wait_for(pilot, lambda: answer in chat_text(app), 30)
        # nothing can be asked in a replay
        assert app.main.chat.input.disabled
        await app.bridge.submit("hello")
        assert "read-only" in chat_text(app)
