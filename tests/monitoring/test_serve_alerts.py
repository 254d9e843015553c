"""``opsconsole serve-alerts`` as a real process: the real Alertmanager's webhooks start
recorded investigations (one per alert group); malformed bodies are 400 and start nothing; a
flood of 1,000 webhooks loses none and merges the duplicates."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.monitoring.conftest import require_binaries, wait_for

ROOT = Path(__file__).resolve().parents[2]
#: distinct alert groups in the flood of 1,000 webhooks
GROUPS = 3


class Served:
    """A running ``serve-alerts`` process and the JSON lines it printed."""

    def __init__(self, proc: subprocess.Popen[str], data: Path) -> None:
        self.proc, self.data = proc, data
        self.lines: list[dict[str, Any]] = []
        self.url = ""
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for raw in self.proc.stdout:
            if raw.startswith("{"):
                self.lines.append(json.loads(raw))

    def of(self, kind: str) -> list[dict[str, Any]]:
        return [line for line in self.lines if line["type"] == kind]

    def status(self) -> dict[str, Any]:
        base = self.url.rsplit("/alerts", 1)[0]
        body: dict[str, Any] = httpx.get(base + "/status", timeout=30).json()
        return body

    def sessions(self) -> list[Path]:
        return sorted((self.data / "sessions").glob("*.jsonl"))


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _serve(tmp: Path, kubeconfig: Path, port: int, *extra: str) -> Served:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OPSCONSOLE_", "DEEPSEEK_"))}
    env.update(
        PYTHONPATH=str(ROOT),
        OPSCONSOLE_CONFIG_DIR=str(tmp / "config"),
        OPSCONSOLE_DATA_DIR=str(tmp / "data"),
        OPSCONSOLE_STATE_DIR=str(tmp / "state"),
    )
    proc = subprocess.Popen(
        [sys.executable, "-m", "opsconsole", "serve-alerts", "--listen", f"127.0.0.1:{port}"]
        + ["--kubeconfig", str(kubeconfig), "--offline", "--json", *extra],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    served = Served(proc, tmp / "data")
    (listening,) = wait_for(lambda: served.of("listening"), "serve-alerts listening", 120)
    served.url = listening["url"]
    return served


def _stop(served: Served) -> None:
    served.proc.terminate()
    try:
        served.proc.wait(timeout=60)
    except subprocess.TimeoutExpired:
        served.proc.kill()
        served.proc.wait(timeout=30)


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    from opsconsole.sandbox import SandboxServer

    srv = SandboxServer(scenario="demo").start()
    srv.kubeconfig_path = srv.write_kubeconfig(tmp_path_factory.mktemp("kc") / "kubeconfig")
    yield srv
    srv.stop()


def test_the_real_alertmanager_starts_recorded_investigations(cluster: Any, tmp_path: Path) -> None:
    require_binaries()
    from opsconsole.sandbox.monitoring_stack import MonitoringStack

    port = _free_port()
    served = _serve(tmp_path, cluster.kubeconfig_path, port)
    stack = MonitoringStack(cluster, webhook_url=f"http://127.0.0.1:{port}/alerts").start()
    try:
        assert stack.wait_ready(300), stack.error

        def crashloop_done() -> list[dict[str, Any]]:
            return [
                line for line in served.of("investigated") if line["alert"] == "KubePodCrashLooping"
            ]

        done = wait_for(crashloop_done, "an investigation of KubePodCrashLooping", 240)
        assert all(d["outcome"] == "answered" for d in done)
        session = Path(done[0]["session"])
        assert session.is_file() and "KubePodCrashLooping" in session.read_text()
        # one investigation per group: Alertmanager's repeated notifications start no more
        keys = [q["group"] for q in served.of("queued")]
        assert len(keys) == len(set(keys))
    finally:
        stack.stop()
        _stop(served)
    assert served.proc.returncode is not None


@pytest.fixture(scope="module")
def flood_server(cluster: Any, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    served = _serve(
        tmp_path_factory.mktemp("flood"),
        cluster.kubeconfig_path,
        0,
        "--queue",
        "2",
        "--concurrency",
        "1",
    )
    yield served
    _stop(served)


def _payload(key: str, pod: str, namespace: str = "payments") -> dict[str, Any]:
    labels = {"alertname": "KubePodCrashLooping", "namespace": namespace, "pod": pod}
    return {
        "version": "4",
        "groupKey": key,
        "status": "firing",
        "receiver": "opsconsole",
        "groupLabels": {"alertname": "KubePodCrashLooping"},
        "commonLabels": labels,
        "commonAnnotations": {},
        "externalURL": "http://alertmanager",
        "alerts": [
            {
                "status": "firing",
                "labels": {**labels, "severity": "warning"},
                "annotations": {"summary": "Pod is crash looping."},
                "startsAt": "2026-01-01T00:00:00Z",
                "fingerprint": f"fp-{pod}",
            }
        ],
    }


def test_malformed_webhooks_are_400_and_start_nothing(flood_server: Served) -> None:
    before = flood_server.status()["groups"]
    bad = [
        b"not json",
        b"[1, 2]",
        json.dumps({"status": "firing", "alerts": []}).encode(),
        json.dumps({"groupKey": "k", "status": "firing", "alerts": [{"x": 1}]}).encode(),
        json.dumps({"groupKey": "k", "status": "burning", "alerts": []}).encode(),
    ]
    for body in bad:
        r = httpx.post(flood_server.url, content=body, timeout=30)
        assert r.status_code == 400, body
        assert r.json()["status"] == "rejected" and r.json()["error"]
    after = flood_server.status()
    assert after["groups"] == before and after["requests"]["rejected"] >= len(bad)


def test_a_flood_of_webhooks_loses_none_and_merges_duplicates(flood_server: Served) -> None:
    pods = [f"payment-api-flood-{i}" for i in range(GROUPS)]
    sent = 0
    with httpx.Client(timeout=30) as client:
        for i in range(1000):
            body = _payload(f"flood/{i % GROUPS}", pods[i % GROUPS])
            while True:  # as Alertmanager does: a 503 is sent again
                r = client.post(flood_server.url, json=body)
                if r.status_code != 503:
                    break
            assert r.status_code in (200, 202), r.text
            sent += 1
    assert sent == 1000

    def all_done() -> dict[str, Any] | None:
        st = flood_server.status()
        done = st["groups"]["done"] >= GROUPS and not st["groups"]["queued"]
        return st if done and not st["groups"]["running"] else None

    st = wait_for(all_done, f"the {GROUPS} flood groups investigated", 300)
    assert st["requests"]["queued"] == GROUPS
    assert st["requests"]["merged"] + st["requests"]["duplicate"] == 1000 - GROUPS
    runs = [line for line in flood_server.of("investigated") if "flood" in line["group"]]
    assert sorted(line["group"] for line in runs) == [f"flood/{i}" for i in range(GROUPS)]
    assert len(flood_server.sessions()) == GROUPS


def test_bad_listen_address_is_a_usage_error(tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "opsconsole", "serve-alerts", "--listen", "0.0.0.0:9"],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    assert done.returncode == 2
    assert "opsconsole serve-alerts listens on a loopback address only" in done.stderr
