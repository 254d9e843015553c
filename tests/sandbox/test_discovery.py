"""Version, discovery and unknown paths, through the official client and raw HTTP."""

from __future__ import annotations

from typing import Any

from tests.sandbox.conftest import raw_get


def test_version_through_client(sandbox_kubeconfig: Any):
    from kubernetes import client

    from tests.sandbox.conftest import api_client

    info = client.VersionApi(api_client(sandbox_kubeconfig)).get_code()
    assert info.major == "1" and info.git_version.startswith("v1.")


def test_core_and_group_discovery(sandbox_kubeconfig: Any):
    from kubernetes import client

    from tests.sandbox.conftest import api_client

    api = api_client(sandbox_kubeconfig)
    assert "v1" in client.CoreApi(api).get_api_versions().versions
    groups = {g.name: g for g in client.ApisApi(api).get_api_versions().groups}
    assert {"apps", "metrics.k8s.io"} <= set(groups)
    assert groups["apps"].preferred_version.group_version == "apps/v1"
    core = {r.name: r for r in client.CoreV1Api(api).get_api_resources().resources}
    assert core["pods"].namespaced and core["pods"].kind == "Pod"
    assert "po" in core["pods"].short_names and "watch" in core["pods"].verbs
    assert not core["nodes"].namespaced
    assert "pods/log" in core
    apps = {r.name: r for r in client.AppsV1Api(api).get_api_resources().resources}
    assert apps["deployments"].short_names == ["deploy"]
    assert apps["deployments/scale"].kind == "Scale"


def test_metrics_group_resources(sandbox: Any):
    code, doc = raw_get(sandbox, "/apis/metrics.k8s.io/v1beta1")
    assert code == 200
    kinds = {r["name"]: r["kind"] for r in doc["resources"]}
    assert kinds == {"pods": "PodMetrics", "nodes": "NodeMetrics"}


def test_unknown_paths_are_404_status(sandbox: Any):
    for path in (
        "/api/v1/widgets",
        "/apis/nope/v1",
        "/nothing/here",
        "/api/v1/namespaces/shop/pods/x/exec",
        "/openapi/v3/apis/nope/v1",
    ):
        code, body = raw_get(sandbox, path)
        assert code == 404, path
        assert body["kind"] == "Status" and body["reason"] == "NotFound" and body["code"] == 404


def test_not_found_object_message(core: Any):
    from kubernetes.client.rest import ApiException

    try:
        core.read_namespaced_pod("no-such-pod", "shop")
    except ApiException as e:
        import json

        assert e.status == 404
        body = json.loads(e.body)
        assert body["message"] == 'pods "no-such-pod" not found'
        assert body["details"] == {"name": "no-such-pod", "kind": "pods"}
    else:
        raise AssertionError("expected 404")
