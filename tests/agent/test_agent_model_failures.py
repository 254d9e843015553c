"""RELIABILITY A1-A17: what the loop survives from the model API (real client, real HTTP)."""

from __future__ import annotations

import json
import time

from opsconsole.agent.events import (
    Answer,
    Notice,
    RetryScheduled,
    RunFailed,
    RunFinished,
    ToolCallFinished,
)
from tests.agent.agentkit import collect, make_loop, make_settings, make_tools, of
from tests.fakes.openai_server import Hang, ScriptedOpenAIServer, error, reply, tool_call


def _tool_contents(body: dict) -> list[str]:
    return [m["content"] for m in body["messages"] if m["role"] == "tool"]


async def test_a1_429_honours_retry_after_then_succeeds(srv, calls):
    srv.push(error(429, "Rate limit reached", headers={"Retry-After": "1"}), reply("ok"))
    loop = make_loop(srv, make_tools(calls))
    t0 = time.monotonic()
    events = await collect(loop, "hi")
    elapsed = time.monotonic() - t0
    retry = of(events, RetryScheduled)
    assert len(retry) == 1 and retry[0].wait >= 1.0 and retry[0].attempt == 1
    assert "429" in retry[0].reason
    assert elapsed >= 0.95  # it really waited for the server's Retry-After
    assert of(events, Answer)[0].text == "ok"
    kinds = [e.kind for e in events]
    assert kinds.index("retry_scheduled") < kinds.index("answer")


async def test_a1_429_retries_are_bounded(srv, calls):
    for _ in range(4):
        srv.push(error(429, "slow down", headers={"retry-after-ms": "10"}))
    events = await collect(make_loop(srv, make_tools(calls)), "hi")
    assert len(of(events, RetryScheduled)) == 3
    failed = of(events, RunFailed)[0]
    assert failed.error_type == "ModelRateLimited"
    assert len(srv.requests) == 4 and srv.remaining == 0


async def test_a2_500_backs_off_then_succeeds(srv, calls):
    srv.push(error(500, "internal"), error(503, "overloaded"), reply("recovered"))
    events = await collect(make_loop(srv, make_tools(calls)), "hi")
    waits = [e.wait for e in of(events, RetryScheduled)]
    assert len(waits) == 2 and all(w > 0 for w in waits)
    assert of(events, Answer)[0].text == "recovered"


async def test_a2_persistent_502_fails_once_without_half_messages(srv, calls):
    for _ in range(4):
        srv.push(error(502, "bad gateway"))
    loop = make_loop(srv, make_tools(calls))
    events = await collect(loop, "hi")
    assert len(of(events, RunFailed)) == 1 and len(srv.requests) == 4
    assert [m["role"] for m in loop.conversation.messages] == ["system", "user"]
    srv.push(reply("later"))
    events = await collect(loop, "again")
    assert of(events, Answer)[0].text == "later"
    assert srv.rejections == []


async def test_a3_401_and_402_are_not_retried(srv, calls):
    srv.push(error(401, "Authentication Fails", type="authentication_error"))
    events = await collect(make_loop(srv, make_tools(calls)), "hi")
    failed = of(events, RunFailed)[0]
    assert failed.error_type == "ModelAuthError"
    assert "OPSCONSOLE_TEST_FAKE_KEY" in (failed.hint or "")
    assert not of(events, RetryScheduled) and len(srv.requests) == 1

    srv.push(error(402, "Insufficient Balance", type="unknown_error"))
    events = await collect(make_loop(srv, make_tools(calls)), "hi")
    failed = of(events, RunFailed)[0]
    assert failed.error_type == "ModelBalanceError"
    assert "top up" in (failed.hint or "")
    assert len(srv.requests) == 2


async def test_a4_context_length_compacts_oldest_tool_output_and_retries_once(calls):
    big = "x" * 6000
    with ScriptedOpenAIServer(max_context_chars=11000) as srv:
        srv.push(
            reply(tool_calls=[tool_call("get_pod_logs", {"namespace": "a", "pod_name": "p1"})]),
            reply(tool_calls=[tool_call("get_pod_logs", {"namespace": "a", "pod_name": "p2"})]),
            reply("the logs are all x"),
        )
        settings = make_settings(srv.base_url, agent={"tool_output_tokens": 4000})
        loop = make_loop(srv, make_tools(calls, log_text=big), settings=settings)
        events = await collect(loop, "read logs")
        assert srv.rejections == []
        assert sum(1 for r in srv.log if r.context_length) == 1
        assert any("compacted" in n.text for n in of(events, Notice))
        assert of(events, Answer)[0].text == "the logs are all x"
        retried = srv.requests[-1]["messages"]
        tools = [m for m in retried if m["role"] == "tool"]
        assert tools[0]["content"].startswith("[compacted")  # oldest compacted
        assert tools[1]["content"] == big  # newest kept, pairing intact


async def test_a4_context_length_twice_reports_error(calls):
    with ScriptedOpenAIServer(max_context_chars=10) as srv:
        events = await collect(make_loop(srv, make_tools(calls)), "a long question")
        failed = of(events, RunFailed)[0]
        assert failed.error_type == "context_length"
        assert "maximum context length" in failed.error


async def test_a5_timeout_is_retried_then_reported(calls):
    with ScriptedOpenAIServer() as srv:
        srv.push(Hang(5), reply("after the hang"))
        settings = make_settings(
            srv.base_url, model={"timeout": {"connect": 2, "read": 0.3, "total": 5}}
        )
        events = await collect(make_loop(srv, make_tools(calls), settings=settings), "hi")
        retry = of(events, RetryScheduled)
        assert len(retry) == 1 and "timed out" in retry[0].reason
        assert of(events, Answer)[0].text == "after the hang"


async def test_a7_stream_cut_mid_tool_call_executes_nothing(calls):
    with ScriptedOpenAIServer(strict_alternation=True) as srv:
        srv.push(
            reply(
                "Deleting nothing, just reading",
                tool_calls=[tool_call("get_k8s_pods", {"namespace": "default"}, chunks=6)],
                cut_after=7,
            )
        )
        loop = make_loop(srv, make_tools(calls))
        events = await collect(loop, "pods?")
        assert calls.items == []
        failed = of(events, RunFailed)[0]
        assert failed.error_type == "stream_interrupted"
        assert any("not executed" in n.text for n in of(events, Notice))
        assert not of(events, ToolCallFinished)
        # the user can retry: the next request is valid (even for a strict-alternation API)
        srv.push(reply("3 pods running"))
        events = await collect(loop, "pods?")
        assert of(events, Answer)[0].text == "3 pods running"
        assert srv.rejections == []
        assert all("tool_calls" not in m for m in srv.requests[-1]["messages"])


async def test_a7_stream_cut_mid_text(srv, calls):
    srv.push(reply("The answer is long and gets cut", cut_after=3))
    events = await collect(make_loop(srv, make_tools(calls)), "q")
    assert of(events, RunFailed)[0].error_type == "stream_interrupted"
    assert not of(events, Answer)


async def test_a8_length_finish_with_open_tool_call_is_not_executed(srv, calls):
    srv.push(
        reply(
            tool_calls=[tool_call("get_k8s_pods", '{"namespace": "defa')],
            finish_reason="length",
        )
    )
    events = await collect(make_loop(srv, make_tools(calls)), "pods?")
    assert calls.items == []
    assert of(events, RunFailed)[0].error_type == "stream_interrupted"
    # non-streamed too
    srv.push(
        reply(tool_calls=[tool_call("get_k8s_pods", {"namespace": "x"})], finish_reason="length")
    )
    settings = make_settings(srv.base_url, model={"stream": False})
    events = await collect(make_loop(srv, make_tools(calls), settings=settings), "pods?")
    assert calls.items == []
    assert of(events, RunFailed)[0].error_type == "stream_interrupted"


async def test_a9_invalid_json_arguments_go_back_to_the_model(srv, calls):
    srv.push(
        reply(tool_calls=[tool_call("get_k8s_pods", '{"namespace: "default"}')]),
        reply(tool_calls=[tool_call("get_k8s_pods", {"namespace": "default"})]),
        reply("fixed"),
    )
    events = await collect(make_loop(srv, make_tools(calls)), "pods?")
    first = of(events, ToolCallFinished)[0]
    assert first.status == "error"
    assert json.loads(first.output)["error"].startswith("invalid JSON arguments:")
    assert calls.items == [("get_k8s_pods", {"namespace": "default"})]
    assert of(events, Answer)[0].text == "fixed"
    assert srv.rejections == []
    assert "invalid JSON arguments" in _tool_contents(srv.requests[1])[0]


async def test_a9_consecutive_invalid_calls_stop_the_turn(srv, calls):
    srv.push(
        reply(tool_calls=[tool_call("get_k8s_pods", '{"namespace": "a"} trailing')]),
        reply(tool_calls=[tool_call("execute_python", {"code": "1"})]),
        reply(tool_calls=[tool_call("execute_python", {"code": "1"})]),
    )
    loop = make_loop(srv, make_tools(calls))
    events = await collect(loop, "pods?")
    failed = of(events, RunFailed)[0]
    assert failed.error_type == "invalid_tool_calls"
    assert len(srv.requests) == 3 and srv.exhausted_requests == 0
    assert calls.items == []
    srv.push(reply("ok"))
    await collect(loop, "again")
    assert srv.rejections == []


async def test_a10_schema_violations_are_not_executed(srv, calls):
    srv.push(
        reply(
            tool_calls=[
                tool_call("get_k8s_pods", {"arguments": {"namespace": "default"}}),
                tool_call("get_pod_logs", {"namespace": "a", "pod_name": "p", "lines": "100"}),
                tool_call("get_pod_logs", {"namespace": "a"}),
            ]
        ),
        reply("ok"),
    )
    events = await collect(make_loop(srv, make_tools(calls)), "q")
    outs = [json.loads(e.output)["error"] for e in of(events, ToolCallFinished)]
    assert "unexpected argument(s) 'arguments'" in outs[0]
    assert "lines" in outs[1] and "integer" in outs[1]
    assert "pod_name" in outs[2] and "required" in outs[2]
    assert calls.items == []
    assert srv.rejections == []


async def test_a11_unknown_tool_lists_the_available_ones(srv, calls):
    srv.push(reply(tool_calls=[tool_call("execute_python", {"code": "print(1)"})]), reply("ok"))
    events = await collect(make_loop(srv, make_tools(calls)), "q")
    out = json.loads(of(events, ToolCallFinished)[0].output)["error"]
    assert out.startswith("unknown tool 'execute_python'; available: [get_k8s_pods, get_pod_logs")
    assert "delete_pod" not in out  # not offered in read-only mode
    assert of(events, Answer)[0].text == "ok"


async def test_a15_empty_response_ends_the_turn(srv, calls):
    srv.push(reply(""))
    events = await collect(make_loop(srv, make_tools(calls)), "q")
    assert any("empty response" in n.text for n in of(events, Notice))
    assert of(events, RunFailed)[0].error_type == "empty_response"
    assert len(srv.requests) == 1


async def test_a16_repeated_identical_calls_stop_the_turn(srv, calls):
    for _ in range(4):
        srv.push(reply(tool_calls=[tool_call("get_k8s_pods", {"namespace": "default"})]))
    loop = make_loop(srv, make_tools(calls))
    events = await collect(loop, "pods?")
    assert len(calls.items) == 3  # M = 3 executions, the 4th is refused
    assert of(events, RunFailed)[0].error_type == "loop_detected"
    assert "repeated call" in of(events, ToolCallFinished)[-1].output
    assert len(srv.requests) == 4 and srv.exhausted_requests == 0


async def test_a17_max_steps_stops_with_a_summary_and_no_more_calls(srv, calls):
    for i in range(3):
        srv.push(reply(f"step {i}", tool_calls=[tool_call("get_k8s_pods", {"namespace": f"n{i}"})]))
    settings = make_settings(srv.base_url, agent={"max_steps": 3})
    events = await collect(make_loop(srv, make_tools(calls), settings=settings), "q")
    failed = of(events, RunFailed)[0]
    assert failed.error_type == "max_steps"
    summary = of(events, Notice)[-1].text
    assert "get_k8s_pods x3" in summary and "step 2" in summary
    assert len(srv.requests) == 3 and srv.exhausted_requests == 0


async def test_a17_token_budget_stops_the_conversation(srv, calls):
    srv.push(reply(tool_calls=[tool_call("get_k8s_pods", {"namespace": "a"})], usage=(900, 200)))
    settings = make_settings(srv.base_url, agent={"token_budget": 1000})
    events = await collect(make_loop(srv, make_tools(calls), settings=settings), "q")
    assert of(events, RunFailed)[0].error_type == "token_budget"
    assert len(srv.requests) == 1


async def test_a17_spend_cap_stops_before_the_next_request(srv, calls):
    # default price: $0.27 / $1.10 per million tokens -> 900k + 200k tokens ~= $0.463
    srv.push(
        reply(tool_calls=[tool_call("get_k8s_pods", {"namespace": "a"})], usage=(900_000, 200_000))
    )
    settings = make_settings(srv.base_url, agent={"spend_cap_usd": 0.40, "token_budget": 10**7})
    events = await collect(make_loop(srv, make_tools(calls), settings=settings), "q")
    failed = of(events, RunFailed)[0]
    assert failed.error_type == "spend_cap" and "$0.40" in failed.error
    assert len(srv.requests) == 1


async def test_keep_alive_comments_are_tolerated(srv, calls):
    srv.push(reply("fine", keepalive=3))
    events = await collect(make_loop(srv, make_tools(calls)), "q")
    assert of(events, Answer)[0].text == "fine"
    assert of(events, RunFinished)


async def test_a19_keep_alive_stream_is_bounded_by_the_request_deadline(calls):
    with ScriptedOpenAIServer() as srv:
        # DeepSeek may hold a stream open with keep-alive comments instead of answering
        srv.push(reply("too late", keepalive=200, keepalive_interval=0.05), reply("on time"))
        settings = make_settings(
            srv.base_url, model={"timeout": {"connect": 2, "read": 10, "total": 0.6}}
        )
        events = await collect(make_loop(srv, make_tools(calls), settings=settings), "hi")
        retry = of(events, RetryScheduled)
        assert len(retry) == 1 and "within" in retry[0].reason
        assert of(events, Answer)[0].text == "on time"


async def test_transcript_near_the_context_window_is_compacted_before_sending(srv, calls):
    for i in range(3):
        srv.push(
            reply(tool_calls=[tool_call("get_pod_logs", {"namespace": "a", "pod_name": f"p{i}"})])
        )
    srv.push(reply("done"))
    settings = make_settings(
        srv.base_url, model={"context_window": 2000}, agent={"tool_output_tokens": 1000}
    )
    loop = make_loop(srv, make_tools(calls, log_text="y" * 3000), settings=settings)
    events = await collect(loop, "read three logs")
    assert any("compacted" in n.text for n in of(events, Notice))
    last = srv.requests[-1]["messages"]
    tools = [m["content"] for m in last if m["role"] == "tool"]
    assert tools[0].startswith("[compacted") and tools[-1] == "y" * 3000
    assert srv.rejections == []
    assert of(events, Answer)[0].text == "done"


async def test_server_refusing_stream_options_is_retried_without_them(calls):
    with ScriptedOpenAIServer(reject_stream_options=True) as srv:
        srv.push(reply("fine", usage=None))
        events = await collect(make_loop(srv, make_tools(calls)), "hi")
        assert of(events, Answer)[0].text == "fine"
        assert [("stream_options" in b) for b in srv.requests] == [True, False]


async def test_stream_cut_before_any_content_is_retried(srv, calls):
    srv.push(reply("never seen", cut_after=1), reply("second attempt"))
    events = await collect(make_loop(srv, make_tools(calls)), "q")
    assert len(of(events, RetryScheduled)) == 1
    assert of(events, Answer)[0].text == "second attempt"
