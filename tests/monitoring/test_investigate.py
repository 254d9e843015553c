"""``opsconsole investigate`` through the real CLI process: alerts from the real Alertmanager
(the demo's own, or one given with ``--alertmanager`` beside a sandbox), one recorded session
per alert that ``opsconsole sessions`` lists with the alert's name; bad input is one clear
line and exit code 2."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.monitoring.conftest import firing, require_binaries, wait_for

ROOT = Path(__file__).resolve().parents[2]


def _env(tmp_path: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OPSCONSOLE_", "DEEPSEEK_"))}
    env.update(
        PYTHONPATH=str(ROOT),
        OPSCONSOLE_CONFIG_DIR=str(tmp_path / "config"),
        OPSCONSOLE_DATA_DIR=str(tmp_path / "data"),
        OPSCONSOLE_STATE_DIR=str(tmp_path / "state"),
        OPSCONSOLE_MONITORING__SANDBOX_STACK="false",
        NO_COLOR="1",
    )
    env.update(extra)
    return env


def _cli(tmp_path: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "opsconsole", *args],
        capture_output=True,
        text=True,
        timeout=600,
        env=_env(tmp_path, **env),
        cwd=tmp_path,
    )


def _investigations(out: str) -> list[dict[str, Any]]:
    events = [json.loads(line) for line in out.splitlines() if line.strip()]
    return [e for e in events if e.get("type") == "investigation"]


def test_demo_all_firing_investigates_each_alert_and_records_it(tmp_path: Path) -> None:
    require_binaries()
    done = _cli(
        tmp_path,
        "investigate",
        "--demo",
        "--offline",
        "--all-firing",
        "--limit",
        "5",
        "--json",
        OPSCONSOLE_MONITORING__SANDBOX_STACK="true",
    )
    assert done.returncode == 0, done.stderr
    assert "investigating the first 5 (--limit)" in done.stdout
    runs = _investigations(done.stdout)
    assert len(runs) == 5
    # the most severe first, then by name and target (ml/model-warmer, payments/payment-api,
    # shop/checkout, shop/image-resizer come first of the demo's mismatched deployments)
    assert [r["alert"] for r in runs] == ["HTTPHighErrorRate"] + [
        "KubeDeploymentReplicasMismatch"
    ] * 4
    targets = [r["target"] for r in runs[1:]]
    assert targets == sorted(targets)
    assert all(r["outcome"] == "answered" and r["answer"] for r in runs)
    sessions = [Path(r["session"]) for r in runs]
    assert len(set(sessions)) == len(runs) and all(p.is_file() for p in sessions)
    oom = next(r for r in runs if r["target"] == "shop/image-resizer")
    assert "OOMKilled" in oom["answer"]
    crash = next(r for r in runs if r["target"] == "payments/payment-api")
    assert "CrashLoopBackOff" in crash["answer"]
    # no empty session beside them: each file is one investigation
    assert len(list((tmp_path / "data" / "sessions").glob("*.jsonl"))) == len(runs)
    listed = _cli(tmp_path, "sessions")
    assert listed.returncode == 0, listed.stderr
    assert listed.stdout.count("Alert KubeDeployment") == 4


@pytest.fixture(scope="module")
def beside(monitoring_stack: Any, tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """A sandbox with its real Alertmanager, as a cluster and an Alertmanager URL."""
    kc = monitoring_stack.sandbox.write_kubeconfig(tmp_path_factory.mktemp("kc") / "kubeconfig")
    url = monitoring_stack.alertmanager_url
    wait_for(
        lambda: any(a["labels"]["alertname"] == "HTTPHighErrorRate" for a in firing(url)),
        "HTTPHighErrorRate firing",
        timeout=180,
    )
    return {"kubeconfig": str(kc), "url": url}


def test_alert_from_a_given_alertmanager(beside: dict[str, str], tmp_path: Path) -> None:
    done = _cli(
        tmp_path,
        "investigate",
        "--kubeconfig",
        beside["kubeconfig"],
        "--alertmanager",
        beside["url"],
        "--alert",
        "HTTPHighErrorRate",
        "--offline",
    )
    assert done.returncode == 0, done.stderr
    assert "investigation 1/1: HTTPHighErrorRate on shop/web" in done.stdout
    assert "Task: Alert HTTPHighErrorRate (critical) firing on shop/web" in done.stdout
    assert "Answer:" in done.stdout and "recorded as " in done.stdout
    (session,) = (tmp_path / "data" / "sessions").glob("*.jsonl")
    assert "HTTPHighErrorRate" in session.read_text()


def test_no_such_alert_firing(beside: dict[str, str], tmp_path: Path) -> None:
    done = _cli(
        tmp_path,
        "investigate",
        "--kubeconfig",
        beside["kubeconfig"],
        "--alertmanager",
        beside["url"],
        "--alert",
        "NoSuchAlert",
        "--offline",
    )
    assert done.returncode == 2
    assert "no alert named NoSuchAlert is firing" in done.stderr
    assert "Traceback" not in done.stderr + done.stdout


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--alert", "x y"], "'x y' is not an alert name"),
        (["--alert", "X", "--alertmanager", "ftp://x"], "expected an http(s):// URL"),
        (["--alert", "X"], "no Alertmanager to read alerts from"),
        (["--all-firing", "--alert", "X"], "not allowed with argument"),
        ([], "one of the arguments --alert --all-firing is required"),
    ],
)
def test_bad_input_is_one_clear_line(
    beside: dict[str, str], tmp_path: Path, args: list[str], message: str
) -> None:
    done = _cli(tmp_path, "investigate", "--kubeconfig", beside["kubeconfig"], *args)
    assert done.returncode == 2, done.stdout
    assert message in done.stderr and "Traceback" not in done.stderr


def test_unreachable_alertmanager(beside: dict[str, str], tmp_path: Path) -> None:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    done = _cli(
        tmp_path,
        "investigate",
        "--kubeconfig",
        beside["kubeconfig"],
        "--alertmanager",
        f"http://127.0.0.1:{port}",
        "--all-firing",
    )
    assert done.returncode == 1
    assert f"Alertmanager unreachable at http://127.0.0.1:{port}" in done.stderr
    assert "Traceback" not in done.stderr
