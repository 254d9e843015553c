"""The scripted server must refuse what the real APIs refuse, or the loop tests prove nothing;
and the events must round-trip through JSON."""

from __future__ import annotations

import json

import httpx
import pytest

from opsconsole.agent.events import EVENT_TYPES, AgentEvent, event_from_dict
from opsconsole.agent.transcript import Conversation
from tests.fakes.openai_server import (
    ScriptedOpenAIServer,
    error,
    reply,
    tool_call,
    validate_chat_request,
)

CALL = {"id": "c1", "type": "function", "function": {"name": "f", "arguments": "{}"}}


def body(*messages, **extra):
    return {"model": "m", "messages": list(messages), **extra}


U = {"role": "user", "content": "hi"}
A_CALL = {"role": "assistant", "content": "", "tool_calls": [CALL]}
T = {"role": "tool", "tool_call_id": "c1", "content": "ok"}


@pytest.mark.parametrize(
    ("request_body", "needle"),
    [
        (body(U, A_CALL), "insufficient tool messages"),
        (body(U, A_CALL, U), "did not have response messages: c1"),
        (body(U, T), "must be a response to a preceding"),
        (body(U, A_CALL, T, T), "must be a response to a preceding"),
        (body(U, {"role": "assistant", "content": [], "tool_calls": [CALL]}, T), "array"),
        (body(U, {"role": "assistant", "content": "", "tool_calls": []}), "empty array"),
        (
            body(
                U,
                {
                    "role": "assistant",
                    "content": "",
                    "tool_calls": [{**CALL, "function": {"name": "f", "arguments": {}}}],
                },
                T,
            ),
            "arguments': expected a string",
        ),
        (body({"role": "robot", "content": "x"}), "Supported values"),
        (body({"role": "user", "content": None}), "content"),
        (body(U, {"role": "assistant"}), "needs 'content' or 'tool_calls'"),
        (body(U, stream_options={"include_usage": True}), "only allowed when 'stream'"),
        (body(U, tools=[{"type": "function", "function": {"name": "bad name"}}]), "pattern"),
        ({"messages": [U]}, "model"),
    ],
)
def test_validator_refuses_broken_transcripts(request_body, needle):
    problem = validate_chat_request(request_body)
    assert problem is not None and needle in problem


def test_validator_accepts_valid_transcripts_and_applies_flags():
    ok = body(
        {"role": "system", "content": "s"},
        U,
        A_CALL,
        T,
        {"role": "assistant", "content": "done"},
        U,
    )
    assert validate_chat_request(ok) is None
    assert validate_chat_request(body(U, {**A_CALL, "content": None}, T)) is None
    assert "reasoning_content" in validate_chat_request(ok, require_reasoning_passback=True)
    with_rc = body(U, {**A_CALL, "reasoning_content": "r"}, T)
    assert validate_chat_request(with_rc, require_reasoning_passback=True) is None
    assert "reasoning_content" in validate_chat_request(with_rc, reject_reasoning_content=True)
    assert "successive" in validate_chat_request(body(U, U), strict_alternation=True)


def test_conversation_repair_always_yields_valid_requests():
    conv = Conversation()
    conv.set_system("s")
    conv.add_user("q")
    conv.open_batch("", "", [("a", "f", ""), ("b", "f", "{}"), ("c", "f", "{}")])
    conv.set_result("a", "result a")
    assert conv.repair() == ["b", "c"]
    assert conv.repair() == []
    msgs = conv.for_request(reasoning_passback=False)
    assert validate_chat_request(body(*msgs)) is None
    assert [m.get("content") for m in msgs[-3:]] == [
        "result a",
        '{"status":"cancelled"}',
        '{"status":"cancelled"}',
    ]
    assert msgs[2]["tool_calls"][0]["function"]["arguments"] == "{}"
    conv.add_user("again")
    conv.add_user("and again")  # a placeholder keeps user/assistant alternation
    msgs = conv.for_request(reasoning_passback=False)
    assert validate_chat_request(body(*msgs), strict_alternation=True) is None
    # a resumed transcript that ends in unanswered tool calls (P6)
    resumed = Conversation(msgs[:3])
    assert [m["content"] for m in resumed.messages[3:]] == ['{"status":"interrupted"}'] * 3
    assert validate_chat_request(body(*resumed.for_request(reasoning_passback=False))) is None


def test_server_streams_scripts_and_records_requests():
    with ScriptedOpenAIServer() as srv:
        srv.push(
            reply("hello", tool_calls=[tool_call("f", {"a": 1}, id="x", chunks=3)]),
            error(429, "slow", headers={"Retry-After": "3"}),
        )
        url = f"{srv.base_url}/chat/completions"
        with httpx.stream("POST", url, json=body(U, stream=True)) as r:
            lines = [ln for ln in r.iter_lines() if ln.startswith("data: ")]
        assert lines[-1] == "data: [DONE]"
        chunks = [json.loads(ln[6:]) for ln in lines[:-1]]
        args = "".join(
            tc["function"].get("arguments", "")
            for c in chunks
            for ch in c["choices"]
            for tc in ch["delta"].get("tool_calls", [])
        )
        assert json.loads(args) == {"a": 1}
        r2 = httpx.post(url, json=body(U))
        assert r2.status_code == 429 and r2.headers["retry-after"] == "3"
        r3 = httpx.post(url, json=body(U, A_CALL))
        assert r3.status_code == 400 and "insufficient tool messages" in r3.text
        r4 = httpx.post(url, json=body(U))
        assert r4.status_code == 400 and "script exhausted" in r4.text
        assert len(srv.requests) == 4
        assert srv.rejections == [r3.json()["error"]["message"]]
        assert srv.exhausted_requests == 1


def _sample(cls: type[AgentEvent]) -> AgentEvent:
    import dataclasses

    values = {"str": "x", "int": 3, "float": 1.5, "bool": True}
    kwargs = {"run_id": "r1", "agent": "ops", "step": 2}
    for f in dataclasses.fields(cls):
        if f.name in kwargs or f.name == "ts":
            continue
        if f.default is not dataclasses.MISSING or f.default_factory is not dataclasses.MISSING:
            continue
        t = str(f.type)
        if "dict" in t:
            kwargs[f.name] = {"k": [1, "v"]}
        elif "Literal" in t or "ToolStatus" in t:
            kwargs[f.name] = "ok" if "ToolStatus" in t else "approve"
        else:
            kwargs[f.name] = values.get(t.split(" ")[0], "x")
    return cls(**kwargs)


@pytest.mark.parametrize("cls", list(EVENT_TYPES.values()), ids=list(EVENT_TYPES))
def test_every_event_round_trips_through_json(cls):
    ev = _sample(cls)
    back = event_from_dict(json.loads(json.dumps(ev.to_dict())))
    assert back == ev and type(back) is cls
    assert back.run_id == "r1" and back.step == 2


def test_thought_with_tool_calls_round_trips():
    from opsconsole.agent.events import Thought

    ev = Thought(
        run_id="r",
        text="t",
        reasoning="r",
        tool_calls=[{"id": "c", "name": "f", "arguments": "{}"}],
    )
    assert event_from_dict(json.loads(json.dumps(ev.to_dict()))) == ev
    with pytest.raises(ValueError):
        event_from_dict({"type": "nope"})


def test_prefix_cache_serves_the_longest_shared_prefix_in_64_token_units():
    from tests.fakes.prefix_cache import UNIT_CHARS, UNIT_TOKENS, PrefixCache, render, tokens

    system = {"role": "system", "content": "s" * (3 * UNIT_CHARS)}
    first = body(system, U)
    longer = body(system, U, {"role": "assistant", "content": "a" * UNIT_CHARS}, U)
    changed = body({"role": "system", "content": "x" + system["content"][1:]}, U)
    cache = PrefixCache()
    one, two, three, again = (cache.account(b) for b in (first, longer, changed, longer))
    assert one.hit_tokens == 0 and one.prompt_tokens == tokens(render(first))
    # everything the first request sent, cut to whole units
    assert two.hit_tokens == len(render(first)) // UNIT_CHARS * UNIT_TOKENS > 0
    assert two.miss_tokens == two.prompt_tokens - two.hit_tokens
    assert three.hit_tokens == 0  # the first byte differs: nothing is shared
    assert again.hit_tokens == len(render(longer)) // UNIT_CHARS * UNIT_TOKENS


@pytest.mark.parametrize("stream", [True, False])
@pytest.mark.parametrize(
    ("shape", "fields"),
    [("deepseek", {"prompt_cache_hit_tokens", "prompt_cache_miss_tokens"}),
     ("openai", {"prompt_tokens_details"})],
)  # fmt: skip
def test_prefix_cache_usage_shapes(shape, fields, stream):
    with ScriptedOpenAIServer(prefix_cache=shape) as srv:
        srv.push(reply("a"), reply("b"))
        long = {"role": "system", "content": "s" * 2000}
        for _ in range(2):
            extra = {"stream": True, "stream_options": {"include_usage": True}} if stream else {}
            payload = body(long, U, **extra)
            r = httpx.post(f"{srv.base_url}/chat/completions", json=payload, timeout=10)
            lines = [x for x in r.text.splitlines() if x.startswith("data: {")]
            usage = (json.loads(lines[-1][6:]) if stream else r.json())["usage"]
        records = srv.cache.records
    assert fields <= set(usage)
    assert usage["prompt_tokens"] == records[1].prompt_tokens
    hit = usage.get(
        "prompt_cache_hit_tokens", (usage.get("prompt_tokens_details") or {}).get("cached_tokens")
    )
    assert hit == records[1].hit_tokens > 0
