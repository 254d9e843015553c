"""Approve for this session, in the console: it covers the same kind of change to the same
object only, the status bar shows it while it stands, the trace names it when it lets a call
through, and leaving write mode revokes it. Pilot, the scripted model, the demo sandbox."""

from __future__ import annotations

import subprocess
from pathlib import Path

from opsconsole.ui.factory import build_app
from opsconsole.ui.screens.modals import ApprovalModal
from tests.fakes.openai_server import reply, tool_call

from .conftest import chat_text, make_settings, trace_text, wait_for

CART = "scale deployment shop/cart to ≥1 replicas"


def _scale(name: str, replicas: int, call_id: str):
    args = {"namespace": "shop", "name": name, "replicas": replicas}
    return reply(tool_calls=[tool_call("scale_deployment", args, id=call_id)])


def _replicas(app, name: str) -> str:
    out = subprocess.run(
        ["kubectl", "--kubeconfig", app.backend.kubeconfig, "--context", "opsconsole-sandbox"]
        + ["-n", "shop", "get", "deployment", name, "-o=jsonpath={.spec.replicas}"],
        capture_output=True,
        text=True,
        timeout=30,
    )
    return out.stdout.strip()


async def test_standing_approval_is_narrow_visible_and_revoked(tmp_path: Path, model_server):
    model_server.push(
        _scale("cart", 3, "c1"),
        reply("cart at 3"),
        _scale("web", 0, "c2"),
        reply("web left alone"),
        _scale("cart", 4, "c3"),
        reply("cart at 4"),
        _scale("cart", 5, "c4"),
        reply("asked again"),
    )
    settings = make_settings(tmp_path, base_url=model_server.base_url)
    settings = settings.replace(ui=settings.ui.replace(approval_arm_ms=100))
    app = build_app(settings, demo=True, write=True, frozen=True)
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_for(pilot, lambda: app.backend is not None and app.feeds.pods_ready, 30)
        status = app.main.status

        async def ask(text: str) -> None:
            app.main.chat.input.focus()
            app.main.chat.input.value = text
            await pilot.press("enter")

        async def window() -> ApprovalModal:
            await wait_for(pilot, lambda: isinstance(app.screen, ApprovalModal), 15, "approval")
            modal = app.screen
            await wait_for(pilot, lambda: modal.armed, 15, "armed")
            return modal

        async def decide(key: str) -> ApprovalModal:
            modal = await window()
            await pilot.press(key)
            await wait_for(pilot, lambda: not app.bridge.running, 15, "run end")
            return modal

        await ask("scale cart to 3")
        first = await window()
        # the window says what "for this session" covers
        assert first.view.standing == CART
        assert CART in str(first.query_one("#approval-standing").render())
        assert status.standing == ()
        await decide("s")
        assert status.standing == (CART,)
        assert f"auto-approving {CART}" in str(status.render())
        assert f"approved by you for this session: {CART}" in trace_text(app)

        # another deployment (and to zero): asked again; declined, web keeps its replicas
        await ask("scale web to 0")
        second = await decide("d")
        assert "web" in second.view.target
        assert _replicas(app, "web") == "3"

        # the same change to cart: let through without a window, named in the trace
        await ask("cart to 4")
        await wait_for(pilot, lambda: "cart at 4" in chat_text(app), 15, "answer")
        await wait_for(pilot, lambda: not app.bridge.running, 15, "run end")
        assert f"auto-approved by your standing approval: {CART}" in trace_text(app)
        assert _replicas(app, "cart") == "4"

        # leaving write mode revokes it: gone from the status bar, asked again later
        await ask("/write")
        await wait_for(pilot, lambda: not status.write_mode, 5, "read-only")
        assert status.standing == ()
        assert "auto-approving" not in str(status.render())
        assert "1 standing approval(s) revoked" in chat_text(app)
        await ask("/write")
        await wait_for(pilot, lambda: status.write_mode, 5, "write mode")
        await ask("cart to 5")
        await decide("d")
        assert _replicas(app, "cart") == "4"
    assert model_server.rejections == []
