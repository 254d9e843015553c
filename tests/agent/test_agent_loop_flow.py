"""The loop's main path through the real openai client and the validating fake server."""

from __future__ import annotations

import asyncio
import json
import threading
from typing import Any

from opsconsole.agent.events import (
    Answer,
    RunFinished,
    RunStarted,
    StepStarted,
    TextDelta,
    Thought,
    ToolCallFinished,
    ToolCallStarted,
    UsageReported,
)
from opsconsole.agent.tools import Tool
from tests.agent.agentkit import (
    POD_SCHEMA,
    collect,
    kinds,
    make_loop,
    make_settings,
    make_tools,
    of,
)
from tests.fakes.openai_server import ScriptedOpenAIServer, reply, tool_call


async def test_tool_call_with_chunked_arguments_then_answer(srv, calls):
    srv.push(
        reply(
            "Let me list the pods.",
            tool_calls=[tool_call("get_k8s_pods", {"namespace": "default"}, chunks=7)],
        ),
        reply("All 3 pods in default are Running."),
    )
    loop = make_loop(srv, make_tools(calls))
    events = await collect(loop, "查看 default 命名空间下所有 Pod 的状态")

    assert srv.rejections == []
    assert calls.items == [("get_k8s_pods", {"namespace": "default"})]
    ks = kinds(events)
    assert ks[0] == "run_started" and ks[-1] == "run_finished"
    assert ks.count("step_started") == 2
    thought = of(events, Thought)[0]
    assert thought.text == "Let me list the pods."
    assert thought.tool_calls[0]["name"] == "get_k8s_pods"
    started = of(events, ToolCallStarted)[0]
    finished = of(events, ToolCallFinished)[0]
    assert started.tool_call_id == finished.tool_call_id == thought.tool_calls[0]["id"]
    assert started.arguments == {"namespace": "default"}
    assert finished.status == "ok" and "default/pod-0: Running" in finished.output
    assert of(events, Answer)[0].text == "All 3 pods in default are Running."
    assert "".join(e.text for e in of(events, TextDelta)).endswith("Running.")
    assert len({e.run_id for e in events}) == 1
    assert of(events, UsageReported)[-1].total_prompt_tokens == 200
    # the second request carries the assistant tool-call message and its tool result
    second = srv.requests[1]["messages"]
    assert [m["role"] for m in second] == ["system", "user", "assistant", "tool"]
    assert second[2]["tool_calls"][0]["function"]["arguments"] == '{"namespace": "default"}'
    assert second[3]["tool_call_id"] == second[2]["tool_calls"][0]["id"]
    # zh task -> zh system prompt (language auto), with the seed's four steps
    loop_zh = make_loop(
        srv, make_tools(calls), settings=make_settings(srv.base_url, agent={"language": "auto"})
    )
    srv.push(reply("好的"))
    await collect(loop_zh, "查看 default 命名空间下所有 Pod 的状态")
    system = srv.requests[-1]["messages"][0]["content"]
    for step in (
        "分析用户请求",
        "调用合适的工具",
        "根据结果判断是否需要继续操作",
        "完成后给出总结",
    ):
        assert step in system
    assert "get_k8s_pods" in system and "get_pod_logs" in system


async def test_follow_up_continues_the_conversation(srv, calls):
    srv.push(
        reply(tool_calls=[tool_call("get_k8s_pods", {"namespace": "shop"})]),
        reply("shop has 3 pods."),
        reply(tool_calls=[tool_call("get_pod_logs", {"namespace": "shop", "pod_name": "pod-0"})]),
        reply("pod-0 logs look fine."),
    )
    loop = make_loop(srv, make_tools(calls))
    first = await collect(loop, "pods in shop?")
    second = await collect(loop, "and the logs of pod-0?")
    assert srv.rejections == []
    assert of(first, Answer)[0].text == "shop has 3 pods."
    assert of(second, Answer)[0].text == "pod-0 logs look fine."
    assert first[0].run_id != second[0].run_id
    roles = [m["role"] for m in srv.requests[3]["messages"]]
    assert roles == [
        "system",
        "user",
        "assistant",
        "tool",
        "assistant",
        "user",
        "assistant",
        "tool",
    ]
    assert srv.requests[3]["messages"][4]["content"] == "shop has 3 pods."
    assert calls.names() == ["get_k8s_pods", "get_pod_logs"]


async def test_independent_calls_run_concurrently_and_answer_in_call_order(srv, calls):
    # each call waits until all three are inside their handlers: sequential execution
    # would break the barrier (BrokenBarrierError -> error observations)
    barrier = threading.Barrier(3, timeout=30)  # generous: a loaded machine starts threads late

    def wait_all(args: dict[str, Any]) -> str:
        barrier.wait()
        return f"checked {args['namespace']}"

    tools = [Tool("check_ns", "check", POD_SCHEMA, wait_all, read_only=True)]
    srv.push(
        reply(
            tool_calls=[
                tool_call("check_ns", {"namespace": "a"}, id="call_a"),
                tool_call("check_ns", {"namespace": "b"}, id="call_b"),
                tool_call("check_ns", {"namespace": "c"}, id="call_c"),
            ]
        ),
        reply("done"),
    )
    loop = make_loop(srv, tools)
    events = await collect(loop, "check three namespaces")
    assert [e.status for e in of(events, ToolCallFinished)] == ["ok", "ok", "ok"]
    tool_msgs = [m for m in srv.requests[1]["messages"] if m["role"] == "tool"]
    assert [m["tool_call_id"] for m in tool_msgs] == ["call_a", "call_b", "call_c"]
    assert [m["content"] for m in tool_msgs] == ["checked a", "checked b", "checked c"]
    assert srv.rejections == []


async def test_async_handlers_run_concurrently_too(srv):
    gate = asyncio.Barrier(2)

    async def wait_pair(args: dict[str, Any]) -> str:
        async with asyncio.timeout(5):
            await gate.wait()
        return "ok " + args["namespace"]

    tools = [Tool("pair", "pair", POD_SCHEMA, wait_pair, read_only=True)]
    srv.push(
        reply(
            tool_calls=[
                tool_call("pair", {"namespace": "x"}),
                tool_call("pair", {"namespace": "y"}),
            ]
        ),
        reply("both ok"),
    )
    events = await collect(make_loop(srv, tools), "pair")
    assert [e.status for e in of(events, ToolCallFinished)] == ["ok", "ok"]
    assert of(events, Answer)[0].text == "both ok"


async def test_reasoning_content_passed_back_when_enabled():
    with ScriptedOpenAIServer(require_reasoning_passback=True) as srv:
        srv.push(
            reply(
                reasoning="I should list pods.",
                tool_calls=[tool_call("get_k8s_pods", {"namespace": "default"})],
            ),
            reply(
                reasoning="Now the logs.",
                tool_calls=[
                    tool_call("get_pod_logs", {"namespace": "default", "pod_name": "pod-0"})
                ],
            ),
            reply("Everything is fine.", reasoning="Done."),
        )
        settings = make_settings(srv.base_url, model={"reasoning_passback": True})
        from tests.agent.agentkit import Calls

        loop = make_loop(srv, make_tools(Calls()), settings=settings)
        events = await collect(loop, "check default")
        assert srv.rejections == []
        assert of(events, Answer)[0].text == "Everything is fine."
        assert of(events, Thought)[0].reasoning == "I should list pods."
        third = srv.requests[2]["messages"]
        with_calls = [m for m in third if m["role"] == "assistant" and m.get("tool_calls")]
        assert [m["reasoning_content"] for m in with_calls] == [
            "I should list pods.",
            "Now the logs.",
        ]


async def test_reasoning_content_stripped_when_disabled():
    with ScriptedOpenAIServer(reject_reasoning_content=True) as srv:
        srv.push(
            reply(
                reasoning="thinking",
                tool_calls=[tool_call("get_k8s_pods", {"namespace": "default"})],
            ),
            reply("fine", reasoning="more thinking"),
            reply("follow-up answer"),
        )
        from tests.agent.agentkit import Calls

        loop = make_loop(srv, make_tools(Calls()))
        await collect(loop, "check default")
        events = await collect(loop, "anything else?")
        assert srv.rejections == []
        assert of(events, Answer)[0].text == "follow-up answer"
        for body in srv.requests:
            assert all("reasoning_content" not in m for m in body["messages"])


async def test_non_streaming_mode(srv, calls):
    srv.push(
        reply(tool_calls=[tool_call("get_k8s_pods", {"namespace": "default"})]),
        reply("3 pods."),
    )
    settings = make_settings(srv.base_url, model={"stream": False})
    events = await collect(make_loop(srv, make_tools(calls), settings=settings), "pods?")
    assert srv.rejections == []
    assert all(not body.get("stream") for body in srv.requests)
    assert of(events, Answer)[0].text == "3 pods."
    assert calls.names() == ["get_k8s_pods"]
    assert not of(events, TextDelta)


async def test_empty_content_and_empty_arguments_serialised_as_strings(srv):
    tools = [
        Tool("ping", "ping", {"type": "object", "properties": {}}, lambda a: "pong", read_only=True)
    ]
    srv.push(reply(tool_calls=[tool_call("ping", "")]), reply("pong received"))
    events = await collect(make_loop(srv, tools), "ping")
    assert srv.rejections == []
    assistant = srv.requests[1]["messages"][2]
    assert assistant["content"] == ""  # A14: "" (or null), never []
    assert assistant["tool_calls"][0]["function"]["arguments"] == "{}"
    assert of(events, ToolCallFinished)[0].output == "pong"


async def test_usage_missing_is_estimated_and_cost_reported(srv, calls):
    srv.push(reply("hello", usage=None))
    events = await collect(make_loop(srv, make_tools(calls)), "hi")
    usage = of(events, UsageReported)[0]
    assert usage.prompt_tokens > 0 and usage.completion_tokens > 0
    assert usage.cost_usd > 0
    fin = of(events, RunFinished)[0]
    assert fin.steps == 1


async def test_event_stream_shape(srv, calls):
    srv.push(reply("just an answer"))
    events = await collect(make_loop(srv, make_tools(calls)), "hi")
    assert isinstance(events[0], RunStarted) and isinstance(events[1], StepStarted)
    assert events[0].model == "fake-model" and events[0].offline is False
    assert kinds(events)[-2:] == ["answer", "run_finished"]
    assert json.loads(json.dumps([e.to_dict() for e in events]))


async def test_tool_errors_timeouts_and_huge_output_become_observations(srv):
    from opsconsole.errors import NotFound

    async def hangs(args: dict[str, Any]) -> str:
        await asyncio.sleep(30)
        return "never"

    def raises(args: dict[str, Any]) -> str:
        raise ValueError("boom")

    def not_found(args: dict[str, Any]) -> str:
        raise NotFound("not found: pod/x in a")

    def huge(args: dict[str, Any]) -> str:
        return "z" * 100_000

    tools = [
        Tool("hangs", "h", POD_SCHEMA, hangs, read_only=True, timeout=0.2),
        Tool("raises", "r", POD_SCHEMA, raises, read_only=True),
        Tool("not_found", "n", POD_SCHEMA, not_found, read_only=True),
        Tool("huge", "z", POD_SCHEMA, huge, read_only=True),
    ]
    srv.push(
        reply(
            tool_calls=[
                tool_call(n, {"namespace": "a"}) for n in ("hangs", "raises", "not_found", "huge")
            ]
        ),
        reply("some tools failed"),
    )
    settings = make_settings(srv.base_url, agent={"tool_output_tokens": 500})
    events = await collect(make_loop(srv, tools, settings=settings), "q")
    fin = {e.tool: e for e in of(events, ToolCallFinished)}
    assert "timed out after 0.2s" in fin["hangs"].output and fin["hangs"].status == "error"
    assert "tool failed: ValueError: boom" in fin["raises"].output
    assert json.loads(fin["not_found"].output) == {"error": "not found: pod/x in a"}
    assert fin["huge"].status == "ok" and len(fin["huge"].output) < 2100
    assert "[truncated: " in fin["huge"].output
    assert "Traceback" not in json.dumps([e.to_dict() for e in events])
    assert of(events, Answer)[0].text == "some tools failed"
    assert srv.rejections == []
