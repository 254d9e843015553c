"""Every fault of the demo scenario: status, events and logs agree (README / demo.yaml)."""

from __future__ import annotations

import base64
from typing import Any

from tests.sandbox.conftest import pod_names


def _pod(core: Any, ns: str, prefix: str) -> Any:
    return core.read_namespaced_pod(pod_names(core, ns, prefix)[0], ns)


def _events(core: Any, pod: Any) -> dict[str, list[Any]]:
    out: dict[str, list[Any]] = {}
    for e in core.list_namespaced_event(
        pod.metadata.namespace,
        field_selector=f"involvedObject.name={pod.metadata.name},"
        f"involvedObject.uid={pod.metadata.uid}",
    ).items:
        out.setdefault(e.reason, []).append(e)
    return out


def test_crashloop_bad_config(core: Any, apps: Any):
    for name in pod_names(core, "payments", "payment-api-"):
        pod = core.read_namespaced_pod(name, "payments")
        st = pod.status.container_statuses[0]
        assert pod.status.phase == "Running" and not st.ready
        assert st.restart_count >= 14
        assert st.last_state.terminated.reason == "Error"
        assert st.last_state.terminated.exit_code == 1
        state = (
            st.state.waiting.reason
            if st.state.waiting
            else ("Error" if st.state.terminated else "Running")
        )
        assert state in ("CrashLoopBackOff", "Error", "Running")
        evs = _events(core, pod)
        assert "Back-off restarting failed container payment-api" in evs["BackOff"][0].message
        assert evs["BackOff"][0].type == "Warning" and evs["BackOff"][0].count > 10
        prev = core.read_namespaced_pod_log(name, "payments", previous=True)
        assert "KeyError: 'PAYMENT_GATEWAY_URL'" in prev and "Traceback" in prev
    env = {e.name: e for e in pod.spec.containers[0].env}
    ref = env["PAYMENT_GATEWAY_URL"].value_from.config_map_key_ref
    cm = core.read_namespaced_config_map(ref.name, "payments")
    assert ref.key not in cm.data and "gateway_endpoint" in cm.data  # the root cause
    dep = apps.read_namespaced_deployment("payment-api", "payments")
    assert dep.status.unavailable_replicas == 2 and not dep.status.available_replicas
    conds = {c.type: c for c in dep.status.conditions}
    assert conds["Available"].status == "False"
    assert conds["Progressing"].reason == "ProgressDeadlineExceeded"


def test_oomkilled(core: Any):
    pod = _pod(core, "shop", "image-resizer-")
    st = pod.status.container_statuses[0]
    assert st.last_state.terminated.reason == "OOMKilled"
    assert st.last_state.terminated.exit_code == 137
    assert pod.spec.containers[0].resources.limits["memory"] == "128Mi"
    assert "BackOff" in _events(core, pod)
    logs = core.read_namespaced_pod_log(pod.metadata.name, "shop", previous=True)
    assert "380Mi" in logs and "Traceback" not in logs


def test_image_pull_backoff(core: Any):
    pod = _pod(core, "shop", "checkout-")
    st = pod.status.container_statuses[0]
    assert pod.status.phase == "Pending"
    assert st.state.waiting.reason in ("ImagePullBackOff", "ErrImagePull")
    image = pod.spec.containers[0].image
    assert image.endswith(":v2.3.1-rc")
    evs = _events(core, pod)
    failed = " ".join(e.message for e in evs["Failed"])
    assert f'Failed to pull image "{image}"' in failed and "not found" in failed
    assert "Error: ImagePullBackOff" in failed
    assert "Back-off pulling image" in evs["BackOff"][0].message


def test_pending_insufficient_cpu(core: Any):
    pod = _pod(core, "shop", "search-indexer-")
    assert pod.status.phase == "Pending" and pod.spec.node_name is None
    cond = pod.status.conditions[0]
    assert (cond.type, cond.status, cond.reason) == ("PodScheduled", "False", "Unschedulable")
    assert "Insufficient cpu" in cond.message and cond.message.startswith("0/5 nodes")
    evs = _events(core, pod)
    assert evs["FailedScheduling"][0].message == cond.message
    assert evs["FailedScheduling"][0].source.component == "default-scheduler"
    assert pod.spec.containers[0].resources.requests["cpu"] == "6"


def test_failing_readiness_probe(core: Any, apps: Any):
    for name in pod_names(core, "shop", "recommendation-"):
        pod = core.read_namespaced_pod(name, "shop")
        st = pod.status.container_statuses[0]
        assert pod.status.phase == "Running" and st.state.running and not st.ready
        ready = next(c for c in pod.status.conditions if c.type == "Ready")
        assert ready.status == "False" and ready.reason == "ContainersNotReady"
        unhealthy = _events(core, pod)["Unhealthy"][0]
        assert unhealthy.message.startswith("Readiness probe failed: HTTP probe failed")
        assert pod.spec.containers[0].readiness_probe.http_get.path == "/ready"
        logs = core.read_namespaced_pod_log(name, "shop", tail_lines=50)
        assert "feature store unreachable" in logs and "connection refused" in logs
    dep = apps.read_namespaced_deployment("recommendation", "shop")
    assert dep.status.unavailable_replicas == 2


def test_service_without_endpoints(core: Any):
    svc = core.read_namespaced_service("feature-store", "ml")
    assert svc.spec.cluster_ip == "10.96.88.17"
    ep = core.read_namespaced_endpoints("feature-store", "ml")
    assert not ep.subsets
    sel = ",".join(f"{k}={v}" for k, v in svc.spec.selector.items())
    assert not core.list_namespaced_pod("ml", label_selector=sel).items
    assert core.list_namespaced_pod("ml", label_selector="app=feature-store-server").items


def test_node_memory_pressure(core: Any, custom: Any):
    node = core.read_node("worker-3")
    conds = {c.type: c for c in node.status.conditions}
    assert conds["MemoryPressure"].status == "True"
    assert conds["Ready"].status == "True"
    assert any(t.key == "node.kubernetes.io/memory-pressure" for t in node.spec.taints)
    evs = core.list_event_for_all_namespaces(
        field_selector="involvedObject.kind=Node,involvedObject.name=worker-3"
    ).items
    assert {"EvictionThresholdMet", "NodeHasInsufficientMemory"} <= {e.reason for e in evs}
    m = custom.get_cluster_custom_object("metrics.k8s.io", "v1beta1", "nodes", "worker-3")
    used = int(m["usage"]["memory"].removesuffix("Ki")) * 1024
    assert used / (16 * 1024**3) > 0.9


def test_security_findings(core: Any):
    dbg = _pod(core, "default", "debug-tools-")
    c = dbg.spec.containers[0]
    assert c.security_context.privileged is True and c.security_context.run_as_user == 0
    assert c.image.endswith(":latest") and not c.resources.limits and not c.resources.requests
    assert any(v.host_path and v.host_path.path == "/" for v in dbg.spec.volumes)
    ow = _pod(core, "shop", "orders-worker-")
    env = {e.name: e.value for e in ow.spec.containers[0].env}
    assert "fake" in env["DB_PASSWORD"]
    assert not ow.spec.containers[0].resources.limits
    graf = _pod(core, "monitoring", "grafana-")
    assert graf.spec.containers[0].image == "grafana/grafana:latest"
    ne = _pod(core, "monitoring", "node-exporter-")
    assert ne.spec.host_network and ne.spec.host_pid
    assert {v.host_path.path for v in ne.spec.volumes if v.host_path} == {"/proc", "/sys"}
    sec = core.read_namespaced_secret("payment-api-tls", "payments")
    assert b"FAKE" in base64.b64decode(sec.data["tls.key"])


def test_gpu_pool(core: Any):
    trainer = core.read_namespaced_pod("trainer-0", "ml")
    assert trainer.spec.containers[0].resources.requests["nvidia.com/gpu"] == "2"
    assert trainer.spec.node_name in ("gpu-1", "gpu-2")
    node = core.read_node(trainer.spec.node_name)
    assert node.status.capacity["nvidia.com/gpu"] == "4"
    infer = [core.read_namespaced_pod(n, "ml") for n in pod_names(core, "ml", "llm-inference-")]
    assert {p.spec.node_name for p in infer} == {"gpu-1", "gpu-2"}


def test_healthy_workloads_are_clean(core: Any, apps: Any):
    for ns, name in (
        ("shop", "web"),
        ("shop", "cart"),
        ("payments", "ledger"),
        ("kube-system", "coredns"),
    ):
        dep = apps.read_namespaced_deployment(name, ns)
        assert dep.status.ready_replicas == dep.spec.replicas
        assert not dep.status.unavailable_replicas
    for p in core.list_namespaced_pod("shop", label_selector="app in (web,cart,catalog)").items:
        assert all(c.ready and c.restart_count == 0 for c in p.status.container_statuses)
        assert not _events(core, p).get("BackOff")


def test_demo_is_deterministic():
    from opsconsole.sandbox import SandboxServer

    a, b = SandboxServer(), SandboxServer()
    try:
        assert sorted(a.store.objects["pods"]) == sorted(b.store.objects["pods"])
        assert len(a.store.objects["pods"]) == 44
    finally:
        a.stop()
        b.stop()
