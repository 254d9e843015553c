"""Pod logs: bounded reads, previous, errors with real messages, and follow streams."""

from __future__ import annotations

import json
import re
import time
from pathlib import Path
from typing import Any

import pytest

from tests.sandbox.conftest import apis, pod_names


def test_tail_timestamps_limit(core: Any):
    web = pod_names(core, "shop", "web-")[0]
    text = core.read_namespaced_pod_log(web, "shop", container="web", tail_lines=5)
    lines = text.splitlines()
    assert len(lines) == 5 and all('HTTP/1.1"' in line for line in lines)
    stamped = core.read_namespaced_pod_log(
        web, "shop", container="web", tail_lines=2, timestamps=True
    )
    assert all(
        re.match(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}Z ", x) for x in stamped.splitlines()
    )
    limited = core.read_namespaced_pod_log(web, "shop", container="web", limit_bytes=100)
    assert len(limited.encode()) == 100
    whole = core.read_namespaced_pod_log(web, "shop", container="web")
    assert whole.startswith("/docker-entrypoint.sh")  # the start lines come first
    recent = core.read_namespaced_pod_log(web, "shop", container="web", since_seconds=400)
    assert 0 < len(recent.splitlines()) < len(whole.splitlines())


def test_logs_grow(fresh_sandbox: Any, tmp_path: Path):
    core, _, _ = apis(fresh_sandbox(), tmp_path)
    web = pod_names(core, "shop", "web-")[0]
    before = core.read_namespaced_pod_log(web, "shop", container="web")
    time.sleep(2.1)  # nginx profile: one line every 2 s at speed 1
    after = core.read_namespaced_pod_log(web, "shop", container="web")
    assert len(after.splitlines()) > len(before.splitlines())


def _bad_request(fn: Any) -> str:
    from kubernetes.client.rest import ApiException

    with pytest.raises(ApiException) as e:
        fn()
    assert e.value.status == 400
    body = json.loads(e.value.body)
    assert body["kind"] == "Status" and body["reason"] == "BadRequest"
    return body["message"]


def test_log_errors(core: Any):
    web = pod_names(core, "shop", "web-")[0]
    msg = _bad_request(lambda: core.read_namespaced_pod_log(web, "shop"))
    assert msg == f"a container name must be specified for pod {web}, choose one of: [web envoy]"
    msg = _bad_request(lambda: core.read_namespaced_pod_log(web, "shop", container="nope"))
    assert msg == f"container nope is not valid for pod {web}"
    msg = _bad_request(
        lambda: core.read_namespaced_pod_log(web, "shop", container="web", previous=True)
    )
    assert msg == f'previous terminated container "web" in pod "{web}" not found'
    checkout = pod_names(core, "shop", "checkout-")[0]
    msg = _bad_request(lambda: core.read_namespaced_pod_log(checkout, "shop"))
    assert "is waiting to start" in msg
    pending = pod_names(core, "shop", "search-indexer-")[0]
    assert "is waiting to start" in _bad_request(
        lambda: core.read_namespaced_pod_log(pending, "shop")
    )


def test_previous_logs_of_crashloop_have_the_trace(core: Any):
    pod = pod_names(core, "payments", "payment-api-")[0]
    cur = core.read_namespaced_pod_log(pod, "payments")
    prev = core.read_namespaced_pod_log(pod, "payments", previous=True)
    for text in (cur, prev):
        assert "Traceback (most recent call last):" in text
        assert text.rstrip().endswith("KeyError: 'PAYMENT_GATEWAY_URL'")


def test_follow_streams_new_lines(fresh_sandbox: Any, tmp_path: Path):
    srv = fresh_sandbox(speed=20)  # nginx: a line every 0.1 s
    core, _, _ = apis(srv, tmp_path)
    web = pod_names(core, "shop", "web-")[0]
    resp = core.read_namespaced_pod_log(
        web, "shop", container="web", follow=True, tail_lines=1, _preload_content=False
    )
    t0 = time.monotonic()
    got: list[str] = []
    for chunk in resp.stream(1024):
        got += [x for x in chunk.decode().splitlines() if x]
        if len(got) >= 6:
            break
    resp.release_conn()
    assert len(got) >= 6 and time.monotonic() - t0 < 5
    stamps = [re.search(r"\[(.*?)\]", x).group(1) for x in got]  # type: ignore[union-attr]
    assert stamps == sorted(stamps)


def test_follow_of_crashing_container_ends_with_the_trace(fresh_sandbox: Any, tmp_path: Path):
    srv = fresh_sandbox(speed=200)
    core, _, _ = apis(srv, tmp_path)
    pod = pod_names(core, "payments", "payment-api-")[0]
    deadline = time.monotonic() + 10
    while (
        core.read_namespaced_pod(pod, "payments").status.container_statuses[0].state.running is None
    ):
        assert time.monotonic() < deadline
        time.sleep(0.01)
    resp = core.read_namespaced_pod_log(
        pod, "payments", follow=True, _preload_content=False, _request_timeout=10
    )
    text = resp.data.decode()  # the stream ends when the container exits
    assert "payment-api starting" in text
    assert text.rstrip().endswith("KeyError: 'PAYMENT_GATEWAY_URL'")


def test_stop_ends_follow_streams(fresh_sandbox: Any, tmp_path: Path):
    import threading

    srv = fresh_sandbox()
    core, _, _ = apis(srv, tmp_path)
    web = pod_names(core, "shop", "web-")[0]
    resp = core.read_namespaced_pod_log(
        web, "shop", container="web", follow=True, _preload_content=False, _request_timeout=30
    )
    done = threading.Event()

    def drain() -> None:
        try:
            for _ in resp.stream(1024):
                pass
        except Exception:
            pass
        done.set()

    threading.Thread(target=drain, daemon=True).start()
    time.sleep(0.3)
    t0 = time.monotonic()
    srv.stop()
    assert done.wait(5) and time.monotonic() - t0 < 3
