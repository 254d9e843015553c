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


def test_events_are_served_in_both_groups(fresh_sandbox: Any, kubectl: Any, tmp_path: Any):
    """events.k8s.io/v1 mirrors core v1: the same events, converted (``eventTime`` null for an
    event written through core v1, as a real server answers, which the official client's model
    refuses: raw JSON here); a new event shows in both and in kubectl's Table."""
    import json

    from kubernetes import client

    from tests.sandbox.conftest import api_client, wait_for

    srv = fresh_sandbox("demo")
    api = api_client(srv.write_kubeconfig(tmp_path / "kc"))
    core, events = client.CoreV1Api(api), client.EventsV1Api(api)

    def raw(fn: Any, *args: Any) -> dict[str, Any]:
        items = json.loads(fn(*args, _preload_content=False).data)["items"]
        return {e["metadata"]["name"]: e for e in items}

    old = raw(core.list_event_for_all_namespaces)
    new = raw(events.list_event_for_all_namespaces)
    assert old and old.keys() == new.keys()
    for name, e in old.items():
        v1 = new[name]
        assert v1["apiVersion"] == "events.k8s.io/v1" and v1["eventTime"] is None
        assert (v1["note"], v1["reason"], v1["regarding"]) == (
            e["message"], e["reason"], e["involvedObject"]
        )  # fmt: skip
        assert (v1["deprecatedCount"], v1["deprecatedSource"]) == (e["count"], e["source"])
    run = kubectl(srv)
    run("create", "job", "once", "--image=busybox:1.36")  # the job controller's events
    created = wait_for(
        lambda: [
            e
            for e in raw(events.list_namespaced_event, "default").values()
            if e["regarding"]["name"] == "once" and e["reason"] == "SuccessfulCreate"
        ],
        60,
    )
    assert created[0]["reportingController"] == "job-controller"
    assert created[0]["metadata"]["name"] in raw(core.list_namespaced_event, "default")
    rows = run("get", "events.events.k8s.io").stdout.splitlines()
    assert rows[0].split()[:4] == ["LAST", "SEEN", "TYPE", "REASON"]
    assert any("job/once" in r and "SuccessfulCreate" in r for r in rows)
    run("delete", "job", "once")
    run("delete", "events", "--all")
    wait_for(
        lambda: (
            raw(events.list_namespaced_event, "default").keys()
            == raw(core.list_namespaced_event, "default").keys()
        ),
        60,
    )
    api.close()
