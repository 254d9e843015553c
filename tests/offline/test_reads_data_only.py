"""The planner reads the tools' data, never their text: with every tool's text replaced by a
placeholder it makes the same calls and gives the same answers.

A real boundary: the real Kubernetes tools on the demo sandbox, behind a tool registry that
keeps each call's result (so both runs see the same cluster, to the second) and, for the
second run, a registry whose tools answer with that result's data and error but a placeholder
text. The loop is the real one; the planner cannot tell the registries apart except by text.
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
from typing import Any

import pytest

from opsconsole.agent.approval import ApprovalDecision, ApprovalRequest
from opsconsole.agent.events import Answer, ToolCallFinished, ToolCallStarted
from opsconsole.agent.loop import AgentLoop
from opsconsole.agent.tools import Tool, ToolRegistry, ToolResult
from opsconsole.config import Settings
from opsconsole.k8s.tools import build_k8s_tools
from opsconsole.planner import OfflinePlanner

from .conftest import CONTEXT

PLACEHOLDER = "(tool output withheld from the offline planner)"

TASKS = [
    "为什么 payments 的 payment-api 一直重启",
    "why does payment-api in payments keep restarting",
    "why is image-resizer crashing",
    "为什么 checkout 起不来",
    "search-indexer 为什么一直 Pending",
    "why are the recommendation pods not ready",
    "why is deployment recommendation unavailable",
    "worker-3 节点怎么了",
    "why does the feature-store service have no endpoints",
    "Why is the checkout service down?",
    "trainer-0 用了几块 GPU",
    "Which pods use GPUs, and on which nodes?",
    "哪些 Pod 不健康",
    "what's broken in the cluster",
    "看看 payments 里 payment-api 的日志",
    "show pods in namespace shop",
    "payment-api 的 pod 状态",
    "which deployments are unavailable",
    "最近 shop 有什么告警",
    "节点状态",
    "top pods in shop",
    "shop 命名空间有哪些安全风险",
    "delete pod ledger-0 in payments",
    "why is ghost failing",
]


class Recorded:
    """Calls each tool once per (name, arguments) and keeps the result for later calls."""

    def __init__(self, registry: ToolRegistry) -> None:
        self.results: dict[str, ToolResult] = {}
        self.registry = ToolRegistry(self._wrap(t) for t in registry)

    def _wrap(self, tool: Tool) -> Tool:
        def handler(args: dict[str, Any]) -> ToolResult:
            key = tool.name + json.dumps(args, sort_keys=True)
            if key not in self.results:
                out = tool.handler(args)
                assert isinstance(out, ToolResult), tool.name
                self.results[key] = out
            return self.results[key]

        return dataclasses.replace(tool, handler=handler)


def placeholders(registry: ToolRegistry) -> ToolRegistry:
    """The same tools, answering with their real data and error but a placeholder text."""

    def wrap(tool: Tool) -> Tool:
        def handler(args: dict[str, Any]) -> ToolResult:
            out = tool.handler(args)
            assert isinstance(out, ToolResult), tool.name
            return dataclasses.replace(out, content=PLACEHOLDER)

        return dataclasses.replace(tool, handler=handler)

    return ToolRegistry(wrap(t) for t in registry)


class Decline:
    async def approve(self, request: ApprovalRequest) -> ApprovalDecision:
        return ApprovalDecision("decline")


async def run(tools: ToolRegistry, task: str, *, write: bool = False) -> dict[str, Any]:
    settings = Settings.from_data({"agent": {"write_mode": write}})
    loop = AgentLoop(
        OfflinePlanner(), tools, settings=settings, context=CONTEXT, approver=Decline()
    )
    out: dict[str, Any] = {"calls": [], "answer": "", "outputs": []}
    async with contextlib.aclosing(loop.run(task)) as events:
        async for ev in events:
            if isinstance(ev, ToolCallStarted):
                out["calls"].append((ev.tool, ev.arguments))
            elif isinstance(ev, ToolCallFinished):
                out["outputs"].append((ev.status, ev.output))
            elif isinstance(ev, Answer):
                out["answer"] = ev.text
    return out


def same_run(a: dict[str, Any], b: dict[str, Any]) -> None:
    assert b["calls"] == a["calls"]
    assert b["answer"] == a["answer"]
    assert a["answer"]
    # the second run really saw no tool text
    assert all(output == PLACEHOLDER for status, output in b["outputs"] if status == "ok")


@pytest.mark.parametrize("task", TASKS)
async def test_the_same_answers_without_the_tools_text(demo_tools: ToolRegistry, task: str) -> None:
    recorded = Recorded(demo_tools)
    with_text = await run(recorded.registry, task)
    without = await run(placeholders(recorded.registry), task)
    same_run(with_text, without)
    assert PLACEHOLDER not in with_text["answer"]


async def test_a_change_and_its_decline_without_the_tools_text(
    sandbox_kubeconfig: Any,
) -> None:
    """Write mode: the lookups, the proposal and the declined change read the same."""
    from opsconsole.k8s.client import Cluster

    settings = Settings.from_data({"agent": {"write_mode": True}})
    cluster = Cluster(kubeconfig=sandbox_kubeconfig, context=CONTEXT, request_timeout=5)
    try:
        recorded = Recorded(ToolRegistry(build_k8s_tools(cluster, settings)))
        task = "restart the checkout deployment"
        with_text = await run(recorded.registry, task, write=True)
        without = await run(placeholders(recorded.registry), task, write=True)
    finally:
        cluster.close()
    same_run(with_text, without)
    assert ("get_deployments", {}) in with_text["calls"]
    assert "nothing was changed" in without["answer"]


async def test_errors_are_read_from_their_codes_not_their_text() -> None:
    """No cluster configured: every call fails; the answer comes from the error's code and
    message, the same with the text withheld."""
    tools = ToolRegistry(build_k8s_tools(None, Settings()))
    for task in ("查看 default 命名空间下所有 Pod 的状态", "why is checkout failing"):
        with_text = await run(tools, task)
        without = await run(placeholders(tools), task)
        assert without["calls"] == with_text["calls"]
        assert without["answer"] == with_text["answer"]
        assert "no cluster configured" in without["answer"]
