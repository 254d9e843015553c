"""The provider's prompt cache (RELIABILITY A20, A21), through the real ``openai`` client and
the scripted server's prefix-cache accounting (tests/fakes/prefix_cache.py):

- within a conversation the prefix (system prompt + tools) is byte-identical from request to
  request and older messages are never rewritten, also after a tool error, a declined
  approval and a cancelled run; a namespace switch goes in the newest message; only a
  write-mode or model switch changes the prefix, and a PrefixChanged event says so;
- compaction is rare and in large steps, so its new prefix is reused afterwards;
- DeepSeek-shaped and OpenAI-shaped cache fields (streamed and not) reach UsageReported,
  RunFinished and the session file, priced at the cache-hit and cache-miss prices of the
  model's entry in the price table; no cache fields at all count as unknown, not zero.
"""

from __future__ import annotations

import asyncio
import contextlib
from typing import Any

import pytest

from opsconsole.agent.events import (
    Notice,
    PrefixChanged,
    RunCancelled,
    RunFinished,
    ToolCallFinished,
    ToolCallStarted,
    UsageReported,
)
from opsconsole.agent.loop import AgentLoop
from opsconsole.agent.pricing import cost_usd
from opsconsole.agent.tools import Tool
from opsconsole.sessions.reader import read_session
from opsconsole.sessions.recorder import SessionRecorder
from tests.agent.agentkit import (
    LOG_SCHEMA,
    POD_SCHEMA,
    ScriptedApprover,
    collect,
    make_loop,
    make_settings,
    make_tools,
    of,
)
from tests.fakes.openai_server import ScriptedOpenAIServer, reply, tool_call
from tests.fakes.prefix_cache import cacheable, render

PRICES = {"input_per_mtok": 2.0, "cached_input_per_mtok": 0.5, "output_per_mtok": 8.0}


def _prefix(body: dict[str, Any]) -> tuple[Any, Any]:
    return body["messages"][0], body.get("tools")


def assert_append_only(bodies: list[dict[str, Any]]) -> None:
    """Every request repeats the previous one's messages unchanged, then appends."""
    for i in range(1, len(bodies)):
        before, now = bodies[i - 1]["messages"], bodies[i]["messages"]
        assert now[: len(before)] == before, f"request {i} rewrote an older message"
        assert len(now) > len(before)


def _failing_tool() -> Tool:
    def broken(args: dict[str, Any]) -> str:
        raise RuntimeError("the metrics API is down")

    return Tool("get_metrics", "Pod metrics", POD_SCHEMA, broken, read_only=True)


async def test_prefix_is_identical_across_a_tool_error_a_declined_approval_and_a_cancel(calls):
    started = asyncio.Event()

    async def slow(args: dict[str, Any]) -> str:
        started.set()
        await asyncio.sleep(60)
        return "never"

    tools = [
        *make_tools(calls),
        _failing_tool(),
        Tool("tail_logs", "Follow a log", LOG_SCHEMA, slow, read_only=True),
    ]
    with ScriptedOpenAIServer(prefix_cache="deepseek") as srv:
        srv.push(
            reply("Metrics first.", tool_calls=[tool_call("get_metrics", {"namespace": "shop"})]),
            reply(
                "Deleting the stuck pod.",
                tool_calls=[tool_call("delete_pod", {"namespace": "shop", "pod_name": "web-1"})],
            ),
            reply("web-1 is stuck; you declined deleting it."),
            reply(tool_calls=[tool_call("tail_logs", {"namespace": "shop", "pod_name": "web-1"})]),
            reply(tool_calls=[tool_call("get_k8s_pods", {"namespace": "shop"})]),
            reply("All shop pods run."),
        )
        approver = ScriptedApprover("decline")
        loop = make_loop(srv, tools, write_mode=True, approver=approver)

        first = await collect(loop, "why is web-1 stuck?")
        statuses = [e.status for e in of(first, ToolCallFinished)]
        assert statuses == ["error", "declined"]
        assert of(first, RunFinished)

        async def run() -> None:
            async with contextlib.aclosing(loop.run("follow its log")) as events:
                async for ev in events:
                    if isinstance(ev, ToolCallStarted):
                        await started.wait()

        task = asyncio.ensure_future(run())
        await asyncio.wait_for(started.wait(), 10)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        assert isinstance(loop.terminal_event, RunCancelled)

        third = await collect(loop, "and the other pods?")
        assert of(third, RunFinished) and not of(third + first, PrefixChanged)

        bodies = srv.requests
        assert len(bodies) == 6 and srv.rejections == []
        assert len({repr(_prefix(b)) for b in bodies}) == 1  # system + tools: one value
        assert_append_only(bodies)
        # the cancelled call was answered "cancelled" and kept (A12): nothing was rewritten
        assert '"cancelled"' in bodies[4]["messages"][-2]["content"]
        # and a prefix cache serves every earlier request's whole prompt (64-token units)
        records = srv.cache.records
        assert records[0].hit_tokens == 0
        for i in range(1, len(bodies)):
            assert records[i].hit_tokens == cacheable(render(bodies[i - 1])) > 0


async def test_a_namespace_switch_goes_in_the_newest_message_not_the_system_prompt(srv, calls):
    srv.push(reply("ok"), reply("ok again"))
    loop = make_loop(srv, make_tools(calls), namespace="shop")
    await collect(loop, "list pods")
    loop.namespace = "payments"
    await collect(loop, "list pods")
    one, two = srv.requests
    assert (
        _prefix(one) == _prefix(two) and "default namespace: shop" in one["messages"][0]["content"]
    )
    assert_append_only([one, two])
    newest = two["messages"][-1]["content"]
    assert newest == (
        "<console-state>Current cluster context: -; default namespace: payments."
        "</console-state>\nlist pods"
    )
    # said once: the next question carries no note while nothing changes
    srv.push(reply("third"))
    await collect(loop, "and now?")
    assert srv.requests[2]["messages"][-1]["content"] == "and now?"


async def test_write_mode_and_model_switches_change_the_prefix_and_say_so(srv, calls):
    srv.push(reply("read-only answer"), reply("write answer"), reply("other model"))
    loop = make_loop(srv, make_tools(calls))
    assert not of(await collect(loop, "hi"), PrefixChanged)
    loop.set_write_mode(True)
    events = await collect(loop, "now with write mode")
    (changed,) = of(events, PrefixChanged)
    assert changed.reason == "write_mode" and "prompt cache starts over" in changed.text
    one, two = srv.requests[:2]
    assert "delete_pod" in str(two["tools"]) and "delete_pod" not in str(one["tools"])
    assert "WRITE mode" in two["messages"][0]["content"]
    assert two["messages"][1:-1] == one["messages"][1:] + [two["messages"][-2]]

    other = make_settings(srv.base_url, model={"name": "fake-model-2"})
    from opsconsole.agent.model import OpenAIModelClient

    loop.model = OpenAIModelClient(other.model, api_key="test-key")
    try:
        events = await collect(loop, "and with another model")
    finally:
        await loop.model.aclose()
    (changed,) = of(events, PrefixChanged)
    assert changed.reason == "model" and "fake-model-2" in changed.text
    assert _prefix(srv.requests[2]) == _prefix(two)  # same bytes; another model's cache


async def test_compaction_is_rare_and_in_large_steps_then_the_prefix_is_reused(calls):
    steps = 24
    with ScriptedOpenAIServer(prefix_cache="deepseek") as srv:
        for i in range(steps):
            srv.push(
                reply(
                    f"Reading log {i}.",
                    tool_calls=[tool_call("get_pod_logs", {"namespace": "a", "pod_name": f"p{i}"})],
                )
            )
        srv.push(reply("done"))
        settings = make_settings(
            srv.base_url,
            model={"context_window": 12_000},
            agent={"max_steps": steps + 1, "tool_output_tokens": 1000},
        )
        log = "\n".join(f"line {n}: upstream timed out" for n in range(200))
        loop = make_loop(srv, make_tools(calls, log_text=log), settings=settings)
        events = await collect(loop, "read every log")
        assert of(events, RunFinished) and srv.rejections == []
        bodies = srv.requests
        rewrites = [
            i
            for i in range(1, len(bodies))
            if bodies[i]["messages"][: len(bodies[i - 1]["messages"])] != bodies[i - 1]["messages"]
        ]
        compactions = [n for n in of(events, Notice) if "compacted" in n.text]
        assert rewrites and len(rewrites) == len(compactions) <= 3  # 25 requests, few rewrites
        # each compaction goes far below the limit: the next steps append again
        assert all(b - a >= 4 for a, b in zip(rewrites, rewrites[1:], strict=False))
        assert {repr(_prefix(b)) for b in bodies} == {repr(_prefix(bodies[0]))}
        hits = sum(r.hit_tokens for r in srv.cache.records)
        possible = sum(
            cacheable(render(bodies[i], len(bodies[i - 1]["messages"])))
            for i in range(1, len(bodies))
        )
        assert hits >= 0.9 * possible


def _shaped(shape: str, hit: int, prompt: int) -> dict[str, Any]:
    if shape == "deepseek":
        return {"prompt_cache_hit_tokens": hit, "prompt_cache_miss_tokens": prompt - hit}
    return {"prompt_tokens_details": {"cached_tokens": hit}}


@pytest.mark.parametrize("stream", [True, False], ids=["streamed", "not-streamed"])
@pytest.mark.parametrize("shape", ["deepseek", "openai"])
async def test_cache_fields_are_recorded_in_the_session_and_priced(tmp_path, calls, shape, stream):
    with ScriptedOpenAIServer(prefix_cache=shape) as srv:
        srv.push(
            reply(tool_calls=[tool_call("get_k8s_pods", {"namespace": "shop"})], usage=(0, 30)),
            reply("All running.", usage=(0, 12)),
        )
        settings = make_settings(
            srv.base_url, model={"stream": stream, "prices": {"fake-model": PRICES}}
        )
        loop = make_loop(srv, make_tools(calls), settings=settings)
        rec = SessionRecorder.create(tmp_path, model="fake-model")
        rec.track_transcript(loop.conversation.messages)
        async with contextlib.aclosing(loop.run("what runs in shop?")) as events:
            async for ev in events:
                rec.record(ev)
        rec.close()
        records = srv.cache.records

    assert records[1].hit_tokens > 0  # the second request reuses the first one's prefix
    session = read_session(rec.path)
    usage = [e for e in session.events if isinstance(e, UsageReported)]
    assert [(u.prompt_tokens, u.cache_hit_tokens, u.cache_miss_tokens) for u in usage] == [
        (r.prompt_tokens, r.hit_tokens, r.miss_tokens) for r in records
    ]
    last = usage[-1]
    assert last.total_cache_hit_tokens == sum(r.hit_tokens for r in records)
    assert last.total_cache_miss_tokens == sum(r.miss_tokens for r in records)
    assert last.total_cache_unknown_tokens == 0
    price = settings.model.price_for("fake-model")
    expected = sum(
        cost_usd(price, cache_hit=r.hit_tokens, cache_miss=r.miss_tokens, completion=c)
        for r, c in zip(records, (30, 12), strict=True)
    )
    assert last.cost_usd == pytest.approx(expected, abs=1e-6)
    assert expected < cost_usd(
        price, cache_miss=sum(r.prompt_tokens for r in records), completion=42
    )
    (finished,) = [e for e in session.events if isinstance(e, RunFinished)]
    assert finished.cache_hit_tokens == last.total_cache_hit_tokens
    assert finished.cost_usd == pytest.approx(expected, abs=1e-6)


@pytest.mark.parametrize("shape", ["deepseek", "openai"])
async def test_explicit_cache_fields_of_each_shape(srv, calls, shape):
    srv.push(reply("hi", usage=(1000, 10), usage_fields=_shaped(shape, 768, 1000)))
    loop = make_loop(srv, make_tools(calls))
    (usage,) = of(await collect(loop, "hello"), UsageReported)
    assert (usage.cache_hit_tokens, usage.cache_miss_tokens) == (768, 232)
    price = loop.settings.model.price  # fake-model has no entry: model.price
    assert usage.cost_usd == pytest.approx(
        (
            768 * price.cached_input_per_mtok
            + 232 * price.input_per_mtok
            + 10 * price.output_per_mtok
        )
        / 1e6,
        abs=1e-6,
    )


@pytest.mark.parametrize("stream", [True, False], ids=["streamed", "not-streamed"])
async def test_no_cache_fields_count_as_unknown_not_zero(srv, calls, stream):
    srv.push(reply("hi", usage=(1000, 10)))
    settings = make_settings(
        srv.base_url, model={"stream": stream, "prices": {"fake-model": PRICES}}
    )
    loop: AgentLoop = make_loop(srv, make_tools(calls), settings=settings)
    events = await collect(loop, "hello")
    (usage,) = of(events, UsageReported)
    assert usage.cache_hit_tokens is None and usage.cache_miss_tokens is None
    assert (usage.total_cache_hit_tokens, usage.total_cache_unknown_tokens) == (0, 1000)
    # unknown prompt tokens are priced as misses (an upper bound)
    assert usage.cost_usd == pytest.approx((1000 * 2.0 + 10 * 8.0) / 1e6)
    assert loop.total_cache.describe() == "cache unknown"
    (finished,) = of(events, RunFinished)
    assert finished.cache_unknown_tokens == 1000 and finished.cache_hit_tokens == 0


@pytest.mark.parametrize("shape", ["deepseek", None], ids=["deepseek", "no-cache-fields"])
def test_ask_prints_the_cache_share_or_that_it_is_unknown(monkeypatch, capsys, shape):
    import argparse
    import re

    from opsconsole import ask
    from opsconsole.config import Settings

    monkeypatch.setenv("OPSCONSOLE_TEST_ASK_KEY", "test-key")
    with ScriptedOpenAIServer(prefix_cache=shape) as srv:
        srv.push(
            reply(tool_calls=[tool_call("get_k8s_pods", {"namespace": "shop"})]),
            reply("checkout is in ImagePullBackOff."),
        )
        settings = Settings.from_data(
            {
                "model": {
                    "base_url": srv.base_url,
                    "name": "fake-model",
                    "api_key_env": "OPSCONSOLE_TEST_ASK_KEY",
                },
                "agent": {"language": "en"},
                "sessions": {"record": False},
            }
        )
        args = argparse.Namespace(
            task="what is wrong in shop?", demo=True, json=False, namespace=None,
            context=None, offline=False, kubeconfig=None, resume=None, multi_agent=False,
        )  # fmt: skip
        code = ask.run(args, settings)
        records = srv.cache.records
    out, err = capsys.readouterr()
    assert code == 0, err
    summary = out.strip().splitlines()[-1]
    if shape is None:
        assert "prompt cache unknown (the provider did not say)" in summary
        assert "0% of the prompt" not in summary
    else:
        hit = sum(r.hit_tokens for r in records)
        share = round(100 * hit / sum(r.prompt_tokens for r in records))
        assert f"{share}% of the prompt from the provider's cache" in summary
        assert share > 0
    assert re.search(r"~\$0\.\d{4}", summary)
