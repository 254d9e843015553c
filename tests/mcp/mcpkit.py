"""Helpers for the MCP tests: ``opsconsole mcp`` as a real subprocess (this checkout on
PYTHONPATH), the sandbox it started (read with the official kubernetes client), its session
files, and a wait for a condition."""

from __future__ import annotations

import contextlib
import json
import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

ROOT = Path(__file__).resolve().parents[2]
T = TypeVar("T")
WAIT = 90.0


def server_env(sessions: Path) -> dict[str, str]:
    """What ``opsconsole mcp`` needs in its environment: this checkout, a sessions dir, no
    config file of the machine's user."""
    dirs = {f"OPSCONSOLE_{k}_DIR": str(sessions / k.lower()) for k in ("CONFIG", "STATE")}
    return {
        "PYTHONPATH": str(ROOT),
        "OPSCONSOLE_SESSIONS__DIR": str(sessions),
        **dirs,
        "NO_COLOR": "1",
    }


def command(*flags: str) -> list[str]:
    return [sys.executable, "-m", "opsconsole", "mcp", *flags]


def wait_for(what: str, probe: Callable[[], T | None], timeout: float = WAIT) -> T:
    """Poll ``probe`` until it returns something (no sleep as synchronisation: a deadline)."""
    deadline = time.monotonic() + timeout
    while True:
        value = probe()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.05)


def sandbox_url(stderr_text: str) -> str | None:
    match = re.search(r"built-in sandbox cluster .* at (http://127\.0\.0\.1:\d+)", stderr_text)
    return match.group(1) if match else None


def replicas(url: str, namespace: str, name: str) -> int:
    """The deployment's spec.replicas, read with the official kubernetes client."""
    from kubernetes import client

    from opsconsole.sandbox.server import DEFAULT_TOKEN

    config = client.Configuration(host=url)
    config.api_key = {"authorization": f"Bearer {DEFAULT_TOKEN}"}
    with client.ApiClient(config) as api:
        scale = client.AppsV1Api(api).read_namespaced_deployment_scale(name, namespace)
        return int(scale.spec.replicas)


def session_records(sessions: Path) -> list[dict[str, Any]]:
    files = sorted(sessions.glob("*.jsonl"))
    assert files, f"no session file in {sessions}"
    return [json.loads(line) for f in files for line in f.read_text().splitlines() if line]


def events(records: list[dict[str, Any]], kind: str) -> list[dict[str, Any]]:
    return [r["event"] for r in records if r["type"] == "event" and r["event"]["type"] == kind]


def clean_env() -> dict[str, str]:
    """os.environ without model keys (a test must not reach a real model)."""
    return {k: v for k, v in os.environ.items() if not k.endswith("_API_KEY")}


@dataclass
class Served:
    proc: subprocess.Popen[bytes]
    url: str
    token: str
    sandbox: str
    stderr: Path

    def client(self, token: str | None = None, **kwargs: Any) -> Any:
        """The official SDK's client on the URL, sending ``token`` (default: the right one)."""
        import httpx2
        import mcp
        from mcp.client.streamable_http import streamable_http_client

        http = httpx2.AsyncClient(headers={"Authorization": f"Bearer {token or self.token}"})
        return mcp.Client(streamable_http_client(self.url, http_client=http), **kwargs)


@contextlib.contextmanager
def listening(tmp: Path, *flags: str) -> Iterator[Served]:
    """``opsconsole mcp --demo --listen 127.0.0.1:0 FLAGS`` as a subprocess until the end."""
    stderr = tmp / "stderr.txt"
    env = {**clean_env(), **server_env(tmp)}
    with stderr.open("wb") as err:
        proc = subprocess.Popen(
            command("--demo", "--listen", "127.0.0.1:0", *flags),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=err,
            env=env,
        )
    try:

        def ready() -> tuple[str, str] | None:
            text = stderr.read_text()
            if proc.poll() is not None:
                raise AssertionError(f"opsconsole mcp exited: {text}")
            url = re.search(r"listening on (http://\S+/mcp)", text)
            token = re.search(r"bearer token .*: (\S+)", text)
            return (url.group(1), token.group(1)) if url and token else None

        url, token = wait_for("opsconsole mcp to listen", ready)
        sandbox = sandbox_url(stderr.read_text())
        assert sandbox
        yield Served(proc, url, token, sandbox, stderr)
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGINT)
            try:
                proc.wait(timeout=60)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
