"""Following a log (``follow=true``) returns what a plain read returns, then only new lines.

A follow of a crashed container (``timestamps=true&follow=true``) used to send the crash
traceback twice: once in the initial part and again when the stream noticed the instance had
ended. Checked through the official client and the real kubectl.
"""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Any

import pytest

from tests.sandbox.conftest import pod_names


def _crashed_pod(core: Any) -> str:
    return pod_names(core, "payments", "payment-api-")[0]


@pytest.mark.parametrize("timestamps", [True, False])
def test_follow_of_a_crashed_container_sends_the_trace_once(core: Any, timestamps: bool) -> None:
    pod = _crashed_pod(core)
    plain = core.read_namespaced_pod_log(pod, "payments", timestamps=timestamps)
    resp = core.read_namespaced_pod_log(
        pod,
        "payments",
        timestamps=timestamps,
        follow=True,
        _preload_content=False,
        _request_timeout=10,
    )
    followed = resp.data.decode()  # the stream ends: the container is not running
    assert followed.count("Traceback (most recent call last):") == 1
    assert followed.rstrip().endswith("KeyError: 'PAYMENT_GATEWAY_URL'")
    assert followed == plain


def test_kubectl_logs_follow_timestamps_shows_the_trace_once(
    sandbox: Any, sandbox_kubeconfig: Path, kubectl_bin: str, core: Any, tmp_path: Path
) -> None:
    import os

    pod = _crashed_pod(core)
    env = dict(os.environ, KUBECONFIG=str(sandbox_kubeconfig), HOME=str(tmp_path))
    proc = subprocess.run(
        [kubectl_bin, "--cache-dir", str(tmp_path / "cache"), "logs", "-f", "--timestamps"]
        + ["-n", "payments", pod],
        capture_output=True,
        text=True,
        timeout=20,
        env=env,
    )
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.splitlines()
    assert sum("Traceback (most recent call last):" in x for x in lines) == 1
    assert len(lines) == len(set(lines))  # no line twice (each has its own timestamp)
    assert lines[-1].endswith("KeyError: 'PAYMENT_GATEWAY_URL'")
