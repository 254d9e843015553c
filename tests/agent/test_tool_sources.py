"""Tools from a source (an MCP server) load once; a run that starts while they load waits for
them instead of going on without them."""

from __future__ import annotations

import asyncio
from typing import Any

from opsconsole.agent.tools import Tool, ToolRegistry


class SlowSource:
    name = "slow"

    def __init__(self) -> None:
        self.release = asyncio.Event()
        self.loads = 0

    async def load(self) -> tuple[list[Tool], list[str]]:
        self.loads += 1
        await self.release.wait()

        def handler(args: dict[str, Any]) -> str:
            return "ok"

        tool = Tool("slow__ping", "ping", {"type": "object"}, handler, read_only=True)
        return [tool], []


async def test_a_second_prepare_waits_for_the_first_load() -> None:
    source = SlowSource()
    registry = ToolRegistry([], [source])
    first = asyncio.ensure_future(registry.prepare())
    await asyncio.sleep(0)  # the first load has started
    second = asyncio.ensure_future(registry.prepare())
    await asyncio.sleep(0)
    assert not second.done(), "the second run went on before the source's tools were loaded"
    source.release.set()
    await asyncio.gather(first, second)
    assert "slow__ping" in registry and source.loads == 1
