"""The runtime starts the demo's Prometheus and Alertmanager beside the sandbox: the monitoring
tools are in the registry, the cluster lists and proxies ``monitoring/prometheus-k8s`` and
``monitoring/alertmanager-main`` as a real one does (through the real kubectl), and closing the
runtime ends both processes. Without the binaries: one note, nothing else changes."""

from __future__ import annotations

import json
import subprocess
import urllib.request
from collections.abc import Iterator
from typing import Any

import pytest

from opsconsole.config import Settings
from tests.monitoring.conftest import require_binaries, wait_for


@pytest.fixture(scope="module")
def runtime() -> Iterator[Any]:
    require_binaries()
    from opsconsole.runtime import RuntimeOptions, build_runtime

    rt = build_runtime(
        Settings(), RuntimeOptions(demo=True, offline=True, record=False, monitoring=True)
    )
    try:
        assert rt.monitoring_stack is not None
        assert rt.monitoring_stack.wait_ready(300), rt.monitoring_stack.error
        yield rt
    finally:
        rt.close()


def _kubectl(rt: Any, *args: str) -> str:
    return subprocess.run(
        ["kubectl", "--kubeconfig", rt.kubeconfig, *args],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    ).stdout


def test_the_registry_has_the_monitoring_tools(runtime: Any) -> None:
    names = set(runtime.registry.names())
    assert {"list_alerts", "prometheus_query_range", "get_alert_rules"} <= names
    assert "find_unhealthy_pods" in names
    res = runtime.registry.get("prometheus_query").handler({"query": 'up{job="kubelet"}'})
    assert not res.is_error, res.content
    assert res.data is not None and res.data["items"][0]["value"] == 1


def test_kubectl_reaches_prometheus_and_alertmanager_through_the_service_proxy(
    runtime: Any,
) -> None:
    svcs = json.loads(_kubectl(runtime, "get", "services", "-n", "monitoring", "-o", "json"))
    names = {s["metadata"]["name"] for s in svcs["items"]}
    assert {"prometheus-k8s", "alertmanager-main"} <= names
    base = "/api/v1/namespaces/monitoring/services"
    up = json.loads(
        _kubectl(runtime, "get", "--raw", f"{base}/prometheus-k8s:9090/proxy/api/v1/query?query=up")
    )
    assert up["status"] == "success" and up["data"]["result"]

    def firing() -> list[Any]:
        path = f"{base}/alertmanager-main:9093/proxy/api/v2/alerts"
        out = _kubectl(runtime, "get", "--raw", path)
        return [a for a in json.loads(out) if a["labels"]["alertname"] == "KubePodCrashLooping"]

    assert wait_for(firing, "KubePodCrashLooping through the proxy", timeout=180)


def test_closing_the_runtime_ends_both_processes() -> None:
    require_binaries()
    from opsconsole.runtime import RuntimeOptions, build_runtime

    rt = build_runtime(
        Settings(), RuntimeOptions(demo=True, offline=True, record=False, monitoring=True)
    )
    stack = rt.monitoring_stack
    assert stack.wait_ready(300), stack.error
    with urllib.request.urlopen(stack.prometheus_url + "/-/ready", timeout=30) as r:
        assert r.status == 200
    procs = list(stack._procs)
    assert len(procs) == 2
    rt.close()
    assert all(p.poll() is not None for p in procs)
    for url in (stack.prometheus_url, stack.alertmanager_url):
        with pytest.raises(OSError):
            urllib.request.urlopen(url + "/-/ready", timeout=5)


def test_closing_while_it_loads_its_history_stops_quietly() -> None:
    require_binaries()
    from opsconsole.runtime import RuntimeOptions, build_runtime

    rt = build_runtime(
        Settings(), RuntimeOptions(demo=True, offline=True, record=False, monitoring=True)
    )
    stack = rt.monitoring_stack
    rt.close()  # at once: the backfill is cancelled, no process is left behind
    assert stack.ready.wait(60)
    assert stack._procs == [] and stack._dir is None


def test_without_the_binaries_one_note_and_no_tools(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Any
) -> None:
    from opsconsole.runtime import RuntimeOptions, build_runtime

    monkeypatch.setenv("PATH", str(tmp_path))  # the environment: nothing installed
    rt = build_runtime(
        Settings(), RuntimeOptions(demo=True, offline=True, record=False, monitoring=True)
    )
    try:
        notes = [n.text for n in rt.notes if n.code == "monitoring"]
        assert len(notes) == 1
        assert "apt-get install prometheus prometheus-alertmanager" in notes[0]
        assert rt.monitoring_stack is None and "list_alerts" not in rt.registry.names()
        assert "find_unhealthy_pods" in rt.registry.names()
    finally:
        rt.close()


def test_the_setting_turns_it_off() -> None:
    from opsconsole.runtime import RuntimeOptions, build_runtime

    settings = Settings.from_data({"monitoring": {"sandbox_stack": False}})
    rt = build_runtime(
        settings, RuntimeOptions(demo=True, offline=True, record=False, monitoring=True)
    )
    try:
        assert rt.monitoring_stack is None and not [n for n in rt.notes if n.code == "monitoring"]
    finally:
        rt.close()
