"""The approval window never takes a decision from keys the user was typing (the ``a`` of
"explain" once approved a delete_pod), and the text typed meanwhile lands in the chat input.
Pilot on the console, the scripted model server, the sandbox read back with kubectl."""

from __future__ import annotations

import subprocess
from pathlib import Path

from opsconsole.ui.factory import build_app
from opsconsole.ui.screens.modals import ApprovalModal, ArmingGate
from tests.fakes.openai_server import reply, tool_call

from .conftest import make_settings, trace_text, wait_for

CONTEXT = "opsconsole-sandbox"


def _settings(tmp_path: Path, base_url: str, arm_ms: int):
    settings = make_settings(tmp_path, base_url=base_url)
    return settings.replace(ui=settings.ui.replace(approval_arm_ms=arm_ms))


def _kubectl(app, *args: str) -> subprocess.CompletedProcess[str]:
    kubeconfig = app.backend.kubeconfig
    return subprocess.run(
        ["kubectl", "--kubeconfig", kubeconfig, "--context", CONTEXT, *args],
        capture_output=True,
        text=True,
        timeout=30,
    )


async def _ready(pilot, app) -> None:
    await wait_for(pilot, lambda: app.backend is not None and app.feeds.pods_ready, 30, "pods")


async def test_keys_typed_as_the_window_opens_decide_nothing(tmp_path: Path, model_server):
    # a long arming period: every key below is typed before the window could arm
    app = build_app(
        _settings(tmp_path, model_server.base_url, 60_000), demo=True, write=True, frozen=True
    )
    async with app.run_test(size=(120, 40)) as pilot:
        await _ready(pilot, app)
        rows = app.main.pods.rows()
        pod = next(r for r in rows if r.namespace == "shop" and r.status == "Running")
        model_server.push(
            reply(
                tool_calls=[
                    tool_call("delete_pod", {"namespace": "shop", "pod_name": pod.name}, id="d1")
                ]
            ),
            reply("deleted"),
        )
        chat_input = app.main.chat.input
        chat_input.focus()
        chat_input.value = "why is web slow?"
        await pilot.press("enter")
        # the user goes on typing a follow-up while the agent works; the window opens
        await pilot.press(*"can you ")
        await wait_for(pilot, lambda: isinstance(app.screen, ApprovalModal), 15, "approval")
        modal = app.screen
        await pilot.press(*"explain why, and say yes or no")
        await pilot.press("enter", "escape", "tab", "enter")
        await pilot.pause()
        # no decision: the window is still open, unarmed, and says so
        assert app.screen is modal and not modal.armed
        assert "Arming" in str(modal.query_one("#approval-arming").render())
        assert "and say yes or no" in str(modal.query_one("#approval-arming").render())
        assert len(model_server.requests) == 1  # the tool call was never answered
        assert "approved" not in trace_text(app) and "declined" not in trace_text(app)
        # nothing typed was lost: it is all in the chat input
        assert chat_input.value == "can you explain why, and say yes or no"
        # and the pod is still there: no DELETE reached the cluster
        got = _kubectl(app, "-n", "shop", "get", "pod", pod.name, "-o", "name")
        assert got.returncode == 0 and got.stdout.strip() == f"pod/{pod.name}", got.stderr
        await pilot.press("escape")  # Esc stops nothing here either: the window stays
        assert app.screen is modal
        app.bridge.stop()
        await wait_for(pilot, lambda: not app.bridge.running, 15, "stopped")
    assert model_server.rejections == []


async def test_once_armed_the_approve_key_works(tmp_path: Path, model_server):
    model_server.push(
        reply(
            tool_calls=[
                tool_call("scale_deployment", {"namespace": "shop", "name": "cart", "replicas": 4})
            ]
        ),
        reply("cart is at 4"),
    )
    app = build_app(
        _settings(tmp_path, model_server.base_url, 100), demo=True, write=True, frozen=True
    )
    async with app.run_test(size=(120, 40)) as pilot:
        await _ready(pilot, app)
        app.main.chat.input.value = "scale cart to 4"
        await pilot.press("enter")
        await wait_for(pilot, lambda: isinstance(app.screen, ApprovalModal), 15, "approval")
        modal = app.screen
        await wait_for(pilot, lambda: modal.armed, 15, "armed")
        assert "Ready" in str(modal.query_one("#approval-arming").render())
        assert app.screen.focused is modal.query_one("#decline")
        await pilot.press("a")
        await wait_for(pilot, lambda: not app.bridge.running, 15, "run end")
        assert "approved by you" in trace_text(app)
        got = _kubectl(app, "-n", "shop", "get", "deployment/cart", "-o=jsonpath={.spec.replicas}")
        assert got.stdout.strip() == "4", got.stderr
    assert model_server.rejections == []


async def test_typing_again_after_arming_disarms_and_keeps_the_key(tmp_path: Path, model_server):
    model_server.push(
        reply(tool_calls=[tool_call("rollout_restart", {"namespace": "shop", "name": "cart"})]),
        reply("restarted"),
    )
    app = build_app(
        _settings(tmp_path, model_server.base_url, 100), demo=True, write=True, frozen=True
    )
    async with app.run_test(size=(120, 40)) as pilot:
        await _ready(pilot, app)
        app.main.chat.input.value = "restart cart"
        await pilot.press("enter")
        await wait_for(pilot, lambda: isinstance(app.screen, ApprovalModal), 15, "approval")
        modal = app.screen
        await wait_for(pilot, lambda: modal.armed, 15, "armed")
        await pilot.press("x")  # not a decision key: the user is typing again
        assert app.screen is modal
        assert app.main.chat.input.value == "x"
        await wait_for(pilot, lambda: modal.armed, 15, "armed again")
        await pilot.press("d")
        await wait_for(pilot, lambda: not app.bridge.running, 15, "run end")
        assert "declined by you" in trace_text(app)
    assert model_server.rejections == []


def test_arming_gate_needs_a_quiet_period() -> None:
    now = [100.0]
    gate = ArmingGate(1.0, clock=lambda: now[0])
    assert not gate.armed and gate.remaining() == 1.0  # not on screen yet
    gate.key()
    gate.start()
    now[0] += 0.6
    assert not gate.armed
    gate.key()  # typing restarts the quiet period
    now[0] += 0.6
    assert not gate.armed and abs(gate.remaining() - 0.4) < 1e-9
    now[0] += 0.4
    assert gate.armed
