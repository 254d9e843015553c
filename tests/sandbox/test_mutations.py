"""Writes and the simulation behind them: delete -> replacement, scale, rollout restart,
patch flavours, dryRun, conflicts, and crashloop backoff on a fast clock."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tests.sandbox.conftest import apis, pod_names, wait_for


def _ready_names(core: Any, ns: str, selector: str) -> set[str]:
    out = set()
    for p in core.list_namespaced_pod(ns, label_selector=selector).items:
        if (
            p.metadata.deletion_timestamp is None
            and p.status.phase == "Running"
            and all(c.ready for c in p.status.container_statuses or [])
        ):
            out.add(p.metadata.name)
    return out


def test_delete_pod_brings_a_replacement(fresh_sandbox: Any, tmp_path: Path):
    srv = fresh_sandbox(speed=20)
    core, apps, _ = apis(srv, tmp_path)
    before = _ready_names(core, "shop", "app=cart")
    victim = sorted(before)[0]
    deleted = core.delete_namespaced_pod(victim, "shop", grace_period_seconds=30)
    assert deleted.metadata.deletion_timestamp is not None
    assert deleted.metadata.deletion_grace_period_seconds == 30
    assert core.read_namespaced_pod(victim, "shop").metadata.deletion_timestamp is not None
    after = wait_for(
        lambda: (
            (s := _ready_names(core, "shop", "app=cart")) and len(s) == 2 and victim not in s and s
        )
    )
    assert len(after - before) == 1
    wait_for(lambda: victim not in pod_names(core, "shop", "cart-"))
    reasons = {
        e.reason
        for e in core.list_namespaced_event(
            "shop", field_selector=f"involvedObject.name={victim}"
        ).items
    }
    assert "Killing" in reasons
    new = (after - before).pop()
    new_reasons = {
        e.reason
        for e in core.list_namespaced_event(
            "shop", field_selector=f"involvedObject.name={new}"
        ).items
    }
    assert {"Scheduled", "Pulling", "Pulled", "Created", "Started"} <= new_reasons
    dep = wait_for(
        lambda: (
            (d := apps.read_namespaced_deployment("cart", "shop")).status.ready_replicas == 2 and d
        )
    )
    assert dep.status.available_replicas == 2


def test_statefulset_pod_comes_back_with_the_same_name(fresh_sandbox: Any, tmp_path: Path):
    srv = fresh_sandbox(speed=50)
    core, _, _ = apis(srv, tmp_path)
    uid = core.read_namespaced_pod("redis-0", "shop").metadata.uid
    core.delete_namespaced_pod("redis-0", "shop")
    wait_for(
        lambda: (
            (p := core.list_namespaced_pod("shop", field_selector="metadata.name=redis-0").items)
            and p[0].metadata.uid != uid
            and p[0].status.phase == "Running"
        )
    )


def test_grace_zero_deletes_at_once(fresh_sandbox: Any, tmp_path: Path):
    srv = fresh_sandbox()
    core, _, _ = apis(srv, tmp_path)
    victim = pod_names(core, "shop", "catalog-")[0]
    core.delete_namespaced_pod(victim, "shop", grace_period_seconds=0)
    assert victim not in pod_names(core, "shop", "catalog-")


def test_dry_run_changes_nothing(fresh_sandbox: Any, tmp_path: Path):
    srv = fresh_sandbox()
    core, apps, _ = apis(srv, tmp_path)
    rv = core.list_pod_for_all_namespaces().metadata.resource_version
    victim = pod_names(core, "shop", "cart-")[0]
    core.delete_namespaced_pod(victim, "shop", dry_run="All")
    out = apps.patch_namespaced_deployment_scale(
        "web", "shop", {"spec": {"replicas": 7}}, dry_run="All"
    )
    assert out.spec.replicas == 7
    apps.patch_namespaced_deployment(
        "web",
        "shop",
        {"spec": {"template": {"metadata": {"annotations": {"x": "y"}}}}},
        dry_run="All",
    )
    core.create_namespaced_config_map("shop", {"metadata": {"name": "dry"}}, dry_run="All")
    assert core.list_pod_for_all_namespaces().metadata.resource_version == rv
    assert core.read_namespaced_pod(victim, "shop").metadata.deletion_timestamp is None
    assert apps.read_namespaced_deployment("web", "shop").spec.replicas == 3
    assert "dry" not in {c.metadata.name for c in core.list_namespaced_config_map("shop").items}


def test_scale_subresource_patch_and_put(fresh_sandbox: Any, tmp_path: Path):
    srv = fresh_sandbox(speed=50)
    core, apps, _ = apis(srv, tmp_path)
    # (cart, not catalog: the demo's HPA keeps catalog at its maximum)
    apps.patch_namespaced_deployment_scale("cart", "shop", {"spec": {"replicas": 4}})
    wait_for(lambda: len(_ready_names(core, "shop", "app=cart")) == 4)
    scale = apps.read_namespaced_deployment_scale("cart", "shop")
    assert scale.spec.replicas == 4
    scale.spec.replicas = 1
    apps.replace_namespaced_deployment_scale("cart", "shop", scale)
    wait_for(lambda: len(pod_names(core, "shop", "cart-")) == 1)
    dep = wait_for(
        lambda: (d := apps.read_namespaced_deployment("cart", "shop")).status.replicas == 1 and d
    )
    assert dep.spec.replicas == 1 and dep.metadata.generation >= 3
    events = core.list_namespaced_event(
        "shop", field_selector="involvedObject.kind=Deployment,involvedObject.name=cart"
    ).items
    assert any("Scaled up replica set" in e.message for e in events)


def test_scale_rejects_negative_and_stale_put(fresh_sandbox: Any, tmp_path: Path):
    from kubernetes.client.rest import ApiException

    srv = fresh_sandbox()
    _, apps, _ = apis(srv, tmp_path)
    with pytest.raises(ApiException) as e:
        apps.patch_namespaced_deployment_scale("web", "shop", {"spec": {"replicas": -1}})
    assert e.value.status == 422
    stale = apps.read_namespaced_deployment_scale("web", "shop")
    apps.patch_namespaced_deployment_scale("web", "shop", {"spec": {"replicas": 2}})
    stale.spec.replicas = 5
    with pytest.raises(ApiException) as e:
        apps.replace_namespaced_deployment_scale("web", "shop", stale)
    assert e.value.status == 409 and json.loads(e.value.body)["reason"] == "Conflict"


def test_rollout_restart_replaces_pods(fresh_sandbox: Any, tmp_path: Path):
    srv = fresh_sandbox(speed=50)
    core, apps, _ = apis(srv, tmp_path)
    old = _ready_names(core, "shop", "app=web")
    body = {
        "spec": {
            "template": {
                "metadata": {
                    "annotations": {"kubectl.kubernetes.io/restartedAt": "2026-01-01T00:00:00Z"}
                }
            }
        }
    }
    apps.patch_namespaced_deployment("web", "shop", body)  # strategic merge patch
    new = wait_for(
        lambda: (s := _ready_names(core, "shop", "app=web")) and len(s) == 3 and not (s & old) and s
    )
    assert len(new) == 3
    wait_for(lambda: set(pod_names(core, "shop", "web-")) == new)
    dep = apps.read_namespaced_deployment("web", "shop")
    assert dep.metadata.annotations["deployment.kubernetes.io/revision"] == "13"
    assert dep.spec.template.metadata.annotations["kubectl.kubernetes.io/restartedAt"]
    rs = apps.list_namespaced_replica_set("shop", label_selector="app=web").items
    assert sorted(r.spec.replicas for r in rs) == [0, 3]


def test_merge_and_json_patch(fresh_sandbox: Any, tmp_path: Path):
    srv = fresh_sandbox()
    core, apps, _ = apis(srv, tmp_path)
    out = apps.patch_namespaced_deployment(
        "cart", "shop", [{"op": "add", "path": "/metadata/labels/team", "value": "checkout"}]
    )
    assert out.metadata.labels["team"] == "checkout"
    out = apps.patch_namespaced_deployment(
        "cart",
        "shop",
        {"metadata": {"labels": {"team": None, "owner": "sre"}}},
        _content_type="application/merge-patch+json",
    )
    assert "team" not in out.metadata.labels and out.metadata.labels["owner"] == "sre"
    from kubernetes.client.rest import ApiException

    with pytest.raises(ApiException) as e:
        apps.patch_namespaced_deployment(
            "cart", "shop", [{"op": "replace", "path": "/metadata/nope/x", "value": 1}]
        )
    assert e.value.status == 422


def test_crashloop_backoff_grows_and_restart_count_rises(fresh_sandbox: Any, tmp_path: Path):
    from kubernetes import watch

    srv = fresh_sandbox(speed=2000)  # backoff 300 s -> 0.15 s
    core, _, _ = apis(srv, tmp_path)
    name = pod_names(core, "payments", "payment-api-")[0]

    def backoff_count() -> int:
        events = core.list_namespaced_event(
            "payments", field_selector=f"involvedObject.name={name},reason=BackOff"
        ).items
        return events[0].count

    # the event count first, then the pod: every back-off after the listing is counted again
    before = backoff_count()
    listing = core.list_namespaced_pod("payments", field_selector=f"metadata.name={name}")
    start = listing.items[0].status.container_statuses[0].restart_count
    # a watch sees every state the pod goes through (polling could miss the short ones)
    states: list[tuple[str, int]] = []
    last: Any = None
    w = watch.Watch()
    for e in w.stream(
        core.list_namespaced_pod,
        "payments",
        field_selector=f"metadata.name={name}",
        resource_version=listing.metadata.resource_version,
        timeout_seconds=60,
    ):
        last = e["object"].status.container_statuses[0]
        state = last.state
        reason = (
            state.waiting.reason
            if state.waiting
            else state.terminated.reason
            if state.terminated
            else "Running"
        )
        states.append((reason, last.restart_count))
        if reason == "CrashLoopBackOff" and last.restart_count >= start + 2:
            w.stop()  # restarted twice, crashed and backing off again
    assert last is not None and states[-1] == ("CrashLoopBackOff", start + 2), states
    assert [n for _, n in states] == sorted(n for _, n in states)
    assert {"Running", "Error", "CrashLoopBackOff"} <= {r for r, _ in states}
    assert last.last_state.terminated.exit_code == 1
    assert last.last_state.terminated.reason == "Error"
    assert last.state.waiting.message.startswith("back-off 5m0s restarting failed container")
    # one BackOff event per back-off, written with the pod's new state: two since the listing
    assert before >= 14 * 4 + 3  # the scenario's history: restarts 14
    assert backoff_count() >= before + 2


def test_create_bare_pod_runs(fresh_sandbox: Any, tmp_path: Path):
    srv = fresh_sandbox(speed=50)
    core, _, _ = apis(srv, tmp_path)
    core.create_namespaced_pod(
        "default",
        {
            "metadata": {"name": "hello", "labels": {"a": "b"}},
            "spec": {"containers": [{"name": "c", "image": "busybox:1.36"}]},
        },
    )
    wait_for(lambda: core.read_namespaced_pod("hello", "default").status.phase == "Running")
    from kubernetes.client.rest import ApiException

    with pytest.raises(ApiException) as e:
        core.create_namespaced_pod(
            "default",
            {
                "metadata": {"name": "hello"},
                "spec": {"containers": [{"name": "c", "image": "busybox"}]},
            },
        )
    assert e.value.status == 409


def test_new_crashlooping_pod_backs_off_10_20_40(fresh_sandbox: Any, tmp_path: Path):
    from kubernetes import watch

    srv = fresh_sandbox(speed=100)
    core, _, _ = apis(srv, tmp_path)
    old = set(pod_names(core, "payments", "payment-api-"))
    rv = core.list_namespaced_pod("payments").metadata.resource_version
    core.delete_namespaced_pod(sorted(old)[0], "payments", grace_period_seconds=0)
    messages: list[str] = []
    restarts: list[int] = []
    w = watch.Watch()
    for e in w.stream(
        core.list_namespaced_pod,
        "payments",
        resource_version=rv,
        label_selector="app=payment-api",
        timeout_seconds=60,  # ends as soon as it has seen enough
    ):
        pod = e["object"]
        if pod.metadata.name in old or not pod.status.container_statuses:
            continue
        st = pod.status.container_statuses[0]
        restarts.append(st.restart_count)
        if st.state.waiting and st.state.waiting.reason == "CrashLoopBackOff":
            msg = st.state.waiting.message.split(" restarting")[0]
            if not messages or messages[-1] != msg:
                messages.append(msg)
        if len(messages) >= 3:
            w.stop()
    assert messages[:3] == ["back-off 10s", "back-off 20s", "back-off 40s"]
    assert restarts == sorted(restarts) and restarts[-1] == 2


def test_rolling_update_keeps_the_deployment_available(fresh_sandbox: Any, tmp_path: Path):
    from kubernetes import watch

    srv = fresh_sandbox(speed=20)
    core, apps, _ = apis(srv, tmp_path)
    rv = apps.list_namespaced_deployment("shop").metadata.resource_version
    body = {"spec": {"template": {"metadata": {"annotations": {"rev": "2"}}}}}
    apps.patch_namespaced_deployment("web", "shop", body)
    ready_seen: list[int] = []
    w = watch.Watch()
    for e in w.stream(
        apps.list_namespaced_deployment,
        "shop",
        resource_version=rv,
        field_selector="metadata.name=web",
        timeout_seconds=60,  # ends as soon as it has seen enough
    ):
        st = e["object"].status
        ready_seen.append(st.ready_replicas or 0)
        current = st.observed_generation == e["object"].metadata.generation
        if current and st.updated_replicas == 3 and st.replicas == 3 and st.ready_replicas == 3:
            w.stop()
    assert min(ready_seen) >= 3 - 3 // 4  # maxUnavailable 25%
    messages = [
        e.message
        for e in core.list_namespaced_event(
            "shop", field_selector="involvedObject.kind=Deployment,involvedObject.name=web"
        ).items
    ]
    assert any(m.endswith("from 0 to 1") for m in messages), messages  # one surge step
    assert any(m.endswith("from 1 to 0") for m in messages), messages


def test_create_deployment_and_service(fresh_sandbox: Any, tmp_path: Path):
    srv = fresh_sandbox(speed=50)
    core, apps, _ = apis(srv, tmp_path)
    dep = {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": "hello", "labels": {"app": "hello"}},
        "spec": {
            "replicas": 2,
            "selector": {"matchLabels": {"app": "hello"}},
            "template": {
                "metadata": {"labels": {"app": "hello"}},
                "spec": {"containers": [{"name": "hello", "image": "nginx:1.27"}]},
            },
        },
    }
    dry = apps.create_namespaced_deployment("shop", dep, dry_run="All")
    assert dry.metadata.uid and dry.metadata.name == "hello"
    assert "hello" not in {d.metadata.name for d in apps.list_namespaced_deployment("shop").items}
    apps.create_namespaced_deployment("shop", dep)
    core.create_namespaced_service(
        "shop",
        {
            "metadata": {"name": "hello"},
            "spec": {"selector": {"app": "hello"}, "ports": [{"port": 80, "targetPort": 8080}]},
        },
    )
    wait_for(lambda: apps.read_namespaced_deployment("hello", "shop").status.ready_replicas == 2)
    assert len(pod_names(core, "shop", "hello-")) == 2
    svc = core.read_namespaced_service("hello", "shop")
    assert svc.spec.cluster_ip.startswith("10.96.")
    ep = wait_for(lambda: (e := core.read_namespaced_endpoints("hello", "shop")).subsets and e)
    assert len(ep.subsets[0].addresses) == 2 and ep.subsets[0].ports[0].port == 8080
