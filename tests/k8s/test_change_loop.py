"""The change tools through the agent loop: the scripted model server (real ``openai`` client)
and the sandbox over HTTP. Read-only offers none of them; every call is dry-run and approved
with its diff and blast radius; a declined call changes nothing; an approved one changes
exactly what the diff showed; a dry run the server rejects asks nobody."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from opsconsole.agent.events import ApprovalRequested, ApprovalResolved, ToolCallFinished
from opsconsole.k8s.client import Cluster
from opsconsole.k8s.discovery import raw_get
from opsconsole.k8s.tools import build_k8s_tools
from tests.agent.agentkit import ScriptedApprover, collect, make_loop, make_settings, of
from tests.fakes.openai_server import ScriptedOpenAIServer, reply, tool_call
from tests.k8s.conftest import CONTEXT, cluster_for

SET_IMAGE = {"name": "cart", "namespace": "shop", "container": "cart", "image": "shop/cart:5.0"}


@pytest.fixture
def srv() -> Iterator[ScriptedOpenAIServer]:
    with ScriptedOpenAIServer() as server:
        yield server


@pytest.fixture
def cluster(fresh_sandbox: Any, tmp_path: Path) -> Iterator[Cluster]:
    c = cluster_for(fresh_sandbox(scenario="demo", speed=1.0), tmp_path)
    yield c
    c.close()


def _cart(c: Cluster) -> dict[str, Any]:
    return raw_get(c, "/apis/apps/v1/namespaces/shop/deployments/cart")


def _changed_lines(diff: str) -> list[str]:
    return [
        line
        for line in diff.splitlines()
        if line[:1] in "+-" and not line.startswith(("+++", "---"))
    ]


async def test_read_only_offers_no_mutating_tool(srv: ScriptedOpenAIServer, cluster: Cluster):
    settings = make_settings(srv.base_url)
    tools = build_k8s_tools(cluster, settings)
    mutating = {t.name for t in tools if t.mutating}
    assert {"apply_resource", "delete_resource", "exec_in_container"} <= mutating
    srv.push(reply("Nothing to change."))
    loop = make_loop(srv, tools, settings=settings, context=CONTEXT)
    await collect(loop, "set the cart image to shop/cart:5.0")
    offered = {t["function"]["name"] for t in srv.requests[0]["tools"]}
    assert offered and not offered & mutating
    assert "get_resource" in offered


async def test_declined_call_changes_nothing(srv: ScriptedOpenAIServer, cluster: Cluster):
    settings = make_settings(srv.base_url)
    before = _cart(cluster)
    srv.push(
        reply(tool_calls=[tool_call("set_image", SET_IMAGE)]),
        reply("Left as it is."),
    )
    approver = ScriptedApprover("decline")
    cluster.write_mode = True
    loop = make_loop(
        srv,
        build_k8s_tools(cluster, settings),
        settings=settings,
        approver=approver,
        write_mode=True,
        context=CONTEXT,
    )
    events = await collect(loop, "set the cart image")
    assert len(approver.requests) == 1
    req = approver.requests[0]
    assert "+        image: shop/cart:5.0" in req.diff
    assert req.blast_radius == "replaces 2 pods, rolling, maxUnavailable 25%, maxSurge 25%"
    asked = of(events, ApprovalRequested)
    assert asked and asked[0].diff == req.diff and asked[0].blast_radius == req.blast_radius
    assert [e.status for e in of(events, ToolCallFinished)] == ["declined"]
    after = _cart(cluster)
    assert after["spec"] == before["spec"]
    assert after["metadata"]["resourceVersion"] == before["metadata"]["resourceVersion"]


async def test_approved_call_changes_exactly_what_the_diff_showed(
    srv: ScriptedOpenAIServer, cluster: Cluster
):
    from opsconsole.k8s.diff import for_diff, to_yaml_sorted

    settings = make_settings(srv.base_url)
    before = _cart(cluster)
    srv.push(reply(tool_calls=[tool_call("set_image", SET_IMAGE)]), reply("Done."))
    approver = ScriptedApprover("approve")
    cluster.write_mode = True
    loop = make_loop(
        srv,
        build_k8s_tools(cluster, settings),
        settings=settings,
        approver=approver,
        write_mode=True,
        context=CONTEXT,
    )
    events = await collect(loop, "set the cart image")
    done = of(events, ToolCallFinished)
    assert [e.status for e in done] == ["ok"], done
    diff = approver.requests[0].diff
    # the diff between the object before and after the real change, computed afresh, is the
    # diff the person approved (the status and the controller's annotations aside)
    after = _cart(cluster)
    import difflib

    old = to_yaml_sorted(for_diff(before)).splitlines()
    new = to_yaml_sorted(for_diff(after)).splitlines()
    real = [
        line
        for line in difflib.unified_diff(old, new, lineterm="", n=0)
        if line[:1] in "+-" and not line.startswith(("+++", "---"))
    ]
    real = [line for line in real if "deployment.kubernetes.io/revision" not in line]
    assert real == _changed_lines(diff)
    tool_msgs = [m for m in srv.requests[1]["messages"] if m["role"] == "tool"]
    assert tool_msgs[0]["content"] == "deployment/shop/cart image set"


async def test_rejected_dry_run_asks_nobody(srv: ScriptedOpenAIServer, cluster: Cluster):
    settings = make_settings(srv.base_url)
    bad = {
        "kind": "deploy",
        "name": "cart",
        "namespace": "shop",
        "patch_type": "json",
        "patch": [{"op": "remove", "path": "/spec/nothing"}],
    }
    srv.push(
        reply(
            tool_calls=[
                tool_call("patch_resource", bad, id="call_bad"),
                tool_call("scale_resource", {"kind": "deploy", "name": "cart",
                                             "namespace": "shop", "replicas": 3}, id="call_ok"),
            ]
        ),
        reply("The patch does not apply."),
    )  # fmt: skip
    approver = ScriptedApprover("decline")
    cluster.write_mode = True
    loop = make_loop(
        srv,
        build_k8s_tools(cluster, settings),
        settings=settings,
        approver=approver,
        write_mode=True,
        context=CONTEXT,
    )
    events = await collect(loop, "patch cart")
    # the rejected call: no approval asked, the server's reason to the model
    assert [r.tool for r in approver.requests] == ["scale_resource"]
    assert [e.tool_call_id for e in of(events, ApprovalRequested)] == ["call_ok"]
    assert [e.tool_call_id for e in of(events, ApprovalResolved)] == ["call_ok"]
    fin = {e.tool_call_id: e for e in of(events, ToolCallFinished)}
    assert fin["call_bad"].status == "error"
    assert fin["call_bad"].error_code == "dry_run_rejected"
    msgs = {m["tool_call_id"]: m for m in srv.requests[1]["messages"] if m["role"] == "tool"}
    said = json.loads(msgs["call_bad"]["content"])["error"]
    assert "rejected by the API server (422): path not found: /spec/nothing" in said
    assert _cart(cluster)["spec"]["replicas"] == 2
