"""The Coder applies nothing without approval: ``apply_manifest`` is mutating, not offered in
read-only mode (S2), and in write mode every call waits for the approver (S1) with the server
dry run in the request; a declined call creates nothing. Also A18 over the team's tools."""

from __future__ import annotations

import uuid

from opsconsole.agent.approval import ApprovalDecision, DenyAllApprover
from opsconsole.agent.events import (
    AgentDispatched,
    ApprovalRequested,
    ApprovalResolved,
    ToolCallFinished,
)
from opsconsole.agent.tools import TOOL_NAME_RE
from opsconsole.config import Settings
from opsconsole.errors import NotFound
from opsconsole.team import build_full_registry, specialists
from opsconsole.team.coder import coder_tools
from opsconsole.team.scheduler import build_scheduler
from tests.fakes.openai_server import ScriptedOpenAIServer, reply, tool_call
from tests.multiagent.kit import collect, model_factory, of, team_settings


def _configmap(name: str, ns: str = "default") -> str:
    meta = f"metadata: {{name: {name}, namespace: {ns}}}"
    return f"apiVersion: v1\nkind: ConfigMap\n{meta}\ndata: {{a: b}}\n"


def _exists(cluster, name: str, ns: str = "default") -> bool:
    try:
        cluster.get_json("core", "read_namespaced_config_map", name, ns)
        return True
    except NotFound:
        return False


def test_every_team_tool_name_is_valid_a18_and_declares_read_only(demo_cluster):
    settings = Settings()
    full = build_full_registry(demo_cluster, settings)
    s = build_scheduler(None, demo_cluster, settings, offline=True)
    names = full.names() + s.loop.tools.names()
    assert {"ask_ops", "ask_security", "ask_coder", "security_scan", "apply_manifest"} <= set(names)
    for tool in [*full, *s.loop.tools]:
        assert TOOL_NAME_RE.match(tool.name), tool.name
        assert tool.read_only in (True, False), tool.name
    assert all(not t.mutating for t in s.loop.tools)  # dispatching is not itself a change
    assert [t.name for t in full if t.mutating] == [
        "delete_pod",
        "scale_deployment",
        "rollout_restart",
        "apply_resource",
        "patch_resource",
        "set_image",
        "scale_resource",
        "rollout_restart_resource",
        "rollout_undo",
        "delete_resource",
        "exec_in_container",
        "apply_manifest",
    ]
    # the security agent never gets a mutating tool, whatever the mode
    sec = specialists()["security"]
    assert not [t for t in sec.registry(full) if t.mutating] and sec.write_mode(True) is False


def test_apply_manifest_tool_dry_run_summary_create_and_refusals(demo_cluster):
    tools = {t.name: t for t in coder_tools(demo_cluster, Settings(), namespace="default")}
    apply = tools["apply_manifest"]
    assert apply.mutating and apply.needs_approval
    name = f"coder-{uuid.uuid4().hex[:8]}"
    args = {"yaml": _configmap(name)}
    assert "server dry run accepted" in apply.dry_run(args)
    assert not _exists(demo_cluster, name)
    summary = apply.summary(args)
    assert (summary.verb, summary.kind, summary.name, summary.namespace) == (
        "create",
        "ConfigMap",
        name,
        "default",
    )
    assert "opsconsole-sandbox" in summary.detail
    # read-only: the HTTP layer refuses the real create, whatever the tool does
    refused = apply.handler(args)
    assert refused.is_error and "read-only" in refused.content and not _exists(demo_cluster, name)
    demo_cluster.write_mode = True  # what the runtime does when the session enters write mode
    try:
        res = apply.handler(args)
        assert not res.is_error and f"created ConfigMap default/{name}" in res.content
        assert _exists(demo_cluster, name)
        again = apply.handler(args)
        assert "already exists" in again.content
    finally:
        demo_cluster.write_mode = False
    for kind in ("Secret", "ClusterRoleBinding"):
        bad = apply.handler({"yaml": f"apiVersion: v1\nkind: {kind}\nmetadata: {{name: x}}\n"})
        assert bad.is_error and f"does not create {kind}" in bad.content
    invalid = apply.handler({"yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: Bad}\n"})
    assert invalid.is_error and "fails validation" in invalid.content


class _Approver:
    def __init__(self, decision: str) -> None:
        self.decision = decision
        self.requests = []

    async def approve(self, request):
        self.requests.append(request)
        return ApprovalDecision(self.decision)  # type: ignore[arg-type]


async def _run_apply(demo_cluster, approver, write_mode: bool):
    name = f"coder-{uuid.uuid4().hex[:8]}"
    with ScriptedOpenAIServer() as coder_srv:
        coder_srv.push(
            reply(tool_calls=[tool_call("apply_manifest", {"yaml": _configmap(name)})]),
            reply("done"),
        )
        settings = team_settings({"coder": coder_srv}, write_mode=write_mode)
        s = build_scheduler(model_factory(settings), demo_cluster, settings, approver)
        demo_cluster.write_mode = write_mode  # the runtime sets the HTTP guard's mode
        try:
            events = await collect(s, "@coder create the configmap")
        finally:
            demo_cluster.write_mode = False
        assert coder_srv.rejections == []
        tools = [t["function"]["name"] for t in coder_srv.requests[0]["tools"]]
    return name, events, tools


async def test_read_only_session_does_not_offer_apply_and_refuses_it(demo_cluster):
    approver = _Approver("approve")
    name, events, tools = await _run_apply(demo_cluster, approver, write_mode=False)
    assert "apply_manifest" not in tools and "validate_manifest" in tools
    fin = [e for e in of(events, ToolCallFinished, "coder") if e.tool == "apply_manifest"][0]
    assert fin.status == "refused" and approver.requests == []
    assert not _exists(demo_cluster, name)


async def test_write_mode_apply_waits_for_approval_and_decline_creates_nothing(demo_cluster):
    name, events, tools = await _run_apply(demo_cluster, DenyAllApprover(), write_mode=True)
    assert "apply_manifest" in tools
    resolved = of(events, ApprovalResolved, "coder")
    assert [(r.decision, r.source) for r in resolved] == [("decline", "policy")]
    fin = [e for e in of(events, ToolCallFinished, "coder") if e.tool == "apply_manifest"][0]
    assert fin.status == "refused"
    assert not _exists(demo_cluster, name)

    approver = _Approver("decline")
    name, events, _ = await _run_apply(demo_cluster, approver, write_mode=True)
    asked = of(events, ApprovalRequested, "coder")
    assert asked and asked[0].verb == "create" and "dry run accepted" in asked[0].dry_run
    assert not _exists(demo_cluster, name)

    approver = _Approver("approve")
    name, events, _ = await _run_apply(demo_cluster, approver, write_mode=True)
    assert [r.tool for r in approver.requests] == ["apply_manifest"]
    assert approver.requests[0].agent == "coder"
    assert "dry run accepted" in approver.requests[0].dry_run
    assert of(events, AgentDispatched)[0].target == "coder"
    assert _exists(demo_cluster, name)
