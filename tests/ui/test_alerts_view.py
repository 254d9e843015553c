"""The console's alerts: the status bar counts the demo's firing alerts (the real
Alertmanager beside the sandbox), ``/alerts`` lists them most urgent first, and Enter on one
starts an investigation of it with its labels and annotations."""

from __future__ import annotations

from pathlib import Path

from opsconsole.ui.factory import build_app
from opsconsole.ui.screens.alerts import AlertsModal
from opsconsole.ui.widgets.chart import range_chart
from opsconsole.ui.widgets.trace import ToolBlock
from tests.monitoring.conftest import require_binaries

from .conftest import chat_text, make_settings, screen_text, trace_text, wait_for


async def _ask(pilot, app, text: str) -> None:
    app.main.chat.input.focus()
    app.main.chat.input.value = text
    await pilot.press("enter")


async def test_alert_count_then_enter_investigates_the_alert(tmp_path: Path) -> None:
    require_binaries()
    app = build_app(make_settings(tmp_path), demo=True, offline=True, monitoring=True, frozen=True)
    async with app.run_test(size=(160, 40)) as pilot:
        await wait_for(pilot, lambda: app.backend is not None, 60, "backend")
        status = app.main.status
        await wait_for(pilot, lambda: status.alerts >= 5, 240, "the alerts counted")
        assert "alerts" in str(status.render())
        await _ask(pilot, app, "/alerts")
        await wait_for(pilot, lambda: isinstance(app.screen, AlertsModal), 60, "alerts view")
        modal = app.screen
        assert isinstance(modal, AlertsModal)
        first = modal.alerts[0]
        assert first.name == "HTTPHighErrorRate" and first.severity == "critical"
        names = {a.name for a in modal.alerts}
        assert {"KubePodCrashLooping", "KubeDeploymentReplicasMismatch"} <= names
        await pilot.pause()
        await pilot.press("enter")
        await wait_for(pilot, lambda: not isinstance(app.screen, AlertsModal), 30, "closed")
        await wait_for(pilot, lambda: "■ finished" in trace_text(app), 120, "run finished")
        chat = chat_text(app)
        assert "Alert HTTPHighErrorRate (critical) firing on shop/web" in chat
        assert "Labels: alertname=HTTPHighErrorRate" in chat
        assert len(app.main.chat.log_view.answers) == 1


async def test_without_alertmanager_alerts_says_how_to_get_one(tmp_path: Path) -> None:
    app = build_app(make_settings(tmp_path), demo=True, offline=True, frozen=True)
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_for(pilot, lambda: app.backend is not None, 60, "backend")
        assert app.main.status.alerts == -1
        await _ask(pilot, app, "/alerts")
        await wait_for(pilot, lambda: "No Alertmanager" in chat_text(app), 30, "notice")
        assert "apt-get install prometheus prometheus-alertmanager" in chat_text(app)
        assert not isinstance(app.screen, AlertsModal)


async def test_a_range_query_is_drawn_as_a_chart_in_its_trace_block(
    tmp_path: Path, model_server
) -> None:
    require_binaries()
    from tests.fakes.openai_server import reply, tool_call

    query = 'container_memory_working_set_bytes{namespace="shop",container="image-resizer"}'
    model_server.push(
        reply(
            "Memory of image-resizer over the last hour.",
            tool_calls=[
                tool_call(
                    "prometheus_query_range",
                    {"query": query, "minutes": 60, "threshold": 120795955},
                    id="call_range",
                )
            ],
        ),
        reply("It climbs to its limit before each kill."),
    )
    app = build_app(
        make_settings(tmp_path, base_url=model_server.base_url),
        demo=True,
        monitoring=True,
        frozen=True,
    )
    async with app.run_test(size=(140, 50)) as pilot:
        await wait_for(pilot, lambda: app.backend is not None, 60, "backend")
        await _ask(pilot, app, "how did image-resizer's memory develop?")
        await wait_for(pilot, lambda: not app.bridge.running, 120, "run end")
        block = next(b for b in app.main.trace.walk() if isinstance(b, ToolBlock))
        assert block.tool == "prometheus_query_range" and block.status == "ok", block.output
        (series,) = block.data["series"]
        assert len(series["samples"]) >= 55
        chart = [line.plain for line in range_chart(block.tool, block.data, 120)]
        assert len(chart) >= 10 and any("┤" in line for line in chart)
        assert any("container=image-resizer" in line for line in chart)
        assert any("121M" in line or "128M" in line or "132M" in line for line in chart)
        # the block draws it on screen, under the observation
        await wait_for(pilot, lambda: "minutes ago" in screen_text(app), 30, "the chart shown")
