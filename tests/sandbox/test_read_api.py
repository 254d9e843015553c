"""Reading every resource through the official client over real HTTP (shared demo sandbox)."""

from __future__ import annotations

import base64
import json
from typing import Any

import pytest

from tests.sandbox.conftest import raw_get


def test_namespaces_and_nodes(core: Any):
    names = {n.metadata.name for n in core.list_namespace().items}
    assert {"default", "kube-system", "shop", "payments", "monitoring", "ml"} <= names
    nodes = {n.metadata.name: n for n in core.list_node().items}
    assert set(nodes) == {"worker-1", "worker-2", "worker-3", "gpu-1", "gpu-2"}
    gpu = nodes["gpu-1"]
    assert gpu.status.capacity["nvidia.com/gpu"] == "4"
    assert gpu.status.allocatable["nvidia.com/gpu"] == "4"
    assert gpu.spec.taints[0].key == "nvidia.com/gpu"
    node = core.read_node("worker-1")
    assert node.metadata.uid and node.metadata.resource_version
    assert node.metadata.creation_timestamp is not None


def test_pods_all_namespaces_and_shapes(core: Any):
    pods = core.list_pod_for_all_namespaces().items
    assert len(pods) >= 25
    assert len({p.metadata.namespace for p in pods}) >= 5
    for p in pods:
        assert p.metadata.uid and p.metadata.resource_version and p.metadata.creation_timestamp
        job_pod = any(r.kind == "Job" for r in p.metadata.owner_references or ())
        assert p.spec.containers
        assert p.status.phase in (("Failed", "Succeeded") if job_pod else ("Running", "Pending"))
    web = next(p for p in pods if p.metadata.name.startswith("web-"))
    assert web.metadata.owner_references[0].kind == "ReplicaSet"
    assert [c.name for c in web.spec.containers] == ["web", "envoy"]
    one = core.read_namespaced_pod(web.metadata.name, "shop")
    assert one.metadata.uid == web.metadata.uid


@pytest.mark.parametrize(
    ("selector", "expect"),
    [
        ("app=web", {"web"}),
        ("app==cart", {"cart"}),
        ("tier=api,app!=cart", {"catalog", "checkout", "recommendation"}),
        ("app in (web, cart)", {"web", "cart"}),
        (
            "tier notin (api,frontend)",
            {"image-resizer", "search-indexer", "orders-worker", "redis"},
        ),
        (
            "tier",
            {
                "web",
                "cart",
                "catalog",
                "checkout",
                "image-resizer",
                "search-indexer",
                "recommendation",
                "orders-worker",
            },
        ),
        ("!tier", {"redis"}),
    ],
)
def test_label_selectors(core: Any, selector: str, expect: set[str]):
    pods = core.list_namespaced_pod("shop", label_selector=selector).items
    assert {p.metadata.labels["app"] for p in pods} == expect


def test_field_selectors(core: Any):
    on_w1 = core.list_pod_for_all_namespaces(field_selector="spec.nodeName=worker-1").items
    assert on_w1 and all(p.spec.node_name == "worker-1" for p in on_w1)
    pending = core.list_pod_for_all_namespaces(field_selector="status.phase=Pending").items
    assert {p.metadata.labels.get("app") for p in pending} >= {"search-indexer", "checkout"}
    one = core.list_pod_for_all_namespaces(field_selector="metadata.name=redis-0").items
    assert [p.metadata.namespace for p in one] == ["shop"]
    by_ns = core.list_pod_for_all_namespaces(
        field_selector="metadata.namespace=payments,status.phase!=Pending"
    ).items
    assert by_ns and {p.metadata.namespace for p in by_ns} == {"payments"}


def test_bad_selector_is_400(core: Any):
    from kubernetes.client.rest import ApiException

    with pytest.raises(ApiException) as e:
        core.list_namespaced_pod("shop", field_selector="spec.bogus=1")
    assert e.value.status == 400
    assert "field label not supported" in json.loads(e.value.body)["message"]


def test_pagination_limit_continue(core: Any):
    everything = [p.metadata.name for p in core.list_pod_for_all_namespaces().items]
    seen: list[str] = []
    cont = None
    first_rv = None
    while True:
        page = core.list_pod_for_all_namespaces(limit=7, _continue=cont)
        first_rv = first_rv or page.metadata.resource_version
        seen += [p.metadata.name for p in page.items]
        cont = page.metadata._continue
        if not cont:
            assert page.metadata.remaining_item_count is None
            break
        assert len(page.items) == 7
        assert page.metadata.remaining_item_count == len(everything) - len(seen)
    assert seen == everything


def test_events_with_field_selectors(core: Any):
    name = next(
        p.metadata.name
        for p in core.list_namespaced_pod("payments").items
        if p.metadata.name.startswith("payment-api-")
    )
    evs = core.list_namespaced_event(
        "payments", field_selector=f"involvedObject.name={name},involvedObject.kind=Pod"
    ).items
    assert evs and all(e.involved_object.name == name for e in evs)
    assert {e.reason for e in evs} >= {"BackOff", "Started"}
    warn = core.list_event_for_all_namespaces(field_selector="type=Warning").items
    assert warn and all(e.type == "Warning" for e in warn)
    backoff = core.list_namespaced_event("payments", field_selector="reason=BackOff").items
    assert backoff and all(e.count > 1 and e.first_timestamp and e.last_timestamp for e in backoff)


def test_services_endpoints_configmaps_secrets(core: Any):
    svc = core.read_namespaced_service("web", "shop")
    assert svc.spec.selector == {"app": "web"} and svc.spec.cluster_ip
    ep = core.read_namespaced_endpoints("web", "shop")
    assert len(ep.subsets[0].addresses) == 3
    cm = core.read_namespaced_config_map("payment-api-config", "payments")
    assert "gateway_endpoint" in cm.data
    sec = core.read_namespaced_secret("postgres-credentials", "payments")
    assert base64.b64decode(sec.data["password"]).decode() == "sandbox-fake-pg-password"
    assert sec.type == "Opaque"
    assert core.list_secret_for_all_namespaces().items


def test_workloads(apps: Any):
    deps = {
        (d.metadata.namespace, d.metadata.name): d
        for d in apps.list_deployment_for_all_namespaces().items
    }
    web = deps[("shop", "web")]
    assert web.spec.replicas == 3 and web.status.ready_replicas == 3
    rs = apps.list_namespaced_replica_set("shop", label_selector="app=web").items
    assert rs and rs[0].metadata.owner_references[0].name == "web"
    sts = {s.metadata.name for s in apps.list_stateful_set_for_all_namespaces().items}
    assert {"postgres", "redis", "prometheus", "trainer"} <= sts
    ds = apps.read_namespaced_daemon_set("node-exporter", "monitoring")
    assert ds.status.desired_number_scheduled == 5 and ds.status.number_ready == 5
    scale = apps.read_namespaced_deployment_scale("web", "shop")
    assert scale.spec.replicas == 3 and scale.status.selector == "app=web,tier=frontend"


def test_metrics(custom: Any):
    pods = custom.list_namespaced_custom_object("metrics.k8s.io", "v1beta1", "shop", "pods")
    assert pods["kind"] == "PodMetricsList" and pods["items"]
    item = pods["items"][0]
    assert item["containers"][0]["usage"]["cpu"].endswith("n")
    assert item["containers"][0]["usage"]["memory"].endswith("Ki")
    nodes = custom.list_cluster_custom_object("metrics.k8s.io", "v1beta1", "nodes")
    assert {n["metadata"]["name"] for n in nodes["items"]} >= {"worker-3", "gpu-1"}
    one = custom.get_cluster_custom_object("metrics.k8s.io", "v1beta1", "nodes", "worker-3")
    assert one["kind"] == "NodeMetrics"
    all_pods = custom.list_cluster_custom_object("metrics.k8s.io", "v1beta1", "pods")
    names = {p["metadata"]["name"] for p in all_pods["items"]}
    assert not any(n.startswith("search-indexer") for n in names)  # pending: no metrics


def test_table_responses(sandbox: Any):
    accept = "application/json;as=Table;v=v1;g=meta.k8s.io,application/json"
    code, t = raw_get(sandbox, "/api/v1/namespaces/shop/pods", {"Accept": accept})
    assert code == 200 and t["kind"] == "Table"
    cols = [c["name"] for c in t["columnDefinitions"]]
    assert cols[:5] == ["Name", "Ready", "Status", "Restarts", "Age"]
    assert cols[5:] == ["IP", "Node", "Nominated Node", "Readiness Gates"]
    row = next(r for r in t["rows"] if r["cells"][0].startswith("image-resizer"))
    assert row["cells"][2] == "CrashLoopBackOff"
    assert row["object"]["kind"] == "PartialObjectMetadata"
    for path in (
        "/api/v1/nodes",
        "/apis/apps/v1/deployments",
        "/api/v1/services",
        "/api/v1/events",
        "/api/v1/namespaces",
    ):
        code, t = raw_get(sandbox, path, {"Accept": accept})
        assert code == 200 and t["kind"] == "Table" and t["rows"], path


def test_table_include_object_and_partial_metadata(sandbox: Any):
    accept = "application/json;as=Table;v=v1;g=meta.k8s.io"
    _, full = raw_get(
        sandbox, "/api/v1/namespaces/shop/pods?includeObject=Object&limit=2", {"Accept": accept}
    )
    assert full["rows"][0]["object"]["kind"] == "Pod" and full["metadata"]["continue"]
    _, bare = raw_get(sandbox, "/api/v1/nodes?includeObject=None", {"Accept": accept})
    assert "object" not in bare["rows"][0]
    _, meta = raw_get(
        sandbox,
        "/apis/apps/v1/namespaces/shop/deployments",
        {
            "Accept": "application/json;as=PartialObjectMetadataList;v=v1;"
            "g=meta.k8s.io,application/json"
        },
    )
    assert meta["kind"] == "PartialObjectMetadataList"
    assert "spec" not in meta["items"][0] and meta["items"][0]["metadata"]["name"]


def test_namespace_object_and_missing_namespace(core: Any):
    ns = core.read_namespace("shop")
    assert ns.status.phase == "Active"
    assert core.list_namespaced_pod("no-such-namespace").items == []
