"""A standing approval ("approve for this session") covers one tool on one object with one
kind of change, and leaving write mode revokes it. Through the loop with the scripted model,
the real Kubernetes tools and a fresh sandbox; the cluster's state is read back with kubectl."""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Any

from opsconsole.agent.events import ApprovalResolved
from opsconsole.agent.tools import ToolRegistry
from opsconsole.config import Settings
from opsconsole.k8s.client import Cluster
from opsconsole.k8s.tools import build_k8s_tools
from tests.agent.agentkit import ScriptedApprover, collect, make_loop, of
from tests.fakes.openai_server import reply, tool_call

CONTEXT = "opsconsole-sandbox"


def _scale(name: str, replicas: int, call_id: str) -> Any:
    args = {"namespace": "shop", "name": name, "replicas": replicas}
    return reply(tool_calls=[tool_call("scale_deployment", args, id=call_id)])


def _replicas(kubeconfig: Path, name: str) -> int:
    out = subprocess.run(
        ["kubectl", "--kubeconfig", str(kubeconfig), "--context", CONTEXT, "-n", "shop"]
        + ["get", "deployment", name, "-o", "jsonpath={.spec.replicas}"],
        capture_output=True,
        text=True,
        timeout=30,
        check=True,
    )
    return int(out.stdout)


def _loop(srv: Any, sandbox: Any, tmp_path: Path, approver: ScriptedApprover) -> Any:
    kubeconfig = Path(sandbox.write_kubeconfig(tmp_path / "kubeconfig"))
    cluster = Cluster(kubeconfig=kubeconfig, context=CONTEXT, request_timeout=10, write_mode=True)
    tools = build_k8s_tools(cluster, Settings())
    loop = make_loop(srv, [], write_mode=True, approver=approver, context=CONTEXT)
    loop.tools = ToolRegistry(tools)
    return loop, kubeconfig, cluster


async def test_approve_for_session_on_cart_does_not_cover_web(srv, fresh_sandbox, tmp_path):
    approver = ScriptedApprover("approve_session", "decline")
    srv.push(_scale("cart", 3, "c1"), reply("cart at 3"), _scale("web", 0, "c2"), reply("no"))
    loop, kubeconfig, cluster = _loop(srv, fresh_sandbox(), tmp_path, approver)
    try:
        await collect(loop, "scale cart to 3")
        assert _replicas(kubeconfig, "cart") == 3
        events = await collect(loop, "now scale web to 0")
    finally:
        cluster.close()
    # another object: the user is asked again (and said no), web keeps its 3 replicas
    assert [r.tool for r in approver.requests] == ["scale_deployment", "scale_deployment"]
    assert approver.requests[1].arguments["name"] == "web"
    assert [(r.decision, r.source) for r in of(events, ApprovalResolved)] == [("decline", "user")]
    assert _replicas(kubeconfig, "web") == 3
    assert [s.describe() for s in loop.session_approvals] == [
        "scale deployment shop/cart to ≥1 replicas"
    ]
    assert srv.rejections == []


async def test_standing_approval_covers_the_same_change_only(srv, fresh_sandbox, tmp_path):
    approver = ScriptedApprover("approve_session", "decline", "decline")
    srv.push(
        _scale("cart", 3, "c1"),
        reply("cart at 3"),
        _scale("cart", 4, "c2"),  # same object, same kind of change: let through
        reply("cart at 4"),
        _scale("cart", 0, "c3"),  # to zero: another kind of change, asked again
        reply("declined"),
        # another tool on the same object: asked again
        reply(tool_calls=[tool_call("rollout_restart", {"namespace": "shop", "name": "cart"})]),
        reply("declined too"),
    )
    loop, kubeconfig, cluster = _loop(srv, fresh_sandbox(), tmp_path, approver)
    try:
        await collect(loop, "scale cart to 3")
        second = await collect(loop, "and to 4")
        assert _replicas(kubeconfig, "cart") == 4
        await collect(loop, "and to 0")
        await collect(loop, "restart cart")
    finally:
        cluster.close()
    assert len(approver.requests) == 3
    assert [r.arguments.get("replicas") for r in approver.requests] == [3, 0, None]
    resolved = of(second, ApprovalResolved)
    assert [(r.decision, r.source) for r in resolved] == [("approve_session", "session")]
    # the event names the standing approval that let the call through
    assert resolved[0].standing == "scale deployment shop/cart to ≥1 replicas"
    assert _replicas(kubeconfig, "cart") == 4
    # the request said what "approve for this session" would cover
    assert approver.requests[0].standing is not None
    assert approver.requests[0].standing.describe() == ("scale deployment shop/cart to ≥1 replicas")
    assert srv.rejections == []


async def test_leaving_write_mode_revokes_standing_approvals(srv, fresh_sandbox, tmp_path):
    approver = ScriptedApprover("approve_session", "decline")
    srv.push(_scale("cart", 3, "c1"), reply("cart at 3"), _scale("cart", 4, "c2"), reply("no"))
    loop, kubeconfig, cluster = _loop(srv, fresh_sandbox(), tmp_path, approver)
    try:
        await collect(loop, "scale cart to 3")
        assert len(loop.session_approvals) == 1
        loop.set_write_mode(False)
        assert len(loop.session_approvals) == 0
        loop.set_write_mode(True)
        events = await collect(loop, "and to 4")
    finally:
        cluster.close()
    assert len(approver.requests) == 2  # asked again after write mode was left
    assert [(r.decision, r.source) for r in of(events, ApprovalResolved)] == [("decline", "user")]
    assert _replicas(kubeconfig, "cart") == 3
    assert srv.rejections == []
