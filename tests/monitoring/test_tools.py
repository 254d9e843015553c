"""The agent's monitoring tools against a real Prometheus and Alertmanager started beside a
fresh demo sandbox (one stack for the module): the backfilled history tells the faults' story,
the rules fire and ``list_alerts`` sees them, bad input gets Prometheus's own message."""

from __future__ import annotations

import socket
from typing import Any

import pytest

from opsconsole.agent.tools import ToolRegistry, ToolResult
from opsconsole.agent.transcript import estimate_tokens
from opsconsole.config import Settings
from opsconsole.monitoring import Monitoring, connect
from tests.monitoring.conftest import wait_for

MiB = 1024**2


def _registry(stack: Any, settings: Settings | None = None) -> tuple[ToolRegistry, Monitoring]:
    settings = settings or Settings()
    mon = connect(
        settings,
        prometheus_url=stack.prometheus_url,
        alertmanager_url=stack.alertmanager_url,
        wait_ready=stack.wait_ready,
    )
    assert mon is not None
    return ToolRegistry(mon.tools(settings)), mon


@pytest.fixture(scope="module")
def tools(monitoring_stack: Any) -> Any:
    reg, mon = _registry(monitoring_stack)
    yield reg
    mon.close()


def run(tools: ToolRegistry, tool_name: str, **args: Any) -> ToolResult:
    tool = tools.get(tool_name)
    assert tool is not None, tool_name
    res = tool.handler(args)
    assert isinstance(res, ToolResult)
    if res.is_error:
        assert "Traceback" not in res.content and "\n" not in res.content
    return res


def test_all_tools_but_silencing_are_read_only(tools: ToolRegistry) -> None:
    assert tools.names() == [
        "list_alerts",
        "silence_alert",
        "prometheus_query",
        "prometheus_query_range",
        "prometheus_series",
        "get_alert_rules",
    ]
    assert [t.name for t in tools if t.mutating] == ["silence_alert"]
    silence = tools.get("silence_alert")
    assert silence is not None and silence.needs_approval
    assert "silence_alert" not in [t.name for t in tools.offered(write_mode=False)]
    summary = silence.summary(
        {"matchers": {"alertname": "TargetDown", "namespace": "shop"}, "comment": "known"}
    )
    assert (summary.verb, summary.name, summary.namespace) == (
        "silence",
        "alertname=TargetDown,namespace=shop",
        "shop",
    )


def test_backfilled_memory_climbs_to_the_limit_before_each_kill(tools: ToolRegistry) -> None:
    threshold = 0.9 * 128 * MiB
    res = run(
        tools,
        "prometheus_query_range",
        query='container_memory_working_set_bytes{namespace="shop",container="image-resizer"}',
        minutes=60,
        threshold=threshold,
    )
    assert not res.is_error, res.content
    assert res.data is not None
    (series,) = res.data["series"]
    # an hour of history from the first second, not a few scrapes
    assert series["points"] >= 55
    # where the samples fall in each climb varies with the start: the drops always show
    assert series["max"] > threshold and series["min"] < 0.8 * series["max"]
    assert series["crossings"] >= 2 and series["trend"].startswith("sawtooth")
    assert "sawtooth" in res.content and ">121M" in res.content
    # the lone series' scrape labels are said once, in the header
    assert "container=image-resizer" in res.content.splitlines()[-1]
    assert "__name__" not in res.content.splitlines()[-1]


def test_restarts_step_up_and_a_5xx_rate_shows(tools: ToolRegistry) -> None:
    res = run(
        tools,
        "prometheus_query_range",
        query='kube_pod_container_status_restarts_total{namespace="payments",'
        'container="payment-api"}',
    )
    assert res.data is not None and len(res.data["series"]) == 2
    for s in res.data["series"]:
        assert s["trend"].startswith("steps up") and s["last"] > s["first"]
    err = run(
        tools,
        "prometheus_query",
        query='sum by (service) (rate(http_requests_total{job="apps",code=~"5.."}[5m]))',
    )
    assert err.data is not None
    rates = {i["labels"]["service"]: i["value"] for i in err.data["items"]}
    assert rates["web"] > 0


def test_instant_query_agrees_with_the_cluster(tools: ToolRegistry) -> None:
    res = run(
        tools,
        "prometheus_query",
        query='kube_deployment_status_replicas_available{deployment="payment-api"}',
    )
    assert not res.is_error, res.content
    assert res.data is not None and res.data["total"] == 1
    assert res.data["items"][0]["value"] == 0
    assert res.data["items"][0]["labels"]["namespace"] == "payments"
    scalar = run(tools, "prometheus_query", query="1 + 1")
    assert scalar.data == {"query": "1 + 1", "type": "scalar", "value": "2"}


def test_range_summary_of_many_series_stays_within_budget(tools: ToolRegistry) -> None:
    res = run(tools, "prometheus_query_range", query="kube_pod_status_phase", max_series=50)
    assert res.data is not None and res.data["total"] >= 100
    assert estimate_tokens(res.content) <= 1500
    assert 0 < len(res.data["series"]) <= 50
    assert "more series not shown" in res.content.splitlines()[-1]


def test_promql_error_is_prometheus_own_message(tools: ToolRegistry) -> None:
    res = run(tools, "prometheus_query", query="sum(rate(")
    assert res.is_error and res.error is not None
    assert res.error.code == "invalid_argument"
    assert "parse error" in res.content and "1:10" in res.content
    res = run(tools, "prometheus_query_range", query="rate(up)")
    assert res.is_error and "range vector" in res.content


def test_a_query_over_the_series_limit_is_refused_with_a_count(monitoring_stack: Any) -> None:
    settings = Settings.from_data({"monitoring": {"max_series": 10}})
    reg, mon = _registry(monitoring_stack, settings)
    try:
        res = run(reg, "prometheus_query_range", query="kube_pod_status_phase")
        assert res.is_error and res.error is not None
        assert res.error.code == "too_many_series"
        assert "the limit is 10" in res.content and "series" in res.content
        assert "sum by" in res.content  # the hint
    finally:
        mon.close()


def test_bad_arguments_are_named(tools: ToolRegistry) -> None:
    res = run(tools, "prometheus_query_range", query="up", minutes=0)
    assert res.is_error and "minutes" in res.content
    res = run(tools, "prometheus_query", query="up", bogus=1)
    assert res.is_error and "bogus" in res.content
    res = run(tools, "list_alerts", state="burning")
    assert res.is_error and "firing" in res.content


def test_series_lookup_finds_names_labels_and_values(tools: ToolRegistry) -> None:
    names = run(tools, "prometheus_series", metric="kube_pod_container")
    assert names.data is not None
    assert "kube_pod_container_status_restarts_total" in names.data["names"]
    values = run(tools, "prometheus_series", label="namespace")
    assert values.data is not None and {"shop", "payments"} <= set(values.data["values"])
    match = run(tools, "prometheus_series", match='up{job="apps"}')
    assert match.data is not None
    assert {"web", "checkout", "payment-api"} <= set(match.data["labels"]["service"])


def test_alert_rules_with_their_expressions(tools: ToolRegistry) -> None:
    res = run(tools, "get_alert_rules")
    assert res.data is not None
    names = {r["name"] for r in res.data["rules"]}
    assert {"KubePodCrashLooping", "KubeDeploymentReplicasMismatch", "TargetDown"} <= names
    one = run(tools, "get_alert_rules", name="KubePodCrashLooping")
    assert one.data is not None
    (rule,) = one.data["rules"]
    assert 'reason="CrashLoopBackOff"' in rule["query"] and rule["severity"] == "warning"
    missing = run(tools, "get_alert_rules", name="NoSuchAlert")
    assert missing.is_error and "NoSuchAlert" in missing.content


def test_list_alerts_sees_the_demo_faults_firing(tools: ToolRegistry) -> None:
    def crashlooping() -> ToolResult | None:
        res = run(tools, "list_alerts", state="firing", labels={"namespace": "payments"})
        assert res.data is not None
        names = {a["name"] for a in res.data["alerts"]}
        return res if {"KubePodCrashLooping", "KubeDeploymentReplicasMismatch"} <= names else None

    res = wait_for(crashlooping, "KubePodCrashLooping firing in Alertmanager", timeout=180)
    assert res.data is not None
    assert all(a["labels"]["namespace"] == "payments" for a in res.data["alerts"])
    assert all(a["source"] == "alertmanager" for a in res.data["alerts"])
    loop = next(a for a in res.data["alerts"] if a["name"] == "KubePodCrashLooping")
    assert loop["target"].startswith("payments/payment-api-") and loop["summary"]

    def web_5xx() -> ToolResult | None:
        res = run(tools, "list_alerts", state="firing")
        assert res.data is not None
        return res if any(a["name"] == "HTTPHighErrorRate" for a in res.data["alerts"]) else None

    web = wait_for(web_5xx, "HTTPHighErrorRate firing", timeout=180)
    assert web.data is not None
    hit = next(a for a in web.data["alerts"] if a["name"] == "HTTPHighErrorRate")
    assert hit["severity"] == "critical" and hit["target"] == "shop/web"


def test_an_approved_silence_silences_the_alert(tools: ToolRegistry) -> None:
    """Last in the module: the silence stays. The handler is what runs once approved."""
    matchers = {"alertname": "TargetDown", "namespace": "shop"}

    def target_down() -> bool:
        res = run(tools, "list_alerts", labels=matchers)
        assert res.data is not None
        return any(a["state"] == "firing" for a in res.data["alerts"])

    wait_for(target_down, "TargetDown firing in shop", timeout=180)
    res = run(tools, "silence_alert", matchers=matchers, minutes=30, comment="checkout is known")
    assert not res.is_error, res.content
    assert res.data is not None and res.data["silence_id"]

    def silenced() -> bool:
        res = run(tools, "list_alerts", labels=matchers)
        assert res.data is not None
        states = {a["state"] for a in res.data["alerts"]}
        return states == {"silenced"}

    wait_for(silenced, "TargetDown silenced", timeout=120)
    bad = run(tools, "silence_alert", matchers={}, comment="x")
    assert bad.is_error and "matchers" in bad.content


def test_unreachable_prometheus_is_one_clear_line() -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    settings = Settings.from_data(
        {
            "monitoring": {
                "prometheus": {"url": f"http://127.0.0.1:{port}"},
                "alertmanager": {"url": f"http://127.0.0.1:{port}"},
                "request_timeout": 5,
            }
        }
    )
    mon = connect(settings)
    assert mon is not None
    try:
        reg = ToolRegistry(mon.tools(settings))
        for name, args in (("prometheus_query", {"query": "up"}), ("list_alerts", {})):
            res = run(reg, name, **args)
            assert res.is_error and res.error is not None and res.error.code == "unreachable"
            assert f"127.0.0.1:{port}" in res.content
    finally:
        mon.close()


def test_no_monitoring_configured_means_no_tools() -> None:
    assert connect(Settings()) is None
