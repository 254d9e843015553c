"""Pod watch (SYNC, events, 410 relist, cancel) and log reads/follow against the sandbox."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

import pytest

from opsconsole.errors import NotFound
from opsconsole.k8s import queries as q
from opsconsole.k8s.logs import follow_logs, read_logs
from opsconsole.k8s.watch import watch_pods
from tests.k8s.conftest import cluster_for, pod_of
from tests.sandbox.conftest import returns_within, wait_for


def next_event(it: Any, want: set[str], timeout: float = 30.0) -> tuple[str, Any]:
    result: list[Any] = []

    def pull() -> None:
        for typ, obj in it:
            if typ in want:
                result.append((typ, obj))
                return

    t = threading.Thread(target=pull, daemon=True)
    t.start()
    t.join(timeout)
    assert result, f"no {want} event within {timeout}s"
    return result[0]


def test_watch_sync_then_changes(fresh_sandbox: Any, tmp_path: Path):
    srv = fresh_sandbox(scenario="demo", speed=20.0)
    c = cluster_for(srv, tmp_path, write_mode=True)
    stop = threading.Event()
    w = watch_pods(c, "shop", stop)
    typ, rows = next(w)
    assert typ == "SYNC" and {r.namespace for r in rows} == {"shop"}
    victim = sorted(r.name for r in rows if r.name.startswith("web-"))[0]
    q.delete_pod(c, "shop", victim)
    typ, row = next_event(w, {"MODIFIED", "DELETED"})
    assert row.name == victim or row.namespace == "shop"
    stop.set()
    returns_within(20, list, w)  # the stop ends the iteration (the server would go on 300 s)


def test_watch_forbidden_falls_back_to_listing_again(fresh_sandbox: Any, tmp_path: Path):
    """RBAC that grants list but not watch (common for read-only roles): the watcher says so
    once, then lists again every refresh_seconds, and a change shows up in the next list."""
    srv = fresh_sandbox(scenario="demo", speed=20.0)
    srv.faults.forbid("pods", verbs=["watch"])
    c = cluster_for(srv, tmp_path, write_mode=True)
    stop = threading.Event()
    w = watch_pods(c, "shop", stop, refresh_seconds=0.2)
    typ, rows = next(w)
    assert typ == "SYNC" and {r.namespace for r in rows} == {"shop"}
    typ, note = next(w)
    assert typ == "ERROR" and "refreshing the list every 0.2 s" in str(note)
    assert "watching pods is not allowed" in str(note) and w.polling
    victim = sorted(r.name for r in rows if r.name.startswith("web-"))[0]
    q.delete_pod(c, "shop", victim)

    def gone() -> bool:
        typ, rows = next_event(w, {"SYNC"})
        return all(r.name != victim or r.deleting for r in rows)

    wait_for(gone, 60)  # the deleted pod is gone from a later list
    assert w.relists >= 2 and w.watches == 0
    stop.set()
    returns_within(20, list, w)


@pytest.mark.parametrize("as_http", [False, True])
def test_watch_relists_on_410(fresh_sandbox: Any, tmp_path: Path, as_http: bool):
    srv = fresh_sandbox(scenario="demo", speed=20.0)
    srv.faults.gone_as_http = as_http
    c = cluster_for(srv, tmp_path, write_mode=True)
    stop = threading.Event()
    # a selector that matches nothing: our resourceVersion stays at the list's while the
    # cluster moves on, so after compaction it is too old
    w = watch_pods(c, "shop", stop, label_selector="app=nothing-here", server_timeout=1)
    typ, rows = next(w)
    assert typ == "SYNC" and rows == [] and w.relists == 1
    c.call(
        "core",
        "create_namespaced_config_map",
        "shop",
        {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "bump"}},
    )
    srv.compact()
    typ, rows = next_event(w, {"SYNC"})
    assert w.relists == 2
    assert int(w.resource_version) > 0
    # no tight loop: a handful of watch requests, not hundreds
    assert w.watches < 10
    stop.set()
    w.close()


def test_watch_cancel_returns_promptly(cluster: Any):
    stop = threading.Event()
    w = watch_pods(cluster, "kube-system", stop)
    assert next(w)[0] == "SYNC"
    done = threading.Event()

    def consume() -> None:
        for _ in w:
            pass
        done.set()

    threading.Thread(target=consume, daemon=True).start()
    wait_for(lambda: w.watches >= 1)  # the consumer is in the watch (the server's: 300 s)
    stop.set()
    assert done.wait(20)


def test_read_logs_tail_previous_and_404(cluster: Any):
    name = pod_of(cluster, "payments", "payment-api-")
    got = read_logs(cluster, "payments", name, tail_lines=5)
    assert len(got.text.splitlines()) <= 5
    prev = read_logs(cluster, "payments", name, previous=True, tail_lines=20)
    assert "KeyError: 'PAYMENT_GATEWAY_URL'" in prev.text and prev.previous
    with pytest.raises(NotFound):
        read_logs(cluster, "payments", "ghost-0")


def test_read_logs_byte_limit_on_the_server(cluster: Any):
    name = pod_of(cluster, "monitoring", "prometheus-")
    full = read_logs(cluster, "monitoring", name, tail_lines=None, limit_bytes=None)
    limited = read_logs(cluster, "monitoring", name, tail_lines=None, limit_bytes=500)
    assert full.bytes_read > 500 and not full.server_limited
    assert limited.bytes_read == 500 and limited.server_limited


def test_follow_yields_new_lines_and_cancels(fresh_sandbox: Any, tmp_path: Path):
    srv = fresh_sandbox(scenario="demo", speed=50.0)
    c = cluster_for(srv, tmp_path)
    name = pod_of(c, "shop", "web-")
    stop = threading.Event()
    f = follow_logs(c, "shop", name, container="web", tail_lines=2, stop_event=stop)
    batches: list[list[str]] = []
    done = threading.Event()

    def consume() -> None:
        for batch in f:
            batches.append(batch)
        done.set()

    threading.Thread(target=consume, daemon=True).start()
    wait_for(lambda: sum(len(b) for b in batches) >= 4)  # the tail, then new lines
    stop.set()
    assert done.wait(20)  # the log goes on growing: only the stop ends the follow


def test_follow_close_from_another_thread(cluster: Any):
    name = pod_of(cluster, "kube-system", "coredns-")
    f = follow_logs(cluster, "kube-system", name, tail_lines=1)
    first = next(f)
    assert first
    threading.Timer(0.2, f.close).start()  # during the iteration or before it: both end it
    returns_within(20, list, f)  # coredns keeps logging: only the close ends the follow


def test_follow_reconnects_across_a_crash(fresh_sandbox: Any, tmp_path: Path):
    srv = fresh_sandbox(scenario="demo", speed=200.0)
    c = cluster_for(srv, tmp_path)
    name = pod_of(c, "payments", "payment-api-")
    stop = threading.Event()
    f = follow_logs(c, "payments", name, tail_lines=5, stop_event=stop)
    lines: list[str] = []

    def consume() -> None:
        for batch in f:
            lines.extend(batch)

    t = threading.Thread(target=consume, daemon=True)
    t.start()
    wait_for(lambda: f.reconnects >= 1, timeout=60)  # the stream ended with the crash
    stop.set()
    t.join(20)
    assert f.reconnects >= 1  # we came back politely
    assert not t.is_alive()
