"""``opsconsole mcp --demo --listen 127.0.0.1:0``: streamable HTTP behind a bearer token,
driven by the official MCP SDK's client (and plain HTTP for what it refuses)."""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Any

import httpx
import mcp
import pytest

from tests.mcp.mcpkit import (
    clean_env,
    command,
    events,
    listening,
    replicas,
    server_env,
    session_records,
)

INIT = {
    "jsonrpc": "2.0",
    "id": 1,
    "method": "initialize",
    "params": {
        "protocolVersion": "2025-06-18",
        "capabilities": {},
        "clientInfo": {"name": "curl", "version": "0"},
    },
}
HEADERS = {"Accept": "application/json, text/event-stream", "Content-Type": "application/json"}


def test_requests_without_the_token_get_401(tmp_path: Path) -> None:
    with listening(tmp_path) as served:
        assert served.stderr.read_text().count(served.token) == 1  # printed once
        bare = httpx.post(served.url, json=INIT, headers=HEADERS, timeout=30)
        assert bare.status_code == 401
        assert bare.headers["www-authenticate"].startswith("Bearer")
        wrong = httpx.post(
            served.url,
            json=INIT,
            headers={**HEADERS, "Authorization": "Bearer not-the-token"},
            timeout=30,
        )
        assert wrong.status_code == 401
        good = httpx.post(
            served.url,
            json=INIT,
            headers={**HEADERS, "Authorization": f"Bearer {served.token}"},
            timeout=30,
        )
        assert good.status_code == 200


async def test_sdk_client_lists_and_calls_over_http(tmp_path: Path) -> None:
    with listening(tmp_path) as served:
        async with served.client() as client:
            names = [t.name for t in (await client.list_tools()).tools]
            assert "get_k8s_pods" in names and "delete_pod" not in names
            result = await client.call_tool("get_k8s_pods", {"namespace": "shop"})
            assert not result.is_error
            assert "pods in namespace shop" in result.content[0].text
        with pytest.raises(Exception):  # noqa: B017 - the SDK's error type for a 401
            async with served.client(token="wrong") as client:
                await client.list_tools()
    records = session_records(tmp_path)
    assert [e["tool"] for e in events(records, "tool_call_finished")] == ["get_k8s_pods"]
    assert events(records, "run_finished"), "the run is closed when the server stops"


@pytest.mark.parametrize("mode", ["legacy", "auto"])
async def test_http_write_mode_change_after_confirmation(tmp_path: Path, mode: str) -> None:
    asked: list[str] = []

    async def person(ctx: Any, params: Any) -> Any:
        asked.append(params.message)
        return mcp.types.ElicitResult(action="accept", content={"confirm": True})

    with listening(tmp_path, "--write") as served:
        before = replicas(served.sandbox, "shop", "cart")
        async with served.client(mode=mode, elicitation_callback=person) as client:
            result = await client.call_tool(
                "scale_deployment", {"namespace": "shop", "name": "cart", "replicas": before + 2}
            )
            assert not result.is_error, result.content[0].text
        assert replicas(served.sandbox, "shop", "cart") == before + 2
    assert len(asked) == 1 and "cart" in asked[0]


def test_listen_refuses_a_non_loopback_address(tmp_path: Path) -> None:
    env = {**clean_env(), **server_env(tmp_path)}
    done = subprocess.run(
        command("--demo", "--listen", "0.0.0.0:8765"),
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )
    assert done.returncode == 2
    assert "loopback address only" in done.stderr
    assert "Traceback" not in done.stderr
    bad = subprocess.run(
        command("--demo", "--listen", "nonsense"), capture_output=True, text=True, env=env
    )
    assert bad.returncode == 2 and "expected HOST:PORT" in bad.stderr
