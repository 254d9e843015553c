"""Queries against the sandbox over real HTTP through the official client."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from opsconsole.errors import NotFound
from opsconsole.k8s import queries as q
from opsconsole.k8s.client import Cluster
from tests.k8s.conftest import cluster_for, pod_of
from tests.sandbox.conftest import wait_for


def test_list_pods_statuses_match_the_scenario(cluster: Cluster):
    pods = q.list_pods(cluster)
    assert len(pods) >= 25
    assert {p.namespace for p in pods} >= {"shop", "payments", "ml", "monitoring", "kube-system"}
    by_workload = {}
    for p in pods:
        by_workload.setdefault(p.name.rsplit("-", 2)[0], set()).add(p.status)
    assert by_workload["payment-api"] == {"CrashLoopBackOff"}
    assert by_workload["checkout"] <= {"ImagePullBackOff", "ErrImagePull"}
    assert by_workload["search-indexer"] == {"Pending"}
    assert by_workload["image-resizer"] <= {"CrashLoopBackOff", "OOMKilled"}
    rec = [p for p in pods if p.name.startswith("recommendation-")]
    assert rec and all(p.status == "Running" and p.ready == 0 for p in rec)
    web = [p for p in pods if p.name.startswith("web-")]
    assert web and all(p.ready_text == "2/2" and p.healthy for p in web)
    crash = next(p for p in pods if p.name.startswith("payment-api-"))
    assert crash.restarts > 0 and crash.containers[0].last_exit_code == 1
    assert crash.owner_kind == "ReplicaSet" and crash.raw is None


def test_list_namespace_and_selectors(cluster: Cluster):
    shop = q.list_pods(cluster, "shop")
    assert shop and {p.namespace for p in shop} == {"shop"}
    web = q.list_pods(cluster, "shop", label_selector="app=web")
    assert web and all(p.labels.get("app") == "web" for p in web)
    pending = q.list_pods(cluster, field_selector="status.phase=Pending")
    assert pending and all(p.phase == "Pending" for p in pending)


def test_pagination_pages_small(cluster: Cluster, sandbox: Any):
    before = sandbox.faults.requests
    pods = q.list_pods(cluster, page_size=7)
    assert sandbox.faults.requests - before >= len(pods) // 7
    assert len({p.key for p in pods}) == len(pods) == len(q.list_pods(cluster))


def test_get_pod_404_names_kind_name_namespace(cluster: Cluster):
    with pytest.raises(NotFound, match=r"^not found: pod/nope-123 in shop$"):
        q.get_pod(cluster, "shop", "nope-123")


def test_describe_pod_like_kubectl(cluster: Cluster):
    name = pod_of(cluster, "payments", "payment-api-")
    text = q.describe_pod(cluster, "payments", name)
    for needle in (
        f"Name: {name}",
        "Namespace: payments",
        "State: Waiting",
        "Reason: CrashLoopBackOff",
        "Last State: Terminated",
        "Exit Code: 1",
        "Restart Count:",
        "Events (oldest first):",
        "BackOff",
        "Controlled By:",
    ):
        assert needle in text, needle
    rec = q.describe_pod(cluster, "shop", pod_of(cluster, "shop", "recommendation-"))
    assert "Readiness: http-get" in rec and "Unhealthy" in rec


def test_events_field_selector(cluster: Cluster):
    name = pod_of(cluster, "shop", "search-indexer-")
    evs = q.list_events(cluster, "shop", object_name=name)
    assert evs and all(e.object_name == name for e in evs)
    assert any(e.reason == "FailedScheduling" and "Insufficient cpu" in e.message for e in evs)
    warn = q.list_events(cluster, warnings_only=True)
    assert warn and all(e.type == "Warning" for e in warn)


def test_deployments_nodes_services_metrics(cluster: Cluster):
    deps = {(d.namespace, d.name): d for d in q.list_deployments(cluster)}
    pay = deps[("payments", "payment-api")]
    assert pay.replicas == 2 and pay.available == 0 and pay.unavailable == 2
    nodes = {n.name: n for n in q.list_nodes(cluster)}
    assert "MemoryPressure" in nodes["worker-3"].pressure
    assert nodes["gpu-1"].gpu_capacity == "4"
    assert any("nvidia.com/gpu" in t for t in nodes["gpu-1"].taints)
    svcs = {s["metadata"]["name"] for s in q.list_services(cluster, "ml")}
    assert "feature-store" in svcs
    eps = {e["metadata"]["name"]: e for e in q.list_endpoints(cluster, "ml")}
    assert not any(s.get("addresses") for s in eps["feature-store"].get("subsets") or [])
    usage = q.pod_metrics(cluster, "monitoring")
    assert any(u.name == "prometheus-0" and u.memory_bytes > 0 for u in usage)
    assert {u.name for u in q.node_metrics(cluster)} >= {"worker-1", "gpu-1"}


def test_mutations_dry_run_changes_nothing_then_real(fresh_sandbox: Any, tmp_path: Path):
    srv = fresh_sandbox(scenario="demo", speed=20.0)
    c = cluster_for(srv, tmp_path)
    web = sorted(p.name for p in q.list_pods(c, "shop", label_selector="app=web"))
    out = q.delete_pod(c, "shop", web[0], dry_run=True)
    assert "dry run" in out and "would be deleted" in out and "replacement" in out
    assert q.get_pod(c, "shop", web[0])["metadata"]["name"] == web[0]
    before = q.get_deployment(c, "shop", "web")
    out = q.scale_deployment(c, "shop", "web", 5, dry_run=True)
    assert "would be scaled from 3 to 5" in out
    out = q.rollout_restart(c, "shop", "web", dry_run=True)
    assert "would roll out" in out
    after = q.get_deployment(c, "shop", "web")
    assert after["spec"] == before["spec"]
    assert after["metadata"]["resourceVersion"] == before["metadata"]["resourceVersion"]

    c.write_mode = True  # the dry runs above ran in read-only mode
    assert "scaled from 3 to 4" in q.scale_deployment(c, "shop", "web", 4)
    assert q.get_deployment(c, "shop", "web")["spec"]["replicas"] == 4
    q.rollout_restart(c, "shop", "web")
    tmpl = q.get_deployment(c, "shop", "web")["spec"]["template"]["metadata"]
    assert "kubectl.kubernetes.io/restartedAt" in tmpl.get("annotations", {})
    assert "deleted" in q.delete_pod(c, "shop", web[0])

    def gone() -> bool:
        try:
            q.get_pod(c, "shop", web[0])
        except NotFound:
            return True
        return False

    wait_for(gone)  # the deleted pod terminates, then it is gone
