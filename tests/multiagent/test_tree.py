"""The agent tree built from the Scheduler's event stream (what the console's trace shows):
Scheduler -> specialists -> their steps, tokens and time per agent, cancellation."""

from __future__ import annotations

import asyncio

import pytest

from opsconsole.agent.events import RunFinished
from opsconsole.agent.loop import drive
from opsconsole.agent.scheduler import build_scheduler
from opsconsole.agent.specialists.tree import AgentTree
from opsconsole.agent.tools import ToolRegistry
from opsconsole.config import Settings
from tests.fakes.openai_server import ScriptedOpenAIServer, reply, tool_call
from tests.multiagent.kit import collect, hanging_tool, model_factory, team_settings


async def test_tree_of_an_offline_fan_out(demo_cluster):
    s = build_scheduler(None, demo_cluster, Settings(), offline=True)
    events = await collect(s, "看看 shop 命名空间的告警，再做一次安全扫描")
    tree = AgentTree()
    for ev in events:
        tree.feed(ev)
    [root] = tree.roots()
    assert root.agent == "scheduler" and root.status == "finished"
    kids = tree.children(root.run_id)
    assert [k.agent for k in kids] == ["ops", "security"]
    for k in kids:
        assert k.status == "finished" and k.parent_run_id == root.run_id
        assert k.tool_call_id in root.tools and root.tools[k.tool_call_id].tool == f"ask_{k.agent}"
        assert k.tokens > 0 and k.duration > 0
    assert [t.tool for t in kids[1].tools.values()] == ["security_scan"]
    by_agent = tree.tokens_by_agent()
    assert set(by_agent) == {"scheduler", "ops", "security"}
    assert by_agent["security"] == s.usage_by_agent()["security"]
    text = tree.render().splitlines()
    assert text[0].startswith("scheduler ✓") and "ask_ops" in text[0]
    assert text[1].startswith("├─ ops ✓") and "get_alerts" in text[1]
    assert text[2].startswith("└─ security ✓") and "security_scan" in text[2]


async def test_runs_interleaved_in_any_order_build_the_same_tree(demo_cluster):
    s = build_scheduler(None, demo_cluster, Settings(), offline=True)
    events = await collect(s, "@security @ops 检查一下 default")
    forward, children_first = AgentTree(), AgentTree()
    for ev in events:
        forward.feed(ev)
    # every child event before the scheduler's (AgentDispatched included): links still hold
    for ev in sorted(events, key=lambda e: e.agent == "scheduler"):
        children_first.feed(ev)
    assert forward.render() == children_first.render()
    [root] = forward.roots()
    assert sorted(k.agent for k in forward.children(root.run_id)) == ["ops", "security"]
    assert all(k.tool_call_id is None for k in forward.children(root.run_id))


async def test_cancel_marks_every_open_branch_cancelled():
    started = asyncio.Event()
    registry = ToolRegistry([hanging_tool("get_k8s_pods", started)])
    with ScriptedOpenAIServer() as sched, ScriptedOpenAIServer() as ops:
        sched.push(reply(tool_calls=[tool_call("ask_ops", {"task": "pods"})]))
        ops.push(reply(tool_calls=[tool_call("get_k8s_pods", {})]))
        settings = team_settings({"scheduler": sched, "ops": ops})
        s = build_scheduler(model_factory(settings), None, settings, registry=registry)
        tree = AgentTree()
        worker = asyncio.create_task(drive(s, "pods", tree.feed))
        await asyncio.wait_for(started.wait(), 30)
        worker.cancel()
        with pytest.raises(asyncio.CancelledError):
            await worker
    [root] = tree.roots()
    [child] = tree.children(root.run_id)
    assert root.status == child.status == "cancelled"
    assert [t.status for t in child.tools.values()] == ["cancelled"]
    assert "⊘" in tree.render().splitlines()[1]
    assert not isinstance(s.terminal_event, RunFinished)
