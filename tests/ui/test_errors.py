"""Errors become notifications or banners, never tracebacks, and the app stays usable:
a 403 on the pod list, an unreachable cluster, a model 429 with its countdown in the trace.
Chinese text keeps its cell width; the run is recorded in the session file."""

from __future__ import annotations

import json
from pathlib import Path

from rich.cells import cell_len

from opsconsole.ui.factory import build_app
from tests.fakes.openai_server import error, reply

from .conftest import chat_text, make_settings, trace_text, wait_for


async def _ready(pilot, app) -> None:
    await wait_for(pilot, lambda: app.backend is not None and app.feeds.pods_ready, 30, "pods")


def _notes(app) -> str:
    return "\n".join(str(n.message) for n in app._notifications)


async def test_forbidden_pod_list_is_a_notification(tmp_path: Path) -> None:
    app = build_app(make_settings(tmp_path), demo=True, offline=True, frozen=True)
    async with app.run_test(size=(120, 40)) as pilot:
        await _ready(pilot, app)
        app.backend.sandbox.faults.forbid("pods")
        await app.bridge.switch_namespace("shop")  # restarts the watch: list -> 403
        await wait_for(pilot, lambda: "forbidden" in _notes(app), 15, "403 notification")
        assert app.is_running
        # still usable: the agent answers, and its tool reports the 403 too
        app.main.chat.input.value = "查看 shop 命名空间下所有 Pod 的状态"
        await pilot.press("enter")
        await wait_for(pilot, lambda: "■" in trace_text(app), 30, "run end")
        assert "forbidden" in trace_text(app)


async def test_unreachable_cluster_is_a_notification(tmp_path: Path) -> None:
    app = build_app(make_settings(tmp_path), demo=True, offline=True, frozen=True)
    async with app.run_test(size=(120, 40)) as pilot:
        await _ready(pilot, app)
        app.backend.sandbox.stop()
        await app.bridge.switch_namespace("payments")
        await wait_for(pilot, lambda: "unreachable" in _notes(app).lower(), 30, "notification")
        assert app.is_running
        header = app.main.pods.query_one("#pod-list-header")
        await wait_for(pilot, lambda: "disconnected" in str(header.render()), 30, "stale marker")
        await pilot.press("f2")  # the UI still answers keys
        assert app.main.maximized is not None


async def test_rate_limit_wait_shown_then_answer(tmp_path: Path, model_server) -> None:
    settings = make_settings(tmp_path, base_url=model_server.base_url)
    settings = settings.replace(model=settings.model.replace(max_retries=1))
    model_server.push(
        error(429, "Rate limit reached", type="rate_limit_error", headers={"Retry-After": "1"}),
        reply("稍后重试成功。"),
    )
    app = build_app(settings, kubeconfig=str(tmp_path / "none"), frozen=True)
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_for(pilot, lambda: app.backend is not None)
        app.main.chat.input.value = "hello"
        await pilot.press("enter")
        await wait_for(pilot, lambda: "retrying in" in trace_text(app), 10, "retry shown")
        assert "attempt 1/" in trace_text(app)
        await wait_for(pilot, lambda: "稍后重试成功" in chat_text(app), 15, "answer")
    assert model_server.rejections == []


async def test_chinese_text_keeps_cell_width_and_run_is_recorded(
    tmp_path: Path, model_server
) -> None:
    answer = "default 命名空间下共有 1 个 Pod，全部正常运行。"
    model_server.push(reply(answer))
    settings = make_settings(tmp_path, base_url=model_server.base_url)
    app = build_app(settings, kubeconfig=str(tmp_path / "none"), frozen=True)
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_for(pilot, lambda: app.backend is not None)
        app.main.chat.input.value = "查看 default 命名空间下所有 Pod 的状态"
        await pilot.press("enter")
        await wait_for(pilot, lambda: not app.bridge.running and answer in chat_text(app), 15)

        def screen_lines() -> list[str]:
            return [
                "".join(segment.text for segment in strip)
                for strip in app.screen._compositor.render_strips()
            ]

        # the answer is in the chat's widgets: wait until a frame shows it
        await wait_for(pilot, lambda: "命名空间下共有" in "\n".join(screen_lines()), what="frame")
        lines = screen_lines()
    # every screen line is exactly 120 cells: wide characters are counted as two
    assert all(cell_len(line) == 120 for line in lines)
    screen = "\n".join(lines)
    assert "查看 default 命名空间下所有 Pod 的状态" in screen  # chat and trace header
    assert "命名空间下共有" in screen
    files = list((tmp_path / "sessions").rglob("*.jsonl"))
    assert len(files) == 1
    records = [json.loads(line) for line in files[0].read_text().splitlines()]
    kinds = [r.get("event", {}).get("type") for r in records if r.get("type") == "event"]
    assert "run_started" in kinds and "answer" in kinds and "run_finished" in kinds
