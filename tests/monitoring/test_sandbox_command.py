"""``opsconsole sandbox --monitoring``: a real Prometheus and Alertmanager beside the sandbox,
their URLs printed, both stopped with it."""

from __future__ import annotations

import argparse
import io
import json
import re
import threading
import urllib.request
from pathlib import Path

import pytest

from opsconsole.sandbox.main import run
from tests.monitoring.conftest import require_binaries


def test_sandbox_with_monitoring_prints_and_stops_them(tmp_path: Path) -> None:
    require_binaries()
    args = argparse.Namespace(
        host="127.0.0.1",
        port=0,
        scenario="demo",
        pods=None,
        kubeconfig=str(tmp_path / "kc"),
        speed=1.0,
        monitoring=True,
    )
    out = io.StringIO()
    ready, stop = threading.Event(), threading.Event()
    result: list[int] = []
    t = threading.Thread(target=lambda: result.append(run(args, out=out, ready=ready, stop=stop)))
    t.start()
    try:
        assert ready.wait(300), out.getvalue()
        text = out.getvalue()
        prom = re.search(r"prometheus: (http://\S+)", text)
        am = re.search(r"alertmanager: (http://\S+)", text)
        assert prom and am, text
        with urllib.request.urlopen(prom.group(1) + "/api/v1/query?query=up", timeout=30) as r:
            assert json.load(r)["status"] == "success"
    finally:
        stop.set()
        t.join(120)
    assert result == [0]
    with pytest.raises(OSError):
        urllib.request.urlopen(prom.group(1) + "/-/ready", timeout=5)
