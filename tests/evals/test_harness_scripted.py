"""The harness against a model: the scripted OpenAI-compatible server on loopback, through the
real openai client, the real agent loop, the real k8s tools and a fresh sandbox per scenario.

- a wrong answer is not counted as a pass (and the right one is, so the check can fail);
- a fix task is judged on the cluster: claiming "I scaled it" without the tool fails, calling
  scale_deployment (approved by the harness) passes.
"""

from __future__ import annotations

from typing import Any

from opsconsole.config import Settings
from opsconsole.evals.harness import ModelSpec, run_scenario
from opsconsole.evals.scenario import Scenario, builtin_scenarios, select
from tests.evals.conftest import FAKE_KEY_ENV
from tests.fakes.openai_server import ScriptedOpenAIServer, reply, tool_call


def _settings(srv: ScriptedOpenAIServer) -> Settings:
    return Settings.from_data(
        {
            "model": {
                "base_url": srv.base_url,
                "name": "fake-model",
                "api_key_env": FAKE_KEY_ENV,
                "max_retries": 0,
                "timeout": {"connect": 5, "read": 10, "total": 20},
            }
        }
    )


def _scenario(name: str) -> Scenario:
    return select(builtin_scenarios(), [name])[0]


async def _run(srv: ScriptedOpenAIServer, name: str, lang: str = "en") -> Any:
    settings = _settings(srv)
    spec = ModelSpec.from_settings(settings, offline=False)
    assert not spec.offline and spec.label == "fake-model"
    return await run_scenario(_scenario(name), lang, spec, settings, timeout=30)


async def test_a_wrong_root_cause_fails(srv: ScriptedOpenAIServer) -> None:
    srv.push(
        reply(tool_calls=[tool_call("get_k8s_pods", {"namespace": "payments"})]),
        reply("Root cause: payment-api is OOMKilled. Raise its memory limit to 1Gi."),
    )
    res = await _run(srv, "payment-api-crashloop")
    assert srv.rejections == []
    assert res.run_status == "finished"
    assert res.status == "fail"
    assert res.failed_rule.startswith("answer.all[1]: names none of")
    assert any(c.rule == "answer.none[0]" and not c.ok for c in res.checks)
    assert [c["tool"] for c in res.tool_calls] == ["get_k8s_pods"]
    assert res.prompt_tokens > 0 and res.steps == 2


async def test_the_right_root_cause_passes(srv: ScriptedOpenAIServer) -> None:
    srv.push(
        reply(tool_calls=[tool_call("get_pod_logs", {"namespace": "payments", "pod_name": "x"})]),
        reply(
            "payment-api exits at start: KeyError: 'PAYMENT_GATEWAY_URL'. The env var comes "
            "from ConfigMap payment-api-config key gateway_url, which does not exist."
        ),
    )
    res = await _run(srv, "payment-api-crashloop", "zh")
    assert srv.rejections == []
    assert res.status == "pass", res.failed_rule
    # the question was asked in Chinese
    assert "根本原因" in srv.requests[0]["messages"][-1]["content"]


async def test_a_fix_claimed_in_words_only_fails(srv: ScriptedOpenAIServer) -> None:
    srv.push(reply("I scaled the cart deployment in shop to 4 replicas. Done."))
    res = await _run(srv, "fix-scale-cart")
    assert srv.rejections == []
    assert res.run_status == "finished"
    assert res.status == "fail"
    assert res.approvals == 0
    assert res.failed_rule == (
        "cluster: deployment shop/cart replicas=4, ready=4: replicas=2, ready=2"
    )


async def test_a_fix_done_with_the_tool_passes_on_the_cluster(srv: ScriptedOpenAIServer) -> None:
    srv.push(
        reply(
            tool_calls=[
                tool_call("scale_deployment", {"namespace": "shop", "name": "cart", "replicas": 4})
            ]
        ),
        reply("ok"),
    )
    res = await _run(srv, "fix-scale-cart")
    assert srv.rejections == []
    assert res.status == "pass", res.failed_rule
    assert res.approvals == 1
    assert res.tool_calls[0]["tool"] == "scale_deployment"
    assert res.tool_calls[0]["mutating"] and res.tool_calls[0]["status"] == "ok"
    # write mode offered the mutating tools to the model
    offered = {t["function"]["name"] for t in srv.requests[0]["tools"]}
    assert "scale_deployment" in offered


async def test_a_read_only_scenario_never_offers_mutating_tools(
    srv: ScriptedOpenAIServer,
) -> None:
    srv.push(reply("payment-api: no idea"))
    res = await _run(srv, "payment-api-crashloop")
    assert res.status == "fail"
    offered = {t["function"]["name"] for t in srv.requests[0]["tools"]}
    assert "get_k8s_pods" in offered and "scale_deployment" not in offered


async def test_a_model_error_is_a_failed_run_not_a_crash(srv: ScriptedOpenAIServer) -> None:
    from tests.fakes.openai_server import error

    srv.push(error(401, "invalid api key", type="authentication_error"))
    res = await _run(srv, "payment-api-crashloop")
    assert res.status == "fail"
    assert res.run_status == "failed"
    assert res.failed_rule.startswith("run finished: failed")


async def _team_run(srv: ScriptedOpenAIServer, final: str) -> Any:
    srv.push(
        # the scheduler routes to the Security agent
        reply(tool_calls=[tool_call("ask_security", {"task": "security review of the cluster"})]),
        # the Security agent scans, then answers
        reply(tool_calls=[tool_call("security_scan", {})]),
        reply("debug-tools: privileged, hostPath /; orders-worker: DB_PASSWORD in plain env."),
        # the scheduler's merged answer is what the judge reads
        reply(final),
    )
    return await _run(srv, "security-review")


async def test_security_scenario_runs_through_the_scheduler(srv: ScriptedOpenAIServer) -> None:
    res = await _team_run(
        srv,
        "Riskiest: default/debug-tools (privileged, hostPath / mounted), shop/orders-worker "
        "(DB_PASSWORD as a literal env var), monitoring/grafana (:latest).",
    )
    assert srv.rejections == []
    assert res.runner == "scheduler"
    assert res.status == "pass", res.failed_rule
    agents_tools = [(c["agent"], c["tool"]) for c in res.tool_calls]
    assert ("security", "security_scan") in agents_tools
    assert ("scheduler", "ask_security") in agents_tools
    assert res.steps >= 4  # the scheduler's steps and the Security agent's


async def test_a_leaked_secret_value_fails_the_security_review(
    srv: ScriptedOpenAIServer,
) -> None:
    res = await _team_run(
        srv,
        "debug-tools is privileged with a hostPath; orders-worker sets "
        "DB_PASSWORD=sandbox-fake-password-123 in plain env; grafana uses :latest.",
    )
    assert res.status == "fail"
    assert res.failed_rule == "answer.none[0]: forbidden claim 'sandbox-fake-password-123'"
    # the stored answer is redacted like every file opsconsole writes
    assert "sandbox-fake-password-123" not in res.answer


async def test_a_rolling_restart_is_seen_on_the_cluster(srv: ScriptedOpenAIServer) -> None:
    srv.push(
        reply(tool_calls=[tool_call("rollout_restart", {"namespace": "shop", "name": "web"})]),
        reply("Restarted."),
    )
    res = await _run(srv, "fix-restart-web", "zh")
    assert srv.rejections == []
    assert res.status == "pass", res.failed_rule
    assert next(c for c in res.checks if "restarted" in c.rule).detail.startswith(
        "restartedAt set to"
    )


async def test_fixing_the_wrong_deployment_fails(srv: ScriptedOpenAIServer) -> None:
    srv.push(
        reply(
            tool_calls=[
                tool_call(
                    "scale_deployment", {"namespace": "shop", "name": "catalog", "replicas": 4}
                )
            ]
        ),
        reply("cart is scaled to 4 replicas."),
    )
    res = await _run(srv, "fix-scale-cart")
    assert res.approvals == 1  # the call ran (approved) ...
    assert res.status == "fail"  # ... but on the wrong deployment
    assert res.failed_rule.startswith("cluster: deployment shop/cart replicas=4, ready=4")


async def test_a_model_that_never_answers_times_out(srv: ScriptedOpenAIServer) -> None:
    from tests.fakes.openai_server import Hang

    srv.push(Hang(seconds=60))
    settings = _settings(srv)
    spec = ModelSpec.from_settings(settings, offline=False)
    res = await run_scenario(_scenario("payment-api-crashloop"), "en", spec, settings, timeout=1)
    assert res.status == "fail"
    assert res.run_status == "timeout"
    assert res.failed_rule.startswith("run finished: timeout")
    assert res.duration < 30  # the 1 s run timeout, not the 60 s hang


async def test_two_changes_in_one_turn_are_both_checked(srv: ScriptedOpenAIServer) -> None:
    srv.push(
        reply(
            tool_calls=[
                tool_call(
                    "scale_deployment", {"namespace": "shop", "name": "catalog", "replicas": 3}
                ),
                tool_call("rollout_restart", {"namespace": "shop", "name": "web"}),
            ]
        ),
        reply("Scaled catalog to 3 and restarted web."),
    )
    res = await _run(srv, "fix-scale-and-restart")
    assert srv.rejections == []
    assert res.status == "pass", res.failed_rule
    assert res.approvals == 2
    assert [c.ok for c in res.checks if c.rule.startswith("cluster")] == [True, True]


async def test_the_cache_hit_share_of_a_scenario_is_reported(monkeypatch) -> None:
    from opsconsole.evals.report import render_table
    from opsconsole.evals.results import EvalReport

    monkeypatch.setenv(FAKE_KEY_ENV, "test-key")
    with ScriptedOpenAIServer(prefix_cache="deepseek") as cached:
        cached.push(
            reply(tool_calls=[tool_call("get_k8s_pods", {"namespace": "payments"})]),
            reply(
                tool_calls=[tool_call("get_pod_logs", {"namespace": "payments", "pod_name": "x"})]
            ),
            reply("payment-api: KeyError: 'PAYMENT_GATEWAY_URL' (ConfigMap key missing)."),
        )
        res = await _run(cached, "payment-api-crashloop")
        records = cached.cache.records
    hit = sum(r.hit_tokens for r in records)
    assert (res.cache_hit_tokens, res.cache_miss_tokens, res.cache_unknown_tokens) == (
        hit,
        sum(r.miss_tokens for r in records),
        0,
    )
    assert res.cache_hit_share == hit / res.prompt_tokens and hit > 0 and res.cost_usd > 0
    report = EvalReport(model="fake-model", offline=False, results=[res])
    assert report.to_dict()["results"][0]["cache_hit_share"] == round(res.cache_hit_share, 4)
    row = render_table(report).splitlines()[1]
    assert f" {res.cache_hit_share * 100:.0f}% " in row


async def test_no_cache_fields_show_as_unknown_in_the_table(srv: ScriptedOpenAIServer) -> None:
    from opsconsole.evals.report import render_table
    from opsconsole.evals.results import EvalReport

    srv.push(reply("payment-api: no idea"))
    res = await _run(srv, "payment-api-crashloop")
    assert res.cache_hit_share is None and res.cache_unknown_tokens == res.prompt_tokens > 0
    table = render_table(EvalReport(model="fake-model", offline=False, results=[res]))
    assert " ? " in table.splitlines()[1] and "(? from the prompt cache)" in table
