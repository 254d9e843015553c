"""``/mcp`` in the console (Textual's Pilot): the servers of ``mcp.servers``, not started until
the agent's first run lists its tools, then ready with their tool count, or failed and why."""

from __future__ import annotations

import sys
from pathlib import Path

from opsconsole.config import Settings
from opsconsole.ui.factory import build_app
from tests.ui.conftest import chat_text, wait_for

THIRDPARTY = str(Path(__file__).with_name("thirdparty.py"))


def _settings(tmp_path: Path, servers: dict[str, object]) -> Settings:
    return Settings.from_data(
        {"sessions": {"dir": str(tmp_path / "sessions")}, "mcp": {"servers": servers}}
    )


async def _slash_mcp(pilot: object, app: object, expect: str) -> None:
    app.main.chat.input.value = "/mcp"  # type: ignore[attr-defined]
    await pilot.press("enter")  # type: ignore[attr-defined]
    await wait_for(pilot, lambda: expect in chat_text(app), 60, expect)


async def test_slash_mcp_lists_servers_with_state_and_tools(tmp_path: Path) -> None:
    servers = {
        "fake": {"command": sys.executable, "args": [THIRDPARTY], "trusted": True},
        "missing": {"command": "/nonexistent/bin/mcp-server-x"},
    }
    app = build_app(_settings(tmp_path, servers), demo=True, offline=True, frozen=True)
    async with app.run_test(size=(140, 40)) as pilot:
        await wait_for(pilot, lambda: app.backend is not None, 60, "backend")
        await _slash_mcp(pilot, app, "fake (stdio): not started")
        assert "missing (stdio): not started" in chat_text(app)
        app.main.chat.input.value = "list the pods in shop"
        await pilot.press("enter")
        await wait_for(pilot, lambda: not app.bridge.running and "checkout" in chat_text(app), 90)
        text = chat_text(app)
        assert "MCP server 'missing' not available: cannot start: command not found" in text
        await _slash_mcp(pilot, app, "fake (stdio): ready, 6 tools")
        assert "missing (stdio): failed: cannot start: command not found" in chat_text(app)


async def test_slash_mcp_without_servers_says_how_to_add_them(tmp_path: Path) -> None:
    app = build_app(_settings(tmp_path, {}), demo=True, offline=True, frozen=True)
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_for(pilot, lambda: app.backend is not None, 60, "backend")
        await _slash_mcp(pilot, app, "no MCP servers configured")
