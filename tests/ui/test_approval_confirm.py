"""Deleting a namespace takes typing its name: the approval window shows the count of objects
inside, ``a`` does nothing, Approve stays disabled until the name is typed, and Enter in the
field approves. Pilot on the console, the scripted model server, the sandbox read back with
kubectl."""

from __future__ import annotations

import subprocess
from pathlib import Path

from opsconsole.ui.factory import build_app
from opsconsole.ui.screens.modals import ApprovalModal
from tests.fakes.openai_server import reply, tool_call

from .conftest import make_settings, wait_for

CONTEXT = "opsconsole-sandbox"


def _kubectl(app, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["kubectl", "--kubeconfig", app.backend.kubeconfig, "--context", CONTEXT, *args],
        capture_output=True,
        text=True,
        timeout=60,
    )


async def test_namespace_delete_needs_its_name_typed(tmp_path: Path, model_server):
    from textual.widgets import Button, Input

    settings = make_settings(tmp_path, base_url=model_server.base_url)
    settings = settings.replace(ui=settings.ui.replace(approval_arm_ms=100))
    app = build_app(settings, demo=True, write=True, frozen=True)
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_for(pilot, lambda: app.backend is not None and app.feeds.pods_ready, 60, "pods")
        model_server.push(
            reply(tool_calls=[tool_call("delete_resource", {"kind": "ns", "name": "ml"}, id="n1")]),
            reply("ml is being deleted."),
        )
        app.main.chat.input.value = "remove the ml namespace"
        await pilot.press("enter")
        await wait_for(pilot, lambda: isinstance(app.screen, ApprovalModal), 60, "approval")
        modal = app.screen
        await wait_for(pilot, lambda: modal.armed, 60, "armed")
        blast = str(modal.query_one("#approval-blast").render())
        assert "deletes namespace ml and the " in blast and " objects in it" in blast
        assert not modal.query("#approve_session")  # no standing approval for this
        approve = modal.query_one("#approve", Button)
        field = modal.query_one("#approval-confirm", Input)
        assert approve.disabled and app.focused is field
        await pilot.press("a", "enter")  # an "a" typed and Enter: not the name
        await pilot.pause()
        assert app.screen is modal and field.value == "a" and approve.disabled
        field.value = ""
        await pilot.press("m", "l")
        await pilot.pause()
        assert field.value == "ml" and not approve.disabled
        await pilot.press("enter")
        await wait_for(pilot, lambda: app.screen is not modal, 60, "decided")
        await wait_for(pilot, lambda: len(model_server.requests) >= 2, 60, "tool result")
        got = _kubectl(app, "get", "ns", "ml", "-o", "jsonpath={.status.phase}")
        assert got.returncode != 0 or got.stdout.strip() == "Terminating", got
        app.bridge.stop()
