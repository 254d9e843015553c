"""The new read tools through the agent loop with the scripted model server (real ``openai``
client, real HTTP to the sandbox): offered in read-only mode, results reach the model, and
the request's system prompt and tools array are byte-identical from request to request (A20).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from opsconsole.agent.events import ToolCallFinished
from opsconsole.config import Settings
from opsconsole.k8s.client import Cluster
from opsconsole.k8s.tools import build_k8s_tools
from tests.agent.agentkit import collect, make_loop, make_settings, of
from tests.fakes.openai_server import ScriptedOpenAIServer, reply, tool_call
from tests.k8s.conftest import CONTEXT
from tests.k8s.test_reach_sandbox import NEW_TOOLS


@pytest.fixture
def srv() -> Iterator[ScriptedOpenAIServer]:
    with ScriptedOpenAIServer() as server:
        yield server


async def test_new_tools_offered_read_only_and_prefix_stable(
    srv: ScriptedOpenAIServer, sandbox_kubeconfig: Path
):
    cluster = Cluster(kubeconfig=sandbox_kubeconfig, context=CONTEXT, request_timeout=5)
    settings: Settings = make_settings(srv.base_url)
    tools = build_k8s_tools(cluster, settings)
    srv.push(
        reply(
            tool_calls=[
                tool_call(
                    "get_resource",
                    {"kind": "cm", "name": "payment-api-config", "namespace": "payments"},
                )
            ]
        ),
        reply(
            tool_calls=[
                tool_call("check_service_path", {"namespace": "payments", "service": "payment-api"})
            ]
        ),
        reply(tool_calls=[tool_call("list_resources", {"kind": "deploy", "namespace": "shop"})]),
        reply("The ConfigMap has no gateway_url key; the pods are not Ready."),
    )
    loop = make_loop(srv, tools, settings=settings)
    events = await collect(loop, "why does payment-api crash?")
    done = of(events, ToolCallFinished)
    assert [e.status for e in done] == ["ok", "ok", "ok"], [e.status for e in done]
    bodies = srv.requests
    assert len(bodies) == 4 and srv.rejections == []
    offered = {t["function"]["name"] for t in bodies[0]["tools"]}
    assert NEW_TOOLS <= offered
    assert not offered & {"delete_pod", "scale_deployment", "rollout_restart"}  # read-only
    system = bodies[0]["messages"][0]
    prompt = system["content"]
    for name in NEW_TOOLS:
        assert f"- {name}: " in prompt  # the system prompt lists the new tools
    for b in bodies[1:]:
        assert json.dumps(b["tools"]) == json.dumps(bodies[0]["tools"])
        assert b["messages"][0] == system
    # what the tools returned reached the model
    tool_msgs = [m for m in bodies[-1]["messages"] if m["role"] == "tool"]
    assert "gateway_endpoint" in tool_msgs[0]["content"]
    assert "traffic stops at: readiness" in tool_msgs[1]["content"]
    cluster.close()
