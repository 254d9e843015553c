"""Helpers for the MCP tests: ``opsconsole mcp`` as a real subprocess (this checkout on
PYTHONPATH), the sandbox it started (read with the official kubernetes client), its session
files, and a wait for a condition."""

from __future__ import annotations

import json
import os
import re
import sys
import time
from collections.abc import Callable
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
