"""A stream that ends early (A7): the body ends cleanly but without a finish_reason and
without [DONE]. Through the loop (real client, real HTTP) and through ``ask`` as a
subprocess: the partial reply is never an answer and partial tool calls never run.

The OpenAI SDK ends its stream iterator at [DONE] *or* at the end of the body, without an
error either way, so a missing [DONE] alone is not a broken reply: the finish_reason (sent in
the last choice chunk by OpenAI, DeepSeek, vLLM, Ollama, llama.cpp) is what says the reply
is complete."""

from __future__ import annotations

import json
from pathlib import Path

from opsconsole.agent.events import (
    Answer,
    Notice,
    RetryScheduled,
    RunFailed,
    RunFinished,
    TextDelta,
    ToolCallFinished,
    ToolCallStarted,
)
from opsconsole.agent.transcript import INTERRUPTED_MARK
from opsconsole.sessions.index import summarize
from opsconsole.sessions.reader import read_session
from tests.agent.agentkit import collect, make_loop, make_tools, of
from tests.fakes.cli import run_cli
from tests.fakes.openai_server import ScriptedOpenAIServer, reply, tool_call

KEY_ENV = "OPSCONSOLE_TEST_TRUNC_KEY"


async def test_a_partial_text_without_finish_reason_is_interrupted_not_an_answer(calls):
    with ScriptedOpenAIServer(strict_alternation=True) as srv:
        # events: the role chunk, "The answ", "er is lo" -- then the body just ends
        srv.push(reply("The answer is long and gets cut", end_after=3))
        loop = make_loop(srv, make_tools(calls))
        events = await collect(loop, "why?")
        shown = "".join(e.text for e in of(events, TextDelta))
        assert shown == "The answer is lo"  # it was on the screen while streaming
        assert not of(events, Answer) and not of(events, RunFinished)
        failed = of(events, RunFailed)[0]
        assert failed.error_type == "stream_interrupted"
        assert "finish_reason" in failed.error and failed.hint
        notice = of(events, Notice)[-1]
        assert notice.level == "warning" and "interrupted" in notice.text
        assert not of(events, RetryScheduled)  # text was shown: never silently replaced
        last = loop.conversation.messages[-1]
        assert last["role"] == "assistant" and last.get("interrupted") is True
        assert last["content"].startswith("The answer is lo")
        assert INTERRUPTED_MARK in last["content"] and "tool_calls" not in last
        # the user retries: the request is valid, and the partial reply is context, marked
        srv.push(reply("The answer is short."))
        events = await collect(loop, "why?")
        assert of(events, Answer)[0].text == "The answer is short."
        assert srv.rejections == []
        sent = srv.requests[-1]["messages"]
        assert [m["role"] for m in sent[-3:]] == ["user", "assistant", "user"]
        assert "interrupted" not in sent[-2] and INTERRUPTED_MARK in sent[-2]["content"]


async def test_b_finish_reason_without_done_is_a_complete_reply(srv, calls):
    srv.push(
        reply(tool_calls=[tool_call("get_k8s_pods", {"namespace": "default"})], no_done=True),
        reply("All three pods are running.", no_done=True),
    )
    events = await collect(make_loop(srv, make_tools(calls)), "pods?")
    assert calls.names() == ["get_k8s_pods"]
    assert of(events, Answer)[0].text == "All three pods are running."
    assert of(events, RunFinished) and not of(events, RunFailed)
    assert srv.rejections == []


async def test_c_partial_tool_call_deltas_are_not_executed(calls):
    with ScriptedOpenAIServer(strict_alternation=True) as srv:
        # role, "Reading pods", the call's name, 2 of its 6 argument pieces -- then the end
        srv.push(
            reply(
                "Reading pods",
                tool_calls=[tool_call("get_k8s_pods", {"namespace": "default"}, chunks=6)],
                chunk_size=50,
                end_after=5,
            )
        )
        loop = make_loop(srv, make_tools(calls))
        events = await collect(loop, "pods?")
        assert calls.items == []
        assert not of(events, ToolCallStarted) and not of(events, ToolCallFinished)
        failed = of(events, RunFailed)[0]
        assert failed.error_type == "stream_interrupted"
        assert any("1 partial tool call(s) not executed" in n.text for n in of(events, Notice))
        last = loop.conversation.messages[-1]
        assert last["role"] == "assistant" and last.get("interrupted") is True
        assert "tool_calls" not in last and last["content"].startswith("Reading pods")
        srv.push(reply("3 pods running"))
        events = await collect(loop, "pods?")
        assert of(events, Answer)[0].text == "3 pods running"
        assert srv.rejections == []
        assert all("tool_calls" not in m for m in srv.requests[-1]["messages"])


async def test_stream_ending_before_anything_was_shown_is_retried(srv, calls):
    srv.push(reply("never seen", end_after=1), reply("second attempt"))  # only the role chunk
    events = await collect(make_loop(srv, make_tools(calls)), "q")
    retry = of(events, RetryScheduled)
    assert len(retry) == 1 and "ended" in retry[0].reason
    assert of(events, Answer)[0].text == "second attempt"


def _ask(tmp_path: Path, srv: ScriptedOpenAIServer, task: str):
    return run_cli(
        tmp_path,
        "ask",
        "--demo",
        "--base-url",
        srv.base_url,
        "--model",
        "fake-model",
        task,
        env_extra={KEY_ENV: "test-key", "OPSCONSOLE_MODEL__API_KEY_ENV": KEY_ENV, "NO_COLOR": "1"},
    )


def _session(tmp_path: Path):
    files = list((tmp_path / "data" / "sessions").glob("*.jsonl"))
    assert len(files) == 1
    return read_session(files[0])


def test_ask_a_partial_text_exits_1_with_a_notice_and_records_it_interrupted(tmp_path):
    with ScriptedOpenAIServer() as srv:
        srv.push(reply("The default namespace looks hea", end_after=4))
        proc = _ask(tmp_path, srv, "is default healthy?")
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert "Answer:" not in proc.stdout
    assert "Note: the model's reply was interrupted" in proc.stdout
    assert "Error: the model stream ended before the reply was complete" in proc.stderr
    assert "Traceback" not in proc.stdout + proc.stderr
    session = _session(tmp_path)
    last = session.messages[-1]
    assert last["role"] == "assistant" and last.get("interrupted") is True
    assert last["content"].startswith("The default namespace lo")
    failed = [e for e in session.events if isinstance(e, RunFailed)]
    assert [e.error_type for e in failed] == ["stream_interrupted"]
    assert summarize(session).outcome == "failed"


def test_ask_partial_tool_call_exits_1_and_runs_nothing(tmp_path):
    with ScriptedOpenAIServer() as srv:
        srv.push(
            reply(
                tool_calls=[tool_call("get_k8s_pods", {"namespace": "default"}, chunks=6)],
                end_after=3,
            )
        )
        proc = _ask(tmp_path, srv, "pods in default?")
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert "Action:" not in proc.stdout and "Observation" not in proc.stdout
    assert "1 partial tool call(s) not executed" in proc.stdout
    assert "Traceback" not in proc.stdout + proc.stderr
    session = _session(tmp_path)
    assert not any(m["role"] == "tool" or m.get("tool_calls") for m in session.messages)
    assert session.messages[-1].get("interrupted") is True
    assert not [e for e in session.events if isinstance(e, ToolCallStarted)]
    assert json.loads(json.dumps(session.messages))  # plain JSON, nothing odd recorded
