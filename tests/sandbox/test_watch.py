"""Watches through kubernetes.watch.Watch: events, resourceVersions, timeouts and 410 Gone."""

from __future__ import annotations

import http.client
import json
import threading
from pathlib import Path
from typing import Any

import pytest

from tests.sandbox.conftest import apis, pod_names


def test_watch_initial_added_then_timeout(core: Any):
    from kubernetes import watch

    w = watch.Watch()
    events = list(w.stream(core.list_namespaced_pod, "payments", timeout_seconds=1))
    assert events and all(e["type"] == "ADDED" for e in events)
    assert {e["object"].metadata.name for e in events} == set(pod_names(core, "payments", ""))
    assert all(e["object"].metadata.resource_version for e in events)


def test_watch_sees_modified_and_deleted(fresh_sandbox: Any, tmp_path: Path):
    from kubernetes import watch

    srv = fresh_sandbox(speed=50)
    core, _, _ = apis(srv, tmp_path)
    listing = core.list_namespaced_pod("shop", label_selector="app=cart")
    victim = listing.items[0].metadata.name
    seen: list[tuple[str, str, str]] = []

    def consume() -> None:
        w = watch.Watch()
        for e in w.stream(
            core.list_namespaced_pod,
            "shop",
            label_selector="app=cart",
            resource_version=listing.metadata.resource_version,
            timeout_seconds=60,  # ends at the DELETED event
        ):
            md = e["object"].metadata
            seen.append((e["type"], md.name, md.resource_version))
            if e["type"] == "DELETED" and md.name == victim:
                w.stop()

    t = threading.Thread(target=consume)
    t.start()  # the watch resumes from the listing: it misses nothing, whenever it connects
    core.delete_namespaced_pod(victim, "shop")
    t.join(timeout=60)
    types = [s[0] for s in seen if s[1] == victim]
    assert "MODIFIED" in types and types[-1] == "DELETED"  # deletionTimestamp, then gone
    assert any(s[0] == "ADDED" and s[1] != victim for s in seen)  # the replacement
    rvs = [int(s[2]) for s in seen]
    assert rvs == sorted(rvs) and min(rvs) > int(listing.metadata.resource_version)


def test_watch_too_old_resource_version_error_event(fresh_sandbox: Any, tmp_path: Path):
    from kubernetes import watch
    from kubernetes.client.rest import ApiException

    srv = fresh_sandbox()
    core, _, _ = apis(srv, tmp_path)
    rv = core.list_namespaced_pod("shop").metadata.resource_version
    core.delete_namespaced_pod(pod_names(core, "shop", "cart-")[0], "shop", grace_period_seconds=0)
    srv.compact()
    # the client retries a 410 ERROR event once by itself, then raises
    with pytest.raises(ApiException) as e:
        for _ in watch.Watch().stream(core.list_namespaced_pod, "shop", resource_version=rv):
            pass
    assert e.value.status == 410 and "too old resource version" in e.value.reason
    # raw: a 200 stream whose one event is ERROR with a 410 Status
    resp = core.list_namespaced_pod("shop", watch=True, resource_version=rv, _preload_content=False)
    line = json.loads(resp.data.decode().splitlines()[0])
    assert line["type"] == "ERROR" and line["object"]["code"] == 410
    assert line["object"]["reason"] == "Expired"


def test_watch_too_old_as_http_410(fresh_sandbox: Any, tmp_path: Path):
    from kubernetes.client.rest import ApiException

    srv = fresh_sandbox()
    core, _, _ = apis(srv, tmp_path)
    rv = core.list_namespaced_pod("shop").metadata.resource_version
    core.delete_namespaced_pod(pod_names(core, "shop", "cart-")[0], "shop", grace_period_seconds=0)
    srv.compact()
    srv.faults.gone_as_http = True
    with pytest.raises(ApiException) as e:
        core.list_namespaced_pod("shop", watch=True, resource_version=rv, timeout_seconds=1)
    assert e.value.status == 410
    assert json.loads(e.value.body)["reason"] == "Expired"


def test_history_window_bounds_resume(fresh_sandbox: Any, tmp_path: Path):
    from kubernetes.client.rest import ApiException

    srv = fresh_sandbox(history_limit=3, speed=100)
    core, _, _ = apis(srv, tmp_path)
    rv = core.list_namespaced_pod("shop").metadata.resource_version
    for name in pod_names(core, "shop", "cart-") + pod_names(core, "shop", "catalog-"):
        core.delete_namespaced_pod(name, "shop")
    srv.faults.gone_as_http = True
    with pytest.raises(ApiException) as e:
        core.list_namespaced_pod("shop", watch=True, resource_version=rv, timeout_seconds=1)
    assert e.value.status == 410


def test_expired_continue_token_is_410(fresh_sandbox: Any, tmp_path: Path):
    from kubernetes.client.rest import ApiException

    srv = fresh_sandbox()
    core, _, _ = apis(srv, tmp_path)
    page = core.list_pod_for_all_namespaces(limit=5)
    core.delete_namespaced_pod(pod_names(core, "shop", "cart-")[0], "shop", grace_period_seconds=0)
    srv.compact()
    with pytest.raises(ApiException) as e:
        core.list_pod_for_all_namespaces(limit=5, _continue=page.metadata._continue)
    assert e.value.status == 410 and "continue parameter is too old" in e.value.body


def test_send_initial_events_ends_with_bookmark(sandbox: Any):
    path = (
        "/api/v1/namespaces/payments/pods?watch=1&sendInitialEvents=true"
        "&resourceVersionMatch=NotOlderThan&allowWatchBookmarks=true&timeoutSeconds=1"
    )
    conn = http.client.HTTPConnection("127.0.0.1", sandbox.port, timeout=5)
    conn.request("GET", path)
    resp = conn.getresponse()
    assert resp.status == 200 and resp.getheader("Transfer-Encoding") == "chunked"
    joined = [json.loads(line) for line in resp.read().splitlines()]
    conn.close()
    types = [e["type"] for e in joined]
    assert types[-1] == "BOOKMARK" and set(types[:-1]) == {"ADDED"}
    assert joined[-1]["object"]["metadata"]["annotations"] == {"k8s.io/initial-events-end": "true"}


def test_stop_closes_open_watch_promptly(fresh_sandbox: Any, tmp_path: Path):
    from kubernetes import watch

    srv = fresh_sandbox()
    core, _, _ = apis(srv, tmp_path)
    streaming, done = threading.Event(), threading.Event()

    def consume() -> None:
        try:
            for _ in watch.Watch().stream(core.list_namespaced_pod, "shop", _request_timeout=30):
                streaming.set()
        except Exception:
            pass
        done.set()

    threading.Thread(target=consume, daemon=True).start()
    assert streaming.wait(30)  # the watch is open: its first events have arrived
    srv.stop()
    srv.stop()  # idempotent
    assert done.wait(20)  # well below the client's 30 s read timeout
