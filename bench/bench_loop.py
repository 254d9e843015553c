"""Agent loop benchmarks (docs/performance.md): in-process, no network.

1. Per-step overhead: an instant scripted ModelClient and an instant tool; each step is one
   model turn with one tool call. Reported in ms/step and as a ratio against a baseline
   measured in the same run: the bare work a step cannot avoid (building the request messages
   and iterating a trivial async generator + calling the tool inline). Goal: <= 2 ms/step.
2. Five tool calls of 200 ms each in one turn through the loop, against the sequential
   baseline (the same five handlers awaited one after the other) measured in the same run.
   Goal: < 300 ms.

Run: ``python bench/bench_loop.py [--steps 2000] [--repeat 5]``.
"""

from __future__ import annotations

import argparse
import asyncio
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

SCHEMA = {
    "type": "object",
    "properties": {"namespace": {"type": "string"}},
    "required": ["namespace"],
}


class ScriptedModel:
    """Instant ModelClient: ``steps`` turns with tool calls, then an answer."""

    label = "bench"
    offline = True

    def __init__(self, steps: int, calls_per_turn: int = 1) -> None:
        self.steps = steps
        self.calls_per_turn = calls_per_turn
        self.n = 0

    async def run_turn(
        self, messages: list[dict[str, Any]], tools: list[dict[str, Any]]
    ) -> AsyncIterator[Any]:
        self.n += 1
        if self.n > self.steps:
            yield ModelTurn(content="done", usage=Usage(10, 2))
            return
        calls = [
            ToolCallRequest(
                id=f"c{self.n}_{i}",
                name="probe",
                arguments=json.dumps({"namespace": f"ns{self.n}-{i}"}),
            )
            for i in range(self.calls_per_turn)
        ]
        yield ModelTurn(
            content="", tool_calls=calls, finish_reason="tool_calls", usage=Usage(10, 2)
        )


def settings_for(steps: int) -> Settings:
    return Settings.from_data(
        {
            "agent": {"max_steps": min(200, steps + 1), "token_budget": 10**9, "language": "en"},
            "model": {"context_window": 10**9},
        }
    )


async def run_loop(steps: int, tool: Tool, calls_per_turn: int = 1) -> float:
    loop = AgentLoop(
        ScriptedModel(steps, calls_per_turn), ToolRegistry([tool]), settings=settings_for(steps)
    )
    t0 = time.perf_counter()
    last = None
    async for ev in loop.run("bench"):
        last = ev
    elapsed = time.perf_counter() - t0
    assert last is not None and last.kind == "run_finished", last
    return elapsed


async def per_step(total_steps: int) -> tuple[float, float]:
    """(loop ms/step, baseline ms/step)."""

    async def instant(args: dict[str, Any]) -> str:
        return "ok"

    tool = Tool("probe", "probe", SCHEMA, instant, read_only=True)
    chunk = 150  # max_steps is capped at 200 by config: run several conversations
    runs = max(1, total_steps // chunk)
    loop_time = 0.0
    for _ in range(runs):
        loop_time += await run_loop(chunk, tool)
    steps = runs * (chunk + 1)

    # baseline: per step, build the request list and pull one item from an async generator,
    # then call the tool inline and append the two messages
    model = ScriptedModel(10**9)
    messages: list[dict[str, Any]] = [{"role": "system", "content": "x"}]
    t0 = time.perf_counter()
    for _ in range(steps):
        req = list(messages)
        async for turn in model.run_turn(req, []):
            call = turn.tool_calls[0]
            out = await instant(json.loads(call.arguments))
            messages.append({"role": "assistant", "content": "", "tool_calls": []})
            messages.append({"role": "tool", "tool_call_id": call.id, "content": out})
        if len(messages) > 400:
            del messages[1:]
    base_time = time.perf_counter() - t0
    return loop_time / steps * 1000, base_time / steps * 1000


async def parallel(duration: float = 0.2, n: int = 5) -> tuple[float, float]:
    """(loop seconds for n calls of ``duration`` in one turn, sequential baseline seconds)."""

    def slow(args: dict[str, Any]) -> str:  # a blocking handler, like the kubernetes client
        time.sleep(duration)
        return "ok"

    tool = Tool("probe", "probe", SCHEMA, slow, read_only=True)
    loop_time = await run_loop(1, tool, calls_per_turn=n)
    t0 = time.perf_counter()
    for _ in range(n):
        slow({})
    return loop_time, time.perf_counter() - t0


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--steps", type=int, default=3000)
    ap.add_argument("--repeat", type=int, default=5)
    args = ap.parse_args()

    step_loop, step_base, par_loop, par_seq = [], [], [], []
    for _ in range(args.repeat):
        lo, ba = asyncio.run(per_step(args.steps))
        step_loop.append(lo)
        step_base.append(ba)
        pl, ps = asyncio.run(parallel())
        par_loop.append(pl)
        par_seq.append(ps)
    lo, ba = statistics.median(step_loop), statistics.median(step_base)
    pl, ps = statistics.median(par_loop), statistics.median(par_seq)
    print(
        f"loop overhead per step: {lo:.3f} ms (baseline {ba:.3f} ms, ratio {lo / ba:.1f}x) "
        f"goal <= 2 ms: {'PASS' if lo <= 2 else 'FAIL'}"
    )
    print(
        f"5 tool calls x 200 ms in one turn: {pl * 1000:.0f} ms (sequential {ps * 1000:.0f} ms, "
        f"ratio {pl / ps:.2f}) goal < 300 ms: {'PASS' if pl < 0.3 else 'FAIL'}"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
