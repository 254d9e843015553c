"""``opsconsole ask --write --dry-run``: headless, each change the model proposes is dry-run on
the server and printed with its diff and blast radius; nothing is executed (the cluster is
checked afterwards over HTTP)."""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from opsconsole import ask
from opsconsole.config import Settings
from opsconsole.k8s.discovery import raw_get
from tests.fakes.openai_server import ScriptedOpenAIServer, reply, tool_call
from tests.k8s.conftest import cluster_for

ROOT = Path(__file__).resolve().parents[2]
KEY_ENV = "OPSCONSOLE_TEST_ASK_KEY"
SET_IMAGE = {"name": "cart", "namespace": "shop", "container": "cart", "image": "shop/cart:5.0"}
SCALE = {"kind": "deploy", "name": "web", "namespace": "shop", "replicas": 6}


def _args(task: str, **kw: Any) -> argparse.Namespace:
    base = {
        "task": task, "demo": False, "json": False, "model": None, "base_url": None,
        "context": None, "namespace": None, "offline": False, "kubeconfig": None,
        "write": True, "dry_run": True, "config": None,
    }  # fmt: skip
    base.update(kw)
    return argparse.Namespace(**base)


def _settings(base_url: str) -> Settings:
    return Settings.from_data(
        {
            "model": {
                "base_url": base_url,
                "name": "fake-model",
                "api_key_env": KEY_ENV,
                "timeout": {"connect": 5, "read": 10, "total": 20},
            },
            "agent": {"language": "en"},
            "sessions": {"record": False},
        }
    )


def test_ask_dry_run_prints_diffs_and_executes_nothing(
    fresh_sandbox: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys
):
    monkeypatch.setenv(KEY_ENV, "test-key")
    server = fresh_sandbox(scenario="demo", speed=1.0)
    kubeconfig = Path(server.write_kubeconfig(tmp_path / "kubeconfig"))
    c = cluster_for(server, tmp_path)
    before = raw_get(c, "/apis/apps/v1/namespaces/shop/deployments")["items"]
    with ScriptedOpenAIServer() as srv:
        srv.push(
            reply(
                "Rolling out the new image and more replicas.",
                tool_calls=[
                    tool_call("set_image", SET_IMAGE, id="call_image"),
                    tool_call("scale_resource", SCALE, id="call_scale"),
                ],
            ),
            reply("Both changes would apply cleanly."),
        )
        code = ask.run(_args("ship cart 5.0", kubeconfig=str(kubeconfig)), _settings(srv.base_url))
        out, err = capsys.readouterr()
        assert code == 0, err
        assert "dry run: each change the model proposes is dry-run" in out
        assert "Approval needed: set image deployment/cart in shop" in out
        assert "-        image: registry.example.com/shop/cart:4.2.0" in out
        assert "+        image: shop/cart:5.0" in out
        assert "blast radius: replaces 2 pods, rolling, maxUnavailable 25%, maxSurge 25%" in out
        # the second call of the turn is previewed too
        assert "blast radius: 3 -> 6 pods (starts 3)" in out
        assert out.count("-> not executed (--dry-run)") == 2
        tool_msgs = [m for m in srv.requests[1]["messages"] if m["role"] == "tool"]
        said = [json.loads(m["content"]) for m in tool_msgs]
        assert [s["status"] for s in said] == ["refused", "refused"]
        assert "replaces 2 pods" in said[0]["error"]
    after = raw_get(c, "/apis/apps/v1/namespaces/shop/deployments")["items"]
    assert [d["metadata"]["resourceVersion"] for d in after] == [
        d["metadata"]["resourceVersion"] for d in before
    ]
    c.close()


def test_dry_run_without_write_is_a_usage_error(tmp_path: Path, monkeypatch, capsys):
    monkeypatch.setenv(KEY_ENV, "test-key")
    env = {
        **os.environ,
        KEY_ENV: "test-key",
        "OPSCONSOLE_MODEL__API_KEY_ENV": KEY_ENV,
        "OPSCONSOLE_CONFIG_DIR": str(tmp_path / "cfg"),
        "OPSCONSOLE_DATA_DIR": str(tmp_path / "data"),
        "OPSCONSOLE_STATE_DIR": str(tmp_path / "state"),
        "NO_COLOR": "1",
    }
    proc = subprocess.run(
        [sys.executable, "-m", "opsconsole", "ask", "--demo", "--offline", "--dry-run", "x?"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 2, proc.stderr
    assert "use it with --write" in proc.stderr and "Traceback" not in proc.stderr
