"""Helpers for the agent-core tests: settings pointing at the scripted server, simple
in-test tools, an approver that answers from a script, and a loop factory."""

from __future__ import annotations

import threading
from collections.abc import AsyncIterator
from typing import Any

import pytest

from opsconsole.agent.approval import ApprovalDecision, ApprovalRequest
from opsconsole.agent.events import AgentEvent
from opsconsole.agent.loop import AgentLoop
from opsconsole.agent.model import OpenAIModelClient
from opsconsole.agent.tools import ActionSummary, Tool, ToolRegistry
from opsconsole.config import Settings
from tests.fakes.openai_server import ScriptedOpenAIServer

#: clients made by make_loop; :func:`close_model_clients` closes them after each test
OPEN_CLIENTS: list[OpenAIModelClient] = []


@pytest.fixture(autouse=True)
async def close_model_clients() -> AsyncIterator[None]:
    """Close the clients a test made, on that test's own event loop (a client left open would
    be closed later on a dead loop and fail another test). Imported by the conftest of every
    directory whose tests call :func:`make_loop`."""
    yield
    while OPEN_CLIENTS:
        await OPEN_CLIENTS.pop().aclose()


POD_SCHEMA = {
    "type": "object",
    "properties": {"namespace": {"type": "string"}},
    "required": ["namespace"],
}
LOG_SCHEMA = {
    "type": "object",
    "properties": {
        "namespace": {"type": "string"},
        "pod_name": {"type": "string"},
        "lines": {"type": "integer", "default": 100},
    },
    "required": ["namespace", "pod_name"],
}
DELETE_SCHEMA = {
    "type": "object",
    "properties": {"namespace": {"type": "string"}, "pod_name": {"type": "string"}},
    "required": ["namespace", "pod_name"],
}


class Calls:
    """Thread-safe record of tool invocations."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.items: list[tuple[str, dict[str, Any]]] = []

    def add(self, name: str, args: dict[str, Any]) -> None:
        with self._lock:
            self.items.append((name, dict(args)))

    def names(self) -> list[str]:
        with self._lock:
            return [n for n, _ in self.items]


def make_tools(calls: Calls, *, log_text: str = "line 1\nline 2") -> list[Tool]:
    def get_pods(args: dict[str, Any]) -> str:
        calls.add("get_k8s_pods", args)
        ns = args["namespace"]
        return "\n".join(f"{ns}/pod-{i}: Running" for i in range(3))

    def get_logs(args: dict[str, Any]) -> str:
        calls.add("get_pod_logs", args)
        return log_text

    def delete_pod(args: dict[str, Any]) -> str:
        calls.add("delete_pod", args)
        return f"pod {args['namespace']}/{args['pod_name']} deleted"

    def unflagged(args: dict[str, Any]) -> str:
        calls.add("restart_everything", args)
        return "done"

    return [
        Tool("get_k8s_pods", "获取 K8s Pod 列表", POD_SCHEMA, get_pods, read_only=True),
        Tool("get_pod_logs", "获取 Pod 日志", LOG_SCHEMA, get_logs, read_only=True),
        Tool(
            "delete_pod",
            "Delete a pod",
            DELETE_SCHEMA,
            delete_pod,
            read_only=False,
            summarize=lambda a: ActionSummary(
                "delete", "Pod", a.get("pod_name", ""), a.get("namespace")
            ),
            dry_run=lambda a: f"pod/{a['pod_name']} deleted (server dry run)",
        ),
        Tool("restart_everything", "no read_only flag", {"type": "object"}, unflagged),
    ]


class ScriptedApprover:
    """Answers approvals from a list and records the requests."""

    def __init__(self, *decisions: str) -> None:
        self.decisions = list(decisions)
        self.requests: list[ApprovalRequest] = []

    async def approve(self, request: ApprovalRequest) -> ApprovalDecision:
        self.requests.append(request)
        decision = self.decisions.pop(0) if self.decisions else "decline"
        return ApprovalDecision(decision)  # type: ignore[arg-type]


def make_settings(base_url: str, **overrides: Any) -> Settings:
    model = {
        "base_url": base_url,
        "name": "fake-model",
        "api_key_env": "OPSCONSOLE_TEST_FAKE_KEY",
        "max_retries": 3,
        "timeout": {"connect": 5, "read": 10, "total": 20},
    }
    model.update(overrides.pop("model", {}))
    agent = {"language": "en"}
    agent.update(overrides.pop("agent", {}))
    return Settings.from_data({"model": model, "agent": agent, **overrides})


def make_loop(
    srv: ScriptedOpenAIServer,
    tools: list[Tool],
    *,
    settings: Settings | None = None,
    **kwargs: Any,
) -> AgentLoop:
    settings = settings or make_settings(srv.base_url)
    client = OpenAIModelClient(settings.model, api_key="test-key", backoff_base=0.01)
    OPEN_CLIENTS.append(client)
    return AgentLoop(client, ToolRegistry(tools), settings=settings, **kwargs)


async def collect(loop: AgentLoop, task: str) -> list[AgentEvent]:
    return [ev async for ev in loop.run(task)]


def kinds(events: list[AgentEvent]) -> list[str]:
    return [e.kind for e in events]


def of(events: list[AgentEvent], cls: type) -> list[Any]:
    return [e for e in events if isinstance(e, cls)]
