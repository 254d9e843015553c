"""pods=N: a generated cluster, deterministic, with faults, served in pages; a cluster of more
than 10,000 objects of mixed kinds listed whole and in pages."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from opsconsole.sandbox import SandboxServer
from tests.sandbox.conftest import api_client, apis


def test_generated_counts_and_determinism():
    a, b = SandboxServer(pods=1234), SandboxServer(pods=1234)
    try:
        assert len(a.store.objects["pods"]) == 1234
        assert sorted(a.store.objects["pods"]) == sorted(b.store.objects["pods"])
        statuses = {p["status"]["phase"] for p in a.store.objects["pods"].values()}
        assert statuses == {"Running", "Pending"}
    finally:
        a.stop()
        b.stop()


def test_generated_spread_over_namespaces():
    srv = SandboxServer(pods=300, namespaces=3)
    namespaces = {ns for ns, _ in srv.store.objects["pods"]}
    assert namespaces == {"scale-00", "scale-01", "scale-02"}


def test_generated_large_list_over_http(fresh_sandbox: Any, tmp_path: Path):
    srv = fresh_sandbox(pods=2000)
    core, _, _ = apis(srv, tmp_path)
    resp = core.list_pod_for_all_namespaces(_preload_content=False)
    import json

    data = json.loads(resp.data)
    assert len(data["items"]) == 2000
    page = core.list_namespaced_pod("scale", limit=500)
    assert len(page.items) == 500 and page.metadata.remaining_item_count == 1500
    reasons = set()
    for p in data["items"]:
        for cs in p["status"].get("containerStatuses", []):
            reasons.add((cs["state"].get("waiting") or {}).get("reason"))
    assert {"CrashLoopBackOff", "ImagePullBackOff"} & reasons


PER_KIND = 1200
KINDS = {  # kind -> (list call, manifest body)
    "ConfigMap": ("list_config_map_for_all_namespaces", {"data": {"k": "v"}}),
    "Secret": ("list_secret_for_all_namespaces", {"stringData": {"k": "not-a-secret"}}),
    "ServiceAccount": ("list_service_account_for_all_namespaces", {}),
    "Service": ("list_service_for_all_namespaces", {"spec": {"ports": [{"port": 80}]}}),
    "Role": ("list_role_for_all_namespaces", {"rules": []}),
    "NetworkPolicy": ("list_network_policy_for_all_namespaces", {"spec": {"podSelector": {}}}),
    "PodDisruptionBudget": (
        "list_pod_disruption_budget_for_all_namespaces",
        {"spec": {"minAvailable": 1, "selector": {"matchLabels": {"app": "x"}}}},
    ),
}
VERSIONS = {
    "Role": "rbac.authorization.k8s.io/v1",
    "NetworkPolicy": "networking.k8s.io/v1",
    "PodDisruptionBudget": "policy/v1",
}


@pytest.fixture(scope="module")
def mixed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Any, Any]]:
    """More than 10,000 objects of mixed kinds: 2,000 generated pods with their Deployments,
    ReplicaSets, nodes and events, and 1,200 of each kind of ``KINDS`` over 4 namespaces."""
    from opsconsole.sandbox.generate import generated_scenario

    data = generated_scenario(2000, namespaces=4)
    data["objects"] = [
        {
            "apiVersion": VERSIONS.get(kind, "v1"),
            "kind": kind,
            "metadata": {"name": f"{kind.lower()}-{i:04d}", "namespace": f"scale-{i % 4:02d}"},
            **body,
        }
        for kind, (_, body) in KINDS.items()
        for i in range(PER_KIND)
    ]
    srv = SandboxServer(data=data).start()
    api = api_client(srv.write_kubeconfig(tmp_path_factory.mktemp("mixed") / "kc"))
    yield srv, api
    api.close()
    srv.stop()


def test_a_mixed_10000_object_cluster_lists_every_kind_whole_and_in_pages(
    mixed: tuple[Any, Any],
) -> None:
    from kubernetes import client

    srv, api = mixed
    assert sum(len(v) for v in srv.store.objects.values()) > 10_000
    apis = [client.CoreV1Api(api), client.RbacAuthorizationV1Api(api),
            client.NetworkingV1Api(api), client.PolicyV1Api(api)]  # fmt: skip
    for kind, (call, _) in {**KINDS, "Pod": ("list_pod_for_all_namespaces", {})}.items():
        fn = next(getattr(a, call) for a in apis if hasattr(a, call))
        whole = fn()
        want = 2000 if kind == "Pod" else PER_KIND
        assert len([o for o in whole.items if o.kind in (None, kind)]) >= want, kind
        names, cont = [], None
        while True:  # the same list in pages of 700, as kubectl --chunk-size does
            page = fn(limit=700, _continue=cont) if cont else fn(limit=700)
            names += [o.metadata.name for o in page.items]
            cont = page.metadata._continue
            if not cont:
                break
        assert sorted(names) == sorted(o.metadata.name for o in whole.items), kind
