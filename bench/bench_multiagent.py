"""Multi-agent benchmarks: in-process, no network, instant scripted models.

1. Fan-out: the scheduler asks the Ops and Security agents in one turn; each runs one tool
   that sleeps ``--sleep`` seconds. Baseline measured in the same run: the same two specialist
   AgentLoops run one after the other (what a router without concurrency would do). Reported
   as a ratio (goal: ~0.5, i.e. the branches overlap).
2. Dispatch overhead: ``@ops`` through the Scheduler (instant model and tool) against running
   the Ops AgentLoop directly, per request, in ms and as a ratio.
3. ``--scan-pods N``: the Security agent's ``security_scan`` over a generated sandbox of N pods
   against the baseline of listing those pods (``list_pods(keep_raw=True)``), and the size of
   its output in tokens.

Run: ``python bench/bench_multiagent.py [--sleep 0.3] [--repeat 5] [--n 200] [--scan-pods 5000]``.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import statistics
import sys
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from opsconsole.agent.loop import AgentLoop  # noqa: E402
from opsconsole.agent.model import ModelTurn, ToolCallRequest, Usage  # noqa: E402
from opsconsole.agent.tools import Tool, ToolRegistry  # noqa: E402
from opsconsole.config import Settings  # noqa: E402
from opsconsole.team import specialists  # noqa: E402
from opsconsole.team.scheduler import Scheduler  # noqa: E402

SCHEMA = {"type": "object", "properties": {"namespace": {"type": "string"}}, "required": []}


class Instant:
    """A stateless instant model: after a user message call ``calls``, then answer."""

    label = "instant"
    offline = True

    def __init__(self, calls: list[tuple[str, dict[str, Any]]], answer: str) -> None:
        self.calls = calls
        self.answer = answer
        self.n = 0

    async def run_turn(
        self, messages: list[dict[str, Any]], tools: list[dict[str, Any]]
    ) -> AsyncIterator[Any]:
        self.n += 1
        if messages[-1]["role"] == "user" and self.calls:
            reqs = [
                ToolCallRequest(f"c{self.n}_{i}", name, json.dumps(args))
                for i, (name, args) in enumerate(self.calls)
            ]
            yield ModelTurn(tool_calls=reqs, finish_reason="tool_calls", usage=Usage(10, 2))
            return
        yield ModelTurn(content=self.answer, usage=Usage(10, 2))


def registry(sleep: float) -> ToolRegistry:
    def make(name: str) -> Tool:
        async def handler(args: dict[str, Any]) -> str:
            if sleep:
                await asyncio.sleep(sleep)
            return f"{name} ok"

        return Tool(name, name, SCHEMA, handler, read_only=True)

    return ToolRegistry([make("get_k8s_pods"), make("security_scan")])


def models() -> dict[str, Instant]:
    return {
        "scheduler": Instant(
            [("ask_ops", {"task": "pods"}), ("ask_security", {"task": "scan"})], "merged"
        ),
        "ops": Instant([("get_k8s_pods", {})], "ops answer"),
        "security": Instant([("security_scan", {})], "security answer"),
        "coder": Instant([], "coder answer"),
    }


async def drain(runner: Any, task: str) -> None:
    async with contextlib.aclosing(runner.run(task)) as events:
        async for _ in events:
            pass


async def fan_out(sleep: float) -> tuple[float, float]:
    settings = Settings()
    reg = registry(sleep)
    m = models()
    sched = Scheduler(m["scheduler"], reg, settings=settings, model_for=lambda n: m[n])
    t0 = time.perf_counter()
    await drain(sched, "pods and security")
    team = time.perf_counter() - t0
    specs = specialists()
    ops = AgentLoop(m["ops"], specs["ops"].registry(reg), settings=settings, agent="ops")
    sec = AgentLoop(
        m["security"], specs["security"].registry(reg), settings=settings, agent="security"
    )
    t0 = time.perf_counter()
    await drain(ops, "pods")
    await drain(sec, "scan")
    sequential = time.perf_counter() - t0
    return team, sequential


async def overhead(n: int) -> tuple[float, float]:
    settings = Settings()
    reg = registry(0.0)
    m = models()
    sched = Scheduler(m["scheduler"], reg, settings=settings, model_for=lambda name: m[name])
    ops = AgentLoop(m["ops"], specialists()["ops"].registry(reg), settings=settings, agent="ops")
    for _ in range(5):  # warm up
        await drain(sched, "@ops pods")
        await drain(ops, "pods")
    sched.loop.conversation.messages.clear()
    t0 = time.perf_counter()
    for _ in range(n):
        await drain(ops, "pods")
    direct = (time.perf_counter() - t0) / n
    t0 = time.perf_counter()
    for _ in range(n):
        await drain(sched, "@ops pods")
    routed = (time.perf_counter() - t0) / n
    return routed, direct


def scan_bench(pods: int, repeat: int) -> None:
    import tempfile

    from opsconsole.agent.transcript import estimate_tokens
    from opsconsole.k8s import queries as q
    from opsconsole.k8s.client import Cluster
    from opsconsole.k8s.security import render_scan, scan
    from opsconsole.sandbox import SandboxServer

    with SandboxServer(pods=pods) as srv, tempfile.TemporaryDirectory() as tmp:
        path = srv.write_kubeconfig(Path(tmp) / "kubeconfig")
        cluster = Cluster(kubeconfig=str(path))
        base, full = [], []
        text = ""
        for _ in range(repeat):
            t0 = time.perf_counter()
            q.list_pods(cluster, None, keep_raw=True)
            base.append(time.perf_counter() - t0)
            t0 = time.perf_counter()
            text = render_scan(scan(cluster))
            full.append(time.perf_counter() - t0)
        b, f = statistics.median(base), statistics.median(full)
        print(
            f"security_scan of {pods} pods: {f * 1000:.0f} ms, listing them {b * 1000:.0f} ms, "
            f"ratio {f / b:.2f}; output {estimate_tokens(text)} tokens"
        )


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--sleep", type=float, default=0.3)
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--n", type=int, default=200)
    ap.add_argument("--scan-pods", type=int, default=0)
    a = ap.parse_args()
    if a.scan_pods:
        scan_bench(a.scan_pods, a.repeat)
    fans = [asyncio.run(fan_out(a.sleep)) for _ in range(a.repeat)]
    team = statistics.median(f[0] for f in fans)
    seq = statistics.median(f[1] for f in fans)
    print(
        f"fan-out of 2 specialists ({a.sleep:.2f}s tool each): scheduler {team * 1000:.0f} ms, "
        f"sequential baseline {seq * 1000:.0f} ms, ratio {team / seq:.2f}"
    )
    runs = [asyncio.run(overhead(a.n)) for _ in range(a.repeat)]
    routed = statistics.median(r[0] for r in runs)
    direct = statistics.median(r[1] for r in runs)
    print(
        f"@ops through the scheduler: {routed * 1000:.2f} ms/request, the Ops loop directly "
        f"{direct * 1000:.2f} ms/request, ratio {routed / direct:.2f} "
        f"(+{(routed - direct) * 1000:.2f} ms per dispatch)"
    )


if __name__ == "__main__":
    main()
