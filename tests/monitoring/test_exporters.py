"""The sandbox's Prometheus exporters over real HTTP: the text format parses with
prometheus_client's parser and every figure agrees with what the API says of the cluster."""

from __future__ import annotations

import subprocess
import urllib.error
import urllib.request
from typing import Any

import pytest
from prometheus_client.parser import text_string_to_metric_families


def _families(url: str) -> dict[str, Any]:
    with urllib.request.urlopen(url, timeout=30) as r:
        assert r.headers["Content-Type"].startswith("text/plain; version=")
        text = r.read().decode()
    return {f.name: f for f in text_string_to_metric_families(text)}


def _samples(fams: dict[str, Any], family: str, name: str | None = None, **labels: str) -> list:
    out = []
    for s in fams[family].samples:
        if name is not None and s.name != name:
            continue
        if all(s.labels.get(k) == v for k, v in labels.items()):
            out.append(s)
    return out


def test_kube_state_agrees_with_the_demo(sandbox: Any) -> None:
    fams = _families(sandbox.url + "/metrics/kube-state")
    pods = sandbox.store.objects["pods"]
    phases = [s for s in fams["kube_pod_status_phase"].samples if s.value == 1.0]
    assert len(phases) == len(pods)
    pending = {s.labels["pod"].rsplit("-", 2)[0] for s in phases if s.labels["phase"] == "Pending"}
    assert {"checkout", "search-indexer"} <= pending

    oom = [
        s
        for s in _samples(
            fams, "kube_pod_container_status_last_terminated_reason", reason="OOMKilled"
        )
        if s.labels["pod"].startswith("image-resizer-")
    ]
    assert len(oom) == 1 and oom[0].value == 1.0
    restarts = {
        s.labels["pod"]: s.value
        for s in _samples(fams, "kube_pod_container_status_restarts", namespace="payments")
        if s.labels["pod"].startswith("payment-api-")
    }
    assert len(restarts) == 2 and min(restarts.values()) >= 14
    for pod, value in restarts.items():
        status = pods[("payments", pod)]["status"]["containerStatuses"][0]
        assert value == status["restartCount"]
    waiting = _samples(fams, "kube_pod_container_status_waiting_reason", namespace="shop")
    reasons = {s.labels["pod"].rsplit("-", 2)[0]: s.labels["reason"] for s in waiting}
    assert reasons["checkout"] in ("ImagePullBackOff", "ErrImagePull")
    assert reasons["image-resizer"] == "CrashLoopBackOff"

    spec = _samples(
        fams, "kube_deployment_spec_replicas", namespace="payments", deployment="payment-api"
    )
    avail = _samples(
        fams,
        "kube_deployment_status_replicas_available",
        namespace="payments",
        deployment="payment-api",
    )
    assert spec[0].value == 2 and avail[0].value == 0
    pressure = _samples(
        fams,
        "kube_node_status_condition",
        node="worker-3",
        condition="MemoryPressure",
        status="true",
    )
    assert pressure[0].value == 1.0
    limit = _samples(
        fams, "kube_pod_container_resource_limits", container="image-resizer", resource="memory"
    )
    assert limit[0].value == 128 * 1024**2 and limit[0].labels["unit"] == "byte"


def test_cadvisor_shows_running_containers_only(sandbox: Any) -> None:
    fams = _families(sandbox.url + "/metrics/cadvisor")
    mem = fams["container_memory_working_set_bytes"].samples
    pods = {s.labels["pod"].rsplit("-", 2)[0] for s in mem}
    assert "web" in pods and "checkout" not in pods and "search-indexer" not in pods
    cpu = _samples(fams, "container_cpu_usage_seconds", "container_cpu_usage_seconds_total")
    assert len(cpu) == len(mem) and all(s.value >= 0 for s in cpu)
    periods = {
        tuple(sorted(s.labels.items())): s.value for s in fams["container_cpu_cfs_periods"].samples
    }
    for s in fams["container_cpu_cfs_throttled_periods"].samples:
        assert s.value <= periods[tuple(sorted(s.labels.items()))]


def test_web_shows_5xx_while_checkout_is_down(sandbox: Any) -> None:
    fams = _families(sandbox.url + "/metrics/apps/shop/web")
    codes = {s.labels["code"] for s in fams["http_requests"].samples}
    assert "200" in codes and {"502", "504"} <= codes
    buckets = _samples(
        fams, "http_request_duration_seconds", "http_request_duration_seconds_bucket"
    )
    assert buckets[-1].labels["le"] == "+Inf"
    assert [b.value for b in buckets] == sorted(b.value for b in buckets)
    for down in ("shop/checkout", "payments/payment-api"):
        with pytest.raises(urllib.error.HTTPError) as err:
            urllib.request.urlopen(f"{sandbox.url}/metrics/apps/{down}", timeout=30)
        assert err.value.code == 503
    with pytest.raises(urllib.error.HTTPError) as err:
        urllib.request.urlopen(sandbox.url + "/metrics/nothing", timeout=30)
    assert err.value.code == 404


def test_kubectl_reads_the_exporter(sandbox: Any, sandbox_kubeconfig: Any) -> None:
    out = subprocess.run(
        ["kubectl", "--kubeconfig", str(sandbox_kubeconfig), "get", "--raw", "/metrics/kube-state"],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    ).stdout
    names = {f.name for f in text_string_to_metric_families(out)}
    assert "kube_pod_container_status_restarts" in names
