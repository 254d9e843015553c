"""The status bar's usage gauge: tokens, the prompt-cache share and the cost of the whole
conversation (every agent of a team summed), as the provider's ``usage`` reported them through
the scripted server's prefix-cache accounting; a provider that sends no cache fields shows
"cache unknown", never 0% (RELIABILITY A21)."""

from __future__ import annotations

from pathlib import Path

import pytest

from opsconsole.agent.pricing import cost_usd
from opsconsole.ui.factory import build_app
from tests.fakes.openai_server import ScriptedOpenAIServer, reply, tool_call

from .conftest import API_KEY_ENV, make_settings, wait_for

PRICE = {"input_per_mtok": 1.0, "cached_input_per_mtok": 0.25, "output_per_mtok": 4.0}


def _status(app: object) -> str:
    return str(app.main.status.render())  # type: ignore[attr-defined]


async def _ask(pilot, app, srv: ScriptedOpenAIServer, text: str, requests: int) -> None:  # noqa: ANN001
    """Send ``text``; return once the server has answered ``requests`` requests in all and
    the run is over."""
    app.main.chat.input.value = text
    await pilot.press("enter")
    done = lambda: len(srv.log) >= requests and not app.bridge.running  # noqa: E731
    await wait_for(pilot, done, 30, f"{requests} requests and the run's end")


@pytest.mark.parametrize("team", [False, True], ids=["one-agent", "team"])
async def test_the_gauge_shows_the_cache_share_and_its_price(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, team: bool
) -> None:
    monkeypatch.setenv(API_KEY_ENV, "sk-test")
    with ScriptedOpenAIServer(prefix_cache="deepseek") as srv:
        if team:  # scheduler -> ops -> scheduler, one request at a time on one server
            srv.push(
                reply(tool_calls=[tool_call("ask_ops", {"task": "list the shop pods"})]),
                reply(tool_calls=[tool_call("get_k8s_pods", {"namespace": "shop"})]),
                reply("ops: checkout is in ImagePullBackOff."),
                reply("checkout is in ImagePullBackOff (from the ops agent)."),
            )
        else:
            srv.push(
                reply(tool_calls=[tool_call("get_k8s_pods", {"namespace": "shop"})]),
                reply("checkout is in ImagePullBackOff."),
                reply(tool_calls=[tool_call("get_k8s_pods", {"namespace": "payments"})]),
                reply("payments is fine."),
            )
        settings = make_settings(tmp_path, base_url=srv.base_url)
        settings = settings.replace(
            model=settings.model.replace(prices={"fake-model": PRICE}, max_retries=0)
        )
        app = build_app(settings, demo=True, frozen=True, multi_agent=team)
        async with app.run_test(size=(160, 40)) as pilot:
            await wait_for(pilot, lambda: app.backend is not None, 30, "backend")
            await _ask(pilot, app, srv, "what is wrong in shop?", 4 if team else 2)
            if not team:
                await _ask(pilot, app, srv, "and payments?", 4)
            status = app.main.status
            records = srv.cache.records
            hit = sum(r.hit_tokens for r in records)
            prompt = sum(r.prompt_tokens for r in records)
            assert len(records) == 4 and srv.rejections == [] and hit > 0
            assert (status.cache_hit, status.cache_miss, status.cache_unknown) == (
                hit,
                prompt - hit,
                0,
            )
            assert status.tokens == prompt + 4 * 20  # every agent's requests, summed
            price = settings.model.price_for("fake-model")
            expected = cost_usd(price, cache_hit=hit, cache_miss=prompt - hit, completion=80)
            assert status.cost == pytest.approx(expected, abs=1e-6)
            text = _status(app)
            assert f"{round(100 * hit / prompt)}% cached" in text
            assert f"${expected:.4f}" in text


async def test_no_cache_fields_show_cache_unknown(tmp_path: Path, model_server) -> None:
    model_server.push(
        reply(tool_calls=[tool_call("get_k8s_pods", {"namespace": "shop"})]),
        reply("checkout is in ImagePullBackOff."),
    )
    app = build_app(make_settings(tmp_path, base_url=model_server.base_url), demo=True, frozen=True)
    async with app.run_test(size=(160, 40)) as pilot:
        await wait_for(pilot, lambda: app.backend is not None, 30, "backend")
        assert "cache" not in _status(app)  # nothing to say before the first request
        await _ask(pilot, app, model_server, "what is wrong in shop?", 2)
        status = app.main.status
        assert (status.cache_hit, status.cache_miss, status.cache_unknown) == (0, 0, 200)
        assert "cache unknown" in _status(app) and "% cached" not in _status(app)
        # a new conversation starts the gauge from zero
        app.main.chat.input.value = "/clear"
        await pilot.press("enter")
        await wait_for(pilot, lambda: status.tokens == 0, 10, "gauge reset")
        assert "cache" not in _status(app)


async def test_a_write_mode_switch_is_named_in_the_trace(tmp_path: Path, model_server) -> None:
    from .conftest import trace_text

    model_server.push(reply("read-only answer"), reply("write-mode answer"))
    app = build_app(make_settings(tmp_path, base_url=model_server.base_url), demo=True, frozen=True)
    async with app.run_test(size=(160, 40)) as pilot:
        await wait_for(pilot, lambda: app.backend is not None, 30, "backend")
        await _ask(pilot, app, model_server, "hello", 1)
        assert "prompt cache" not in trace_text(app)
        app.main.chat.input.value = "/write"
        await pilot.press("enter")
        await wait_for(pilot, lambda: app.main.status.write_mode, 10, "write mode")
        await _ask(pilot, app, model_server, "hello again", 2)
        assert "prompt cache: write mode on" in trace_text(app)
    one, two = model_server.requests
    assert one["messages"][0] != two["messages"][0] and one["tools"] != two["tools"]
