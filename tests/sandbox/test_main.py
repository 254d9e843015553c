"""The ``opsconsole sandbox`` command (``run(args)``): output, clean stop, bad input."""

from __future__ import annotations

import argparse
import io
import os
import signal
import socket
import subprocess
import sys
import threading
from pathlib import Path

from opsconsole.sandbox import UnknownScenario, list_scenarios
from opsconsole.sandbox.main import run


def _args(**kw: object) -> argparse.Namespace:
    base = {
        "host": "127.0.0.1",
        "port": 0,
        "scenario": "demo",
        "pods": None,
        "kubeconfig": None,
        "speed": 1.0,
    }
    base.update(kw)
    return argparse.Namespace(**base)


def test_list_scenarios():
    assert {"demo", "clean"} <= set(list_scenarios())


def test_unknown_scenario_lists_known_ones():
    out = io.StringIO()
    assert run(_args(scenario="nope"), out=out) == 2
    text = out.getvalue()
    assert "unknown scenario 'nope'" in text and "demo" in text and "clean" in text
    assert "Traceback" not in text
    err = UnknownScenario("x", ["a", "b"])
    assert "known scenarios: a, b" in str(err) and err.exit_code == 2


def test_bad_pods_and_speed():
    out = io.StringIO()
    assert run(_args(pods=0), out=out) == 2
    assert run(_args(pods=10_001), out=out) == 2
    assert run(_args(speed=-1.0), out=out) == 2
    assert "Traceback" not in out.getvalue()


def test_port_in_use():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen()
        port = s.getsockname()[1]
        out = io.StringIO()
        assert run(_args(port=port), out=out) == 1
        assert f"port {port} on 127.0.0.1 is already in use" in out.getvalue()
        assert "Traceback" not in out.getvalue()


def test_runs_until_stopped(tmp_path: Path):
    out = io.StringIO()
    ready, stop = threading.Event(), threading.Event()
    kc = tmp_path / "kc.yaml"
    result: list[int] = []
    t = threading.Thread(
        target=lambda: result.append(
            run(_args(kubeconfig=str(kc), scenario="clean"), out=out, ready=ready, stop=stop)
        )
    )
    t.start()
    assert ready.wait(10)
    text = out.getvalue()
    assert "serving at http://127.0.0.1:" in text
    assert f"export KUBECONFIG={kc}" in text
    assert kc.stat().st_mode & 0o777 == 0o600
    from kubernetes import client

    from tests.sandbox.conftest import api_client

    assert len(client.CoreV1Api(api_client(kc)).list_pod_for_all_namespaces().items) == 8
    stop.set()
    t.join(5)
    assert result == [0]


def test_default_kubeconfig_in_state_dir_and_sigterm(tmp_path: Path):
    env = dict(os.environ, OPSCONSOLE_STATE_DIR=str(tmp_path / "state"))
    root = Path(__file__).resolve().parents[2]
    proc = subprocess.Popen(
        [sys.executable, "-m", "opsconsole.sandbox", "--scenario", "clean"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
        cwd=root,
    )
    assert proc.stdout is not None
    lines = [proc.stdout.readline() for _ in range(3)]
    kc = tmp_path / "state" / "sandbox-kubeconfig.yaml"
    assert lines[2].strip() == f"export KUBECONFIG={kc}"
    assert kc.exists()
    proc.send_signal(signal.SIGTERM)
    out, err = proc.communicate(timeout=10)
    assert proc.returncode == 0 and "Traceback" not in err
    assert "sandbox stopped" in out


def test_module_unknown_scenario_exit_code(tmp_path: Path):
    root = Path(__file__).resolve().parents[2]
    p = subprocess.run(
        [sys.executable, "-m", "opsconsole.sandbox", "--scenario", "zzz"],
        capture_output=True,
        text=True,
        cwd=root,
        timeout=30,
    )
    assert p.returncode == 2 and "known scenarios" in p.stderr and "Traceback" not in p.stderr
