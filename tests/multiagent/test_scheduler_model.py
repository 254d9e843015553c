"""The Scheduler driven by models: each agent talks to its own scripted OpenAI-compatible server
(``settings.agent.<name>.base_url`` / ``model``: the per-agent override) through the real
``openai`` client. The servers validate every request like OpenAI / DeepSeek do."""

from __future__ import annotations

import asyncio
import contextlib
import json
from typing import Any

import pytest

from opsconsole.agent.events import (
    AgentDispatched,
    AgentEvent,
    Answer,
    Notice,
    RunCancelled,
    RunFinished,
    RunStarted,
    ToolCallFinished,
)
from opsconsole.agent.loop import drive
from opsconsole.agent.model import OpenAIModelClient
from opsconsole.agent.tools import ToolRegistry
from opsconsole.team import specialists
from opsconsole.team.offline import OfflineSecurity
from opsconsole.team.scheduler import build_scheduler
from tests.fakes.openai_server import ScriptedOpenAIServer, error, reply, tool_call
from tests.multiagent.kit import (
    OPEN_CLIENTS,
    Calls,
    collect,
    hanging_tool,
    model_factory,
    of,
    recording_tool,
    rendezvous_tool,
    team_settings,
)

AGENTS = ("scheduler", "ops", "security", "coder")


@contextlib.contextmanager
def team_servers(**kw: Any):
    with contextlib.ExitStack() as stack:
        yield {n: stack.enter_context(ScriptedOpenAIServer(**kw)) for n in AGENTS}


def _registry(calls: Calls) -> ToolRegistry:
    return ToolRegistry(
        [
            recording_tool("get_k8s_pods", calls, "shop/checkout-1: ImagePullBackOff"),
            recording_tool("get_pod_logs", calls, "log line"),
            recording_tool(
                "security_scan",
                calls,
                "security scan of namespace shop: 1 findings (1 high)\nFINDING severity=high "
                "reason=SecretInEnv deployment=shop/orders-worker evidence: env var DB_PASSWORD "
                "holds a literal value | suggestion: use a Secret",
            ),
            recording_tool("generate_manifest", calls, "apiVersion: v1\nkind: ConfigMap"),
            recording_tool("validate_manifest", calls, "validation: all documents valid"),
            recording_tool("delete_pod", calls, "deleted", read_only=False),
        ]
    )


def _tool_names(body: dict[str, Any]) -> list[str]:
    return [t["function"]["name"] for t in body.get("tools") or ()]


def _no_rejections(srvs: dict[str, ScriptedOpenAIServer]) -> None:
    for name, srv in srvs.items():
        assert srv.rejections == [], (name, srv.rejections)


async def test_model_routes_zh_to_two_specialists_and_merges():
    calls = Calls()
    with team_servers() as srvs:
        srvs["scheduler"].push(
            reply(
                "分派给安全和运维。",
                tool_calls=[
                    tool_call("ask_security", {"task": "扫描 shop 的安全问题"}, id="c_sec"),
                    tool_call("ask_ops", {"task": "查看 shop 的 Pod 状态"}, id="c_ops"),
                ],
            ),
            reply(
                "安全 Agent：orders-worker 有明文 DB_PASSWORD；运维 Agent：checkout 拉取镜像失败。"
            ),
        )
        srvs["security"].push(
            reply(tool_calls=[tool_call("security_scan", {"namespace": "shop"})]),
            reply("发现：orders-worker 的环境变量 DB_PASSWORD 是明文。"),
        )
        srvs["ops"].push(
            reply(tool_calls=[tool_call("get_k8s_pods", {"namespace": "shop"})]),
            reply("checkout 处于 ImagePullBackOff。"),
        )
        settings = team_settings(srvs)
        s = build_scheduler(model_factory(settings), None, settings, registry=_registry(calls))
        events = await collect(s, "检查 shop 的安全问题，顺便看看 Pod 状态")
        _no_rejections(srvs)

        first = srvs["scheduler"].requests[0]
        assert first["model"] == "fake-scheduler"
        assert sorted(_tool_names(first)) == ["ask_coder", "ask_ops", "ask_security"]
        assert "调度员" in first["messages"][0]["content"]
        sec = srvs["security"].requests[0]
        assert sec["model"] == "fake-security"
        assert "安全 Agent" in sec["messages"][0]["content"]
        assert sec["messages"][-1] == {"role": "user", "content": "扫描 shop 的安全问题"}
        # each specialist is offered its allowlist only
        assert _tool_names(sec) == ["security_scan", "get_k8s_pods"]
        assert _tool_names(srvs["ops"].requests[0]) == ["get_k8s_pods", "get_pod_logs"]
        # the specialists' answers come back to the scheduler wrapped as untrusted data
        second = srvs["scheduler"].requests[1]["messages"]
        tool_msgs = {m["tool_call_id"]: m["content"] for m in second if m["role"] == "tool"}
        assert tool_msgs["c_sec"].startswith('<untrusted-agent-output agent="security"')
        assert "DB_PASSWORD 是明文" in tool_msgs["c_sec"]
        assert tool_msgs["c_ops"].startswith('<untrusted-agent-output agent="ops"')
        assert "ImagePullBackOff" in tool_msgs["c_ops"]

    d = {e.target: e for e in of(events, AgentDispatched)}
    assert d["security"].tool_call_id == "c_sec" and d["ops"].tool_call_id == "c_ops"
    top = of(events, RunStarted, "scheduler")[0]
    for name in ("security", "ops"):
        child = of(events, RunStarted, name)[0]
        assert child.parent_run_id == top.run_id and child.run_id == d[name].child_run_id
        assert child.model == f"fake-{name}"
        fin = of(events, RunFinished, name)[0]
        assert (fin.prompt_tokens, fin.completion_tokens) == (200, 40)  # 2 requests each
    answer = of(events, Answer, "scheduler")[0].text
    assert "安全 Agent" in answer and "运维 Agent" in answer
    assert isinstance(s.terminal_event, RunFinished)
    assert s.usage_by_agent()["security"] == (200, 40)
    assert sorted(calls.names()) == ["get_k8s_pods", "security_scan"]


async def test_model_routes_en_to_the_coder():
    calls = Calls()
    with team_servers() as srvs:
        srvs["scheduler"].push(
            reply(tool_calls=[tool_call("ask_coder", {"task": "Write a ConfigMap for app web"})]),
            reply("Coder agent: here is the ConfigMap, validated by a dry run."),
        )
        srvs["coder"].push(
            reply(tool_calls=[tool_call("generate_manifest", {"namespace": "shop"})]),
            reply(tool_calls=[tool_call("validate_manifest", {"namespace": "shop"})]),
            reply("```yaml\napiVersion: v1\nkind: ConfigMap\n```\nvalidation: all documents valid"),
        )
        settings = team_settings(srvs)
        s = build_scheduler(model_factory(settings), None, settings, registry=_registry(calls))
        events = await collect(s, "Write a ConfigMap for the web app")
        _no_rejections(srvs)
        assert "scheduler agent" in srvs["scheduler"].requests[0]["messages"][0]["content"]
        assert "Coder agent" in srvs["coder"].requests[0]["messages"][0]["content"]
        assert srvs["ops"].requests == [] and srvs["security"].requests == []
    assert [e.target for e in of(events, AgentDispatched)] == ["coder"]
    assert calls.names() == ["generate_manifest", "validate_manifest"]
    assert of(events, Answer, "scheduler")[0].text.startswith("Coder agent:")


async def test_fan_out_runs_specialists_concurrently():
    calls = Calls()
    meeting = asyncio.Barrier(2)  # each tool waits inside its handler for the other one
    registry = ToolRegistry(
        [
            rendezvous_tool("get_k8s_pods", calls, meeting),
            rendezvous_tool("security_scan", calls, meeting),
        ]
    )
    with team_servers() as srvs:
        srvs["scheduler"].push(
            reply(
                tool_calls=[
                    tool_call("ask_ops", {"task": "pods"}),
                    tool_call("ask_security", {"task": "scan"}),
                ]
            ),
            reply("merged"),
        )
        srvs["ops"].push(reply(tool_calls=[tool_call("get_k8s_pods", {})]), reply("ops done"))
        srvs["security"].push(
            reply(tool_calls=[tool_call("security_scan", {})]), reply("security done")
        )
        settings = team_settings(srvs)
        s = build_scheduler(model_factory(settings), None, settings, registry=registry)
        events = await collect(s, "pods and security")
        _no_rejections(srvs)
    outcomes = {name: args["outcome"] for name, args, *_ in calls.items}
    assert outcomes == {"get_k8s_pods": "met", "security_scan": "met"}, (
        "the two specialists' tools did not run at the same time"
    )
    assert of(events, Answer, "scheduler")[0].text == "merged"


async def test_allowlist_is_enforced_s13():
    calls = Calls()
    with team_servers() as srvs:
        srvs["scheduler"].push(
            # the router tries to hand the security agent an extra tool: refused by the schema
            reply(
                tool_calls=[
                    tool_call("ask_security", {"task": "scan", "tools": ["delete_pod"]}, id="x1")
                ]
            ),
            reply(tool_calls=[tool_call("ask_security", {"task": "scan shop"}, id="x2")]),
            reply("done"),
        )
        srvs["security"].push(
            reply(
                tool_calls=[
                    tool_call("delete_pod", {"namespace": "shop", "pod_name": "web-1"}),
                    tool_call("get_pod_logs", {"namespace": "shop", "pod_name": "web-1"}),
                    tool_call("security_scan", {"namespace": "shop"}),
                ]
            ),
            reply("security answer"),
        )
        srvs["ops"].push(reply("ops answer"))
        settings = team_settings(srvs, write_mode=True)
        s = build_scheduler(model_factory(settings), None, settings, registry=_registry(calls))
        events = await collect(s, "scan shop")
        _no_rejections(srvs)
        # security is read-only even in write mode; ops (write mode) is offered delete_pod
        assert _tool_names(srvs["security"].requests[0]) == ["security_scan", "get_k8s_pods"]
        assert len(srvs["security"].requests) == 2
        ops_registry = specialists()["ops"].registry(_registry(calls))
        assert "delete_pod" in ops_registry.names()
    refused = [e for e in of(events, ToolCallFinished, "scheduler") if e.tool_call_id == "x1"][0]
    assert refused.status == "error" and "unexpected argument" in refused.output
    sec = {e.tool: e for e in of(events, ToolCallFinished, "security")}
    for name in ("delete_pod", "get_pod_logs"):
        assert sec[name].status == "error"
        assert f"unknown tool '{name}'" in sec[name].output
    assert sec["security_scan"].status == "ok"
    assert calls.names() == ["security_scan"]  # the refused tools never ran
    assert [e.target for e in of(events, AgentDispatched)] == ["security"]


async def test_cancel_during_fan_out_leaves_every_transcript_valid():
    calls = Calls()
    hang_started = asyncio.Event()
    registry = ToolRegistry(
        [hanging_tool("get_k8s_pods", hang_started), recording_tool("security_scan", calls)]
    )
    with team_servers() as srvs:
        srvs["scheduler"].push(
            reply(
                tool_calls=[
                    tool_call("ask_ops", {"task": "pods"}, id="a_ops"),
                    tool_call("ask_security", {"task": "scan"}, id="a_sec"),
                ]
            )
        )
        srvs["ops"].push(reply(tool_calls=[tool_call("get_k8s_pods", {"namespace": "shop"})]))
        srvs["security"].push(
            reply(tool_calls=[tool_call("security_scan", {})]), reply("security done")
        )
        settings = team_settings(srvs)
        s = build_scheduler(model_factory(settings), None, settings, registry=registry)

        seen: list[AgentEvent] = []
        sec_done = asyncio.Event()

        def on_event(ev: AgentEvent) -> None:
            seen.append(ev)
            if isinstance(ev, RunFinished) and ev.agent == "security":
                sec_done.set()

        worker = asyncio.create_task(drive(s, "pods and security", on_event))
        await asyncio.wait_for(asyncio.gather(hang_started.wait(), sec_done.wait()), 30)
        worker.cancel()
        with pytest.raises(asyncio.CancelledError):
            await worker
        assert isinstance(seen[-1], RunCancelled) and seen[-1].agent == "scheduler"
        assert s.terminal_event is seen[-1] and not s.running
        # every transcript is closed: each tool_call_id answered
        for name, conv in s.conversations().items():
            assert conv.open_tool_calls == [], name
        sched_tools = {
            m["tool_call_id"]: m["content"] for m in s.conversation.messages if m["role"] == "tool"
        }
        assert json.loads(sched_tools["a_ops"]) == {"status": "cancelled"}
        assert "security done" in sched_tools["a_sec"]  # the finished branch keeps its result
        ops_msgs = s.subloops["ops"].conversation.messages
        assert json.loads(ops_msgs[-1]["content"]) == {"status": "cancelled"}

        # the next requests to every validating server are accepted
        srvs["scheduler"].push(
            reply(tool_calls=[tool_call("ask_ops", {"task": "pods again"})]), reply("all good")
        )
        srvs["ops"].push(reply("pods are fine now"))
        srvs["security"].push(reply("still fine"))
        events = await collect(s, "try again")
        events += await collect(s, "@security and now?")
        _no_rejections(srvs)
        assert of(events, Answer, "scheduler")[0].text == "all good"
        assert "still fine" in of(events, Answer, "scheduler")[1].text
        ops_req = srvs["ops"].requests[-1]["messages"]
        assert [m["role"] for m in ops_req][-3:] == ["assistant", "tool", "user"]


async def test_scheduler_model_failure_falls_back_to_keyword_routing():
    calls = Calls()
    with team_servers() as srvs:
        srvs["scheduler"].push(error(401, "Authentication Fails, Your api key is invalid"))
        settings = team_settings(srvs)
        sched_client = OpenAIModelClient(settings.model, api_key="test-key")
        OPEN_CLIENTS.append(sched_client)

        def factory(name: str):
            return sched_client if name == "scheduler" else OfflineSecurity(language="en")

        s = build_scheduler(factory, None, settings, registry=_registry(calls))
        events = await collect(s, "Scan the cluster for security issues")
    notice = [e for e in of(events, Notice, "scheduler") if "keyword" in e.text]
    assert notice and notice[0].level == "warning"
    assert [e.target for e in of(events, AgentDispatched)] == ["security"]
    answer = of(events, Answer, "scheduler")[0].text
    assert answer.startswith("Scheduler: routed to Security agent (model unavailable")
    assert "SecretInEnv" in answer and "DB_PASSWORD" in answer
    assert isinstance(s.terminal_event, RunFinished)
    assert s.conversation.messages[-1]["role"] == "assistant"


async def test_at_coder_skips_the_scheduler_model():
    calls = Calls()
    with team_servers() as srvs:
        srvs["coder"].push(reply("here is your manifest"))
        settings = team_settings(srvs)
        s = build_scheduler(model_factory(settings), None, settings, registry=_registry(calls))
        events = await collect(s, "@coder write a ConfigMap")
        _no_rejections(srvs)
        assert srvs["scheduler"].requests == []
        assert srvs["coder"].requests[0]["messages"][-1]["content"] == "write a ConfigMap"
    assert [e.target for e in of(events, AgentDispatched)] == ["coder"]
    assert "here is your manifest" in of(events, Answer, "scheduler")[0].text


async def test_coder_yaml_shown_without_validation_is_validated_by_the_scheduler():
    from opsconsole.team.coder import coder_tools

    with team_servers() as srvs:
        settings = team_settings(srvs)
        registry = ToolRegistry(coder_tools(None, settings, namespace="default"))
        srvs["coder"].push(
            reply(
                "Here you go:\n```yaml\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: web}\n"
                "dat: {a: b}\n```\n"
            )
        )
        s = build_scheduler(model_factory(settings), None, settings, registry=registry)
        events = await collect(s, "@coder write a configmap")
        _no_rejections(srvs)
    notes = of(events, Notice, "coder")
    assert notes and notes[0].level == "warning" and "dat: unknown field" in notes[0].text
    child = of(events, RunStarted, "coder")[0]
    assert notes[0].run_id == child.run_id
    answer = of(events, Answer, "scheduler")[0].text
    assert "[validated by the scheduler before showing]" in answer and "REJECTED" in answer
