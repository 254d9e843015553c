"""One model turn cannot overflow the context window: at most
``agent.max_tool_calls_per_turn`` calls run (the rest are answered ``skipped``, every id still
gets its tool message: A12/S4), and the turn's results are shrunk so that the next request
fits ``model.context_window`` (older tool outputs compacted first, then this turn's results
cut to a fair share each). Real client, real HTTP, the scripted server validating pairing."""

from __future__ import annotations

import json
from typing import Any

from opsconsole.agent.events import Answer, Notice, RunFinished, ToolCallFinished
from opsconsole.agent.tools import Tool
from opsconsole.agent.transcript import estimate_tokens, message_tokens
from opsconsole.config import Settings
from tests.agent.agentkit import LOG_SCHEMA, collect, make_loop, make_settings, make_tools, of
from tests.fakes.openai_server import reply, tool_call
from tests.fakes.openai_validate import validate_chat_request


def _request_tokens(body: dict[str, Any]) -> int:
    """The project's estimate of a request: its messages and its tool definitions."""
    messages = sum(message_tokens(m) for m in body["messages"])
    return messages + estimate_tokens(json.dumps(body.get("tools") or [], ensure_ascii=False))


def _log_calls(n: int, prefix: str = "web") -> list[Any]:
    return [
        tool_call("get_pod_logs", {"namespace": "shop", "pod_name": f"{prefix}-{i}"}, id=f"c{i}")
        for i in range(n)
    ]


def _tools(body: dict[str, Any]) -> list[dict[str, Any]]:
    return [m for m in body["messages"] if m["role"] == "tool"]


async def test_200_parallel_calls_run_at_most_the_cap_and_the_next_request_fits(srv, calls):
    window = 32_000
    srv.push(reply("Reading every log.", tool_calls=_log_calls(200)), reply("done"))
    settings = make_settings(
        srv.base_url,
        model={"context_window": window},
        agent={"max_tool_calls_per_turn": 16},
    )
    loop = make_loop(srv, make_tools(calls, log_text="y" * 8000), settings=settings)
    events = await collect(loop, "read the logs of every web pod")

    assert [a["pod_name"] for _, a in calls.items] == [f"web-{i}" for i in range(16)]
    finished = of(events, ToolCallFinished)
    assert len(finished) == 200
    assert sorted(e.status for e in finished).count("ok") == 16
    skipped = [e for e in finished if e.status == "skipped"]
    assert len(skipped) == 184
    assert all("skipped: too many calls in one turn" in e.output for e in skipped)
    notices = " | ".join(n.text for n in of(events, Notice))
    assert "200 tool calls" in notices and "184" in notices

    assert len(srv.requests) == 2 and srv.rejections == []
    body = srv.requests[1]
    assert validate_chat_request(body) is None
    tools = _tools(body)
    assert [m["tool_call_id"] for m in tools] == [f"c{i}" for i in range(200)]  # pairing intact
    ran = tools[:16]
    assert all(m["content"].startswith("y" * 100) for m in ran)  # each kept a useful head
    assert all("skipped: too many calls in one turn" in m["content"] for m in tools[16:])
    assert _request_tokens(body) <= window
    assert of(events, Answer)[0].text == "done" and of(events, RunFinished)


async def test_without_a_cap_every_result_is_cut_to_a_fair_share_and_the_request_fits(srv, calls):
    window = 32_000
    srv.push(reply(tool_calls=_log_calls(200)), reply("done"))
    settings = make_settings(
        srv.base_url,
        model={"context_window": window},
        agent={"max_tool_calls_per_turn": 200},
    )
    loop = make_loop(srv, make_tools(calls, log_text="y" * 8000), settings=settings)
    events = await collect(loop, "read the logs of every web pod")

    assert len(calls.items) == 200
    assert srv.rejections == []
    body = srv.requests[1]
    tools = _tools(body)
    assert len(tools) == 200
    assert all(m["content"].startswith("y" * 100) for m in tools)
    assert all("[truncated: " in m["content"] for m in tools)  # the existing marker
    assert _request_tokens(body) <= window
    assert any("shortened" in n.text for n in of(events, Notice))
    assert of(events, Answer)[0].text == "done"


async def test_older_outputs_are_compacted_first_to_make_room_for_this_turn(srv):
    def logs(args: dict[str, Any]) -> str:
        return f"{args['pod_name']}:" + "y" * 7990

    tools = [Tool("get_pod_logs", "Pod logs", LOG_SCHEMA, logs, read_only=True)]
    window = 16_000
    srv.push(
        reply(tool_calls=_log_calls(4, "old")),
        reply(
            tool_calls=[
                tool_call(c.name, c.arguments, id=f"n{i}")
                for i, c in enumerate(_log_calls(8, "new"))
            ]
        ),
        reply("done"),
    )
    settings = make_settings(srv.base_url, model={"context_window": window})
    events = await collect(make_loop(srv, tools, settings=settings), "compare old and new")

    assert srv.rejections == []
    body = srv.requests[2]
    contents = [m["content"] for m in _tools(body)]
    old, new = contents[:4], contents[4:]
    assert old[0].startswith("[compacted")  # the oldest gave way first
    assert [c.split(":")[0] for c in new] == [f"new-{i}" for i in range(8)]
    assert all(estimate_tokens(c) >= 500 for c in new)  # the newest keep a real share
    assert _request_tokens(body) <= window
    assert of(events, Answer)[0].text == "done"


def test_the_cap_and_the_window_are_settings_with_safe_defaults():
    s = Settings()
    assert s.agent.max_tool_calls_per_turn == 16
    assert s.model.context_window == 64_000
    Settings.from_data({"agent": {"max_tool_calls_per_turn": 1}})


async def test_a_chinese_tool_result_is_cut_to_its_token_budget(srv):
    def logs(args: dict[str, Any]) -> str:
        return "错误：连接数据库超时\n" * 1000  # ~11 tokens a line by the estimator

    tools = [Tool("get_pod_logs", "Pod logs", LOG_SCHEMA, logs, read_only=True)]
    srv.push(reply(tool_calls=_log_calls(1)), reply("done"))
    settings = make_settings(srv.base_url, agent={"tool_output_tokens": 500})
    await collect(make_loop(srv, tools, settings=settings), "why?")
    sent = _tools(srv.requests[1])[0]["content"]
    assert sent.startswith("错误：连接数据库超时") and "[truncated: " in sent
    assert 400 <= estimate_tokens(sent) <= 500
