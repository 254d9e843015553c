"""Helpers for the multi-agent tests."""

from __future__ import annotations

import asyncio
import contextlib
import threading
import time
from typing import Any

from opsconsole.agent.events import AgentEvent
from opsconsole.agent.model import OpenAIModelClient
from opsconsole.agent.tools import Tool
from opsconsole.config import Settings

OPEN_CLIENTS: list[Any] = []

NS_SCHEMA = {
    "type": "object",
    "properties": {"namespace": {"type": "string"}},
    "required": [],
    "additionalProperties": False,
}


class Calls:
    """Thread-safe record of tool invocations with their start/end times."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.items: list[tuple[str, dict[str, Any], float, float]] = []

    def add(self, name: str, args: dict[str, Any], start: float, end: float) -> None:
        with self._lock:
            self.items.append((name, dict(args), start, end))

    def names(self) -> list[str]:
        with self._lock:
            return [n for n, *_ in self.items]

    def span(self, name: str) -> tuple[float, float]:
        with self._lock:
            for n, _a, s, e in self.items:
                if n == name:
                    return s, e
        raise KeyError(name)


def rendezvous_tool(name: str, calls: Calls, meeting: asyncio.Barrier) -> Tool:
    """A tool that waits (up to 30 s) until every party of ``meeting`` is inside its handler:
    it answers "met" only if the calls really ran at the same time, whatever the machine's
    speed; run one after the other, the first one times out and answers "alone"."""

    async def handler(args: dict[str, Any]) -> str:
        start = time.monotonic()
        try:
            await asyncio.wait_for(meeting.wait(), timeout=30)
            outcome = "met"
        except TimeoutError:
            outcome = "alone"
        calls.add(name, {**args, "outcome": outcome}, start, time.monotonic())
        return f"{name} {outcome}"

    return Tool(name, f"test tool {name}", NS_SCHEMA, handler, read_only=True)


def recording_tool(name: str, calls: Calls, text: str = "", *, read_only: bool = True) -> Tool:
    def handler(args: dict[str, Any]) -> str:
        now = time.monotonic()
        calls.add(name, args, now, now)
        return text or f"{name} result"

    return Tool(name, f"test tool {name}", NS_SCHEMA, handler, read_only=read_only)


def hanging_tool(name: str, started: asyncio.Event) -> Tool:
    async def handler(args: dict[str, Any]) -> str:
        started.set()
        await asyncio.sleep(60)
        return "never"

    return Tool(name, f"test tool {name}", NS_SCHEMA, handler, read_only=True)


def team_settings(servers: dict[str, Any], **agent: Any) -> Settings:
    """Settings whose scheduler / ops / security / coder talk to their own scripted server
    (``settings.agent.<name>.base_url``: the per-agent model override)."""
    first = next(iter(servers.values()))
    agent_cfg: dict[str, Any] = {"language": "auto", **agent}
    for name, srv in servers.items():
        agent_cfg[name] = {"base_url": srv.base_url, "model": f"fake-{name}"}
    return Settings.from_data(
        {
            "model": {
                "base_url": first.base_url,
                "name": "fake-model",
                "api_key_env": "OPSCONSOLE_TEST_FAKE_KEY",
                "max_retries": 0,
                "timeout": {"connect": 5, "read": 10, "total": 20},
            },
            "agent": agent_cfg,
        }
    )


def model_factory(settings: Settings):
    """The real default factory (overrides applied), with a test key; clients are closed
    after each test."""
    from opsconsole.team.scheduler import default_model_factory

    inner = default_model_factory(settings, api_key="test-key")

    def factory(name: str):
        client = inner(name)
        if isinstance(client, OpenAIModelClient) and client not in OPEN_CLIENTS:
            OPEN_CLIENTS.append(client)
        return client

    return factory


async def collect(runner: Any, task: str) -> list[AgentEvent]:
    async with contextlib.aclosing(runner.run(task)) as events:
        return [ev async for ev in events]


def of(events: list[AgentEvent], cls: type, agent: str | None = None) -> list[Any]:
    return [e for e in events if isinstance(e, cls) and (agent is None or e.agent == agent)]
