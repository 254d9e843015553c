"""``opsconsole mcp --demo`` over real stdio, driven by the official MCP SDK's client.

Both protocol eras: ``mode="legacy"`` (the 2025 initialize handshake: the server sends
``elicitation/create`` during the call) and ``mode="auto"`` (2026-07-28: the call answers
``input_required`` and the SDK retries it with the person's answer). The sandbox the server
started is read back with the official kubernetes client.
"""

from __future__ import annotations

import contextlib
import sys
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import mcp
import pytest
from mcp.client.stdio import StdioServerParameters

from tests.mcp.mcpkit import (
    events,
    replicas,
    sandbox_url,
    server_env,
    session_records,
    wait_for,
)


class Person:
    """The person at the client: answers each elicitation from a script, records them."""

    def __init__(self, *answers: Any) -> None:
        self.answers = list(answers)
        self.messages: list[str] = []

    async def __call__(self, ctx: Any, params: Any) -> Any:
        self.messages.append(params.message)
        answer = self.answers.pop(0) if self.answers else "decline"
        if answer == "accept":
            return mcp.types.ElicitResult(action="accept", content={"confirm": True})
        if answer == "accept-false":
            return mcp.types.ElicitResult(action="accept", content={"confirm": False})
        return mcp.types.ElicitResult(action=answer)


@contextlib.asynccontextmanager
async def served(
    tmp: Path,
    *flags: str,
    mode: str = "legacy",
    person: Person | None = None,
    env: dict[str, str] | None = None,
) -> AsyncIterator[tuple[mcp.Client, str]]:
    """A client connected to ``opsconsole mcp --demo FLAGS``; yields it and the sandbox URL."""
    params = StdioServerParameters(
        command=sys.executable,
        args=["-m", "opsconsole", "mcp", "--demo", *flags],
        env={**server_env(tmp), **(env or {})},
    )
    stderr = tmp / "stderr.txt"
    with stderr.open("w+") as errlog:
        from mcp.client.stdio import stdio_client

        client = mcp.Client(
            stdio_client(params, errlog=errlog),
            mode=mode,
            elicitation_callback=person,
            read_timeout_seconds=120,
        )
        async with client:
            url = wait_for("the sandbox URL", lambda: sandbox_url(stderr.read_text()))
            yield client, url


def _text(result: Any) -> str:
    return "\n".join(block.text for block in result.content if block.type == "text")


async def test_lists_the_agents_tools_read_only_and_calls_a_read_tool(tmp_path: Path) -> None:
    async with served(tmp_path) as (client, _url):
        listed = (await client.list_tools()).tools
        names = [t.name for t in listed]
        assert {"get_k8s_pods", "get_pod_logs", "describe_pod"} <= set(names)
        assert "delete_pod" not in names and "scale_deployment" not in names
        assert all(t.annotations and t.annotations.read_only_hint is True for t in listed)
        pods = next(t for t in listed if t.name == "get_k8s_pods")
        assert pods.input_schema["required"] == ["namespace"]

        result = await client.call_tool("get_k8s_pods", {"namespace": "shop"})
        assert not result.is_error
        assert "pods in namespace shop" in _text(result)
        assert "CrashLoopBackOff" in _text(result)

        refused = await client.call_tool(
            "scale_deployment", {"namespace": "shop", "name": "cart", "replicas": 5}
        )
        assert refused.is_error
        assert "read-only" in _text(refused) and "nothing was executed" in _text(refused)

        pinned = await client.call_tool(
            "get_k8s_pods", {"namespace": "shop", "context": "prod-cluster"}
        )
        assert pinned.is_error and "pinned" in _text(pinned)
    records = session_records(tmp_path)
    finished = events(records, "tool_call_finished")
    assert [(e["tool"], e["status"]) for e in finished] == [
        ("get_k8s_pods", "ok"),
        ("scale_deployment", "refused"),
        ("get_k8s_pods", "error"),
    ]
    assert [e["tool"] for e in events(records, "tool_call_started")] == ["get_k8s_pods"]
    assert events(records, "run_started")[0]["agent"] == "mcp"


@pytest.mark.parametrize("mode", ["legacy", "auto"])
async def test_write_mode_change_runs_after_the_person_accepts(tmp_path: Path, mode: str) -> None:
    person = Person("accept")
    async with served(tmp_path, "--write", mode=mode, person=person) as (client, url):
        listed = {t.name: t for t in (await client.list_tools()).tools}
        scale = listed["scale_deployment"]
        assert scale.annotations is not None
        assert scale.annotations.read_only_hint is False
        assert scale.annotations.destructive_hint is True
        before = replicas(url, "shop", "cart")
        result = await client.call_tool(
            "scale_deployment", {"namespace": "shop", "name": "cart", "replicas": before + 3}
        )
        assert not result.is_error, _text(result)
        assert replicas(url, "shop", "cart") == before + 3
    assert len(person.messages) == 1
    message = person.messages[0]
    assert "scale" in message and "cart" in message and "opsconsole-sandbox" in message
    assert "dry run" in message.lower()
    records = session_records(tmp_path)
    audits = [r for r in records if r["type"] == "audit"]
    assert [a["phase"] for a in audits] == ["before", "after"]
    assert audits[0]["tool"] == "scale_deployment" and audits[1]["status"] == "ok"
    assert [e["decision"] for e in events(records, "approval_resolved")] == ["approve"]


@pytest.mark.parametrize(
    ("mode", "answer"), [("auto", "decline"), ("legacy", "cancel"), ("auto", "accept-false")]
)
async def test_write_mode_change_declined_changes_nothing(
    tmp_path: Path, mode: str, answer: str
) -> None:
    person = Person(answer)
    async with served(tmp_path, "--write", mode=mode, person=person) as (client, url):
        before = replicas(url, "shop", "cart")
        result = await client.call_tool(
            "scale_deployment", {"namespace": "shop", "name": "cart", "replicas": before + 4}
        )
        assert result.is_error
        assert "did not confirm" in _text(result) and "nothing was executed" in _text(result)
        assert replicas(url, "shop", "cart") == before
    assert len(person.messages) == 1
    records = session_records(tmp_path)
    assert not [r for r in records if r["type"] == "audit"]
    assert events(records, "tool_call_started") == []
    assert [e["status"] for e in events(records, "tool_call_finished")] == ["declined"]


async def test_a_client_without_elicitation_is_refused(tmp_path: Path) -> None:
    async with served(tmp_path, "--write", mode="legacy") as (client, url):
        before = replicas(url, "shop", "cart")
        result = await client.call_tool(
            "scale_deployment", {"namespace": "shop", "name": "cart", "replicas": before + 2}
        )
        assert result.is_error and "does not support elicitation" in _text(result)
        assert replicas(url, "shop", "cart") == before


async def test_a_forged_confirmation_runs_nothing(tmp_path: Path) -> None:
    """2026-07-28: a retry carrying an answer but a request_state the server never issued."""
    async with served(tmp_path, "--write", mode="auto", person=Person("accept")) as (client, url):
        before = replicas(url, "shop", "cart")
        forged = {"confirm": mcp.types.ElicitResult(action="accept", content={"confirm": True})}
        result = await client.call_tool(
            "scale_deployment",
            {"namespace": "shop", "name": "cart", "replicas": before + 1},
            input_responses=forged,
            request_state="made-up",
        )
        assert result.is_error and "unknown or expired" in _text(result)
        assert replicas(url, "shop", "cart") == before


async def test_the_same_redaction_and_namespace_allowlist_as_the_agent(tmp_path: Path) -> None:
    allow = {"OPSCONSOLE_KUBERNETES__NAMESPACE_ALLOWLIST": "[shop]"}
    async with served(tmp_path, env=allow) as (client, _url):
        manifest = await client.call_tool(
            "get_resource", {"kind": "deployment", "name": "orders-worker", "namespace": "shop"}
        )
        text = _text(manifest)
        assert not manifest.is_error and "DB_PASSWORD" in text
        assert "sandbox-fake-password-123" not in text  # the demo's plain-env password
        outside = await client.call_tool("get_k8s_pods", {"namespace": "payments"})
        assert outside.is_error and "outside the configured allowlist" in _text(outside)
