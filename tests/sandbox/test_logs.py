"""Pod logs: bounded reads, previous, errors with real messages, and follow streams."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

from tests.sandbox.conftest import apis, pod_names, wait_for


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
    core, _, _ = apis(fresh_sandbox(speed=20), tmp_path)  # nginx: a line every 0.1 s
    web = pod_names(core, "shop", "web-")[0]
    before = core.read_namespaced_pod_log(web, "shop", container="web").splitlines()
    after = wait_for(
        lambda: (
            (lines := core.read_namespaced_pod_log(web, "shop", container="web").splitlines())
            and len(lines) > len(before)
            and lines
        )
    )
    assert after[: len(before)] == before  # new lines are appended, the old ones stay


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
        web,
        "shop",
        container="web",
        follow=True,
        tail_lines=1,
        _preload_content=False,
        _request_timeout=30,  # between chunks: a stream that stops fails instead of hanging
    )
    got: list[str] = []
    for chunk in resp.stream(1024):
        got += [x for x in chunk.decode().splitlines() if x]
        if len(got) >= 6:
            break
    resp.release_conn()
    assert len(got) >= 6
    stamps = [re.search(r"\[(.*?)\]", x).group(1) for x in got]  # type: ignore[union-attr]
    assert stamps == sorted(stamps)


def test_follow_of_crashing_container_ends_with_the_trace(fresh_sandbox: Any, tmp_path: Path):
    from kubernetes import watch

    srv = fresh_sandbox(speed=200)  # runs 10 ms, then backs off 1.5 s
    core, _, _ = apis(srv, tmp_path)
    pod = pod_names(core, "payments", "payment-api-")[0]
    # a watch sees the short Running state that polling can miss on a loaded machine
    w = watch.Watch()
    for e in w.stream(
        core.list_namespaced_pod,
        "payments",
        field_selector=f"metadata.name={pod}",
        timeout_seconds=60,
    ):
        if e["object"].status.container_statuses[0].state.running is not None:
            w.stop()
            break
    else:
        pytest.fail("the container never ran")
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
    streaming, done = threading.Event(), threading.Event()

    def drain() -> None:
        try:
            for _ in resp.stream(1024):
                streaming.set()
        except Exception:
            pass
        done.set()

    threading.Thread(target=drain, daemon=True).start()
    assert streaming.wait(30)  # the stream is open: the log so far has arrived
    srv.stop()
    # the log keeps growing (a line every 2 s): only stop() can end the stream
    assert done.wait(20)
