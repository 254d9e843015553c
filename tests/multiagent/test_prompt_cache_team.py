"""The team keeps every agent's request prefix stable (RELIABILITY A20): each agent's requests
(its own scripted server, with prefix-cache accounting) share one system prompt and tools and
only append, across follow-ups and a namespace switch; a write-mode switch changes the prefix of
the agents it changes (not the always read-only Security agent) and each says so."""

from __future__ import annotations

import contextlib
from typing import Any

from opsconsole.agent.events import PrefixChanged, RunFinished
from opsconsole.team.scheduler import build_scheduler
from tests.fakes.openai_server import ScriptedOpenAIServer, reply, tool_call
from tests.fakes.prefix_cache import cacheable, render
from tests.multiagent.kit import Calls, collect, model_factory, of, team_settings
from tests.multiagent.test_scheduler_model import AGENTS, _registry


@contextlib.contextmanager
def team_servers():
    with contextlib.ExitStack() as stack:
        yield {
            n: stack.enter_context(ScriptedOpenAIServer(prefix_cache="deepseek")) for n in AGENTS
        }


def _routed(srvs: dict[str, ScriptedOpenAIServer], n: int) -> None:
    srvs["scheduler"].push(
        reply(
            tool_calls=[
                tool_call("ask_security", {"task": f"scan shop ({n})"}, id=f"s{n}"),
                tool_call("ask_ops", {"task": f"pods in shop ({n})"}, id=f"o{n}"),
            ]
        ),
        reply(f"merged answer {n}"),
    )
    srvs["security"].push(
        reply(tool_calls=[tool_call("security_scan", {"namespace": "shop"})]),
        reply(f"security finding {n}"),
    )
    srvs["ops"].push(
        reply(tool_calls=[tool_call("get_k8s_pods", {"namespace": "shop"})]),
        reply(f"ops finding {n}"),
    )


def _append_only(bodies: list[dict[str, Any]]) -> bool:
    return all(
        b["messages"][: len(a["messages"])] == a["messages"]
        for a, b in zip(bodies, bodies[1:], strict=False)
    )


async def test_every_agent_keeps_its_prefix_and_a_write_switch_is_announced() -> None:
    calls = Calls()
    with team_servers() as srvs:
        settings = team_settings(srvs)
        team = build_scheduler(
            model_factory(settings), None, settings, registry=_registry(calls), namespace="shop"
        )
        for n in (1, 2):
            _routed(srvs, n)
            events = await collect(team, f"check shop, round {n}")
            assert of(events, RunFinished, "scheduler") and not of(events, PrefixChanged)
        team.namespace = "payments"
        _routed(srvs, 3)
        assert not of(await collect(team, "and now payments"), PrefixChanged)

        for name in ("scheduler", "security", "ops"):
            bodies = srvs[name].requests
            assert srvs[name].rejections == []
            assert len({repr((b["messages"][0], b["tools"])) for b in bodies}) == 1, name
            assert _append_only(bodies), name
            records = srvs[name].cache.records
            for prev, rec in zip(bodies, records[1:], strict=False):
                assert rec.hit_tokens >= cacheable(render(prev)), name
        # the switch reached the scheduler in its newest message, not in its system prompt
        last = srvs["scheduler"].requests[-2]["messages"][-1]["content"]
        assert last.startswith("<console-state>") and "default namespace: payments" in last

        team.set_write_mode(True)
        _routed(srvs, 4)
        events = await collect(team, "round 4 in write mode")
        changed = {e.agent: e.reason for e in of(events, PrefixChanged)}
        assert changed == {"scheduler": "write_mode", "ops": "write_mode"}
        assert "WRITE mode" in srvs["ops"].requests[-1]["messages"][0]["content"]
        sec = srvs["security"].requests
        assert sec[-1]["messages"][0] == sec[0]["messages"][0] and _append_only(sec)
