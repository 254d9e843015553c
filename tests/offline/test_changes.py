"""Changes through the offline planner in write mode: the real loop, the real tools, a sandbox.

Each test starts its own sandbox (the changes are real), asks in English or Chinese, and
answers the approvals from a script: the planner must find the object where it lives (shop,
not the console's default namespace), take "the crashlooping pod" as a state rather than a
name, propose one approval per pod, and, after a decline, say that nothing was changed.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from opsconsole.agent.approval import ApprovalDecision, ApprovalRequest
from opsconsole.agent.events import (
    Answer,
    RunFinished,
    Thought,
    ToolCallFinished,
    ToolCallStarted,
    UsageReported,
)
from opsconsole.agent.loop import AgentLoop
from opsconsole.agent.tools import ToolRegistry
from opsconsole.config import Settings
from opsconsole.k8s.client import Cluster
from opsconsole.k8s.tools import build_k8s_tools
from opsconsole.planner import OfflinePlanner

from .conftest import CONTEXT

HEADER = "〔离线规划器 / offline planner〕"
CHANGES = ("delete_pod", "scale_deployment", "rollout_restart")
RESTARTED = "kubectl.kubernetes.io/restartedAt"


class Approver:
    """Answers the approval requests from a script (then declines) and records them."""

    def __init__(self, *decisions: str) -> None:
        self.decisions = list(decisions)
        self.requests: list[ApprovalRequest] = []

    async def approve(self, request: ApprovalRequest) -> ApprovalDecision:
        self.requests.append(request)
        return ApprovalDecision(self.decisions.pop(0) if self.decisions else "decline")  # type: ignore[arg-type]


@dataclass
class Outcome:
    answer: str = ""
    thoughts: list[str] = field(default_factory=list)
    steps: list[list[tuple[str, dict[str, Any]]]] = field(default_factory=list)
    finished: list[tuple[str, str, str]] = field(default_factory=list)
    usage: list[tuple[int, int]] = field(default_factory=list)
    done: RunFinished | None = None

    @property
    def changes(self) -> list[tuple[str, dict[str, Any]]]:
        return [(n, a) for step in self.steps for n, a in step if n in CHANGES]


@dataclass
class World:
    server: Any
    cluster: Cluster
    tools: ToolRegistry

    async def ask(self, task: str, approver: Approver, *, namespace: str | None = None) -> Outcome:
        settings = Settings.from_data({"agent": {"write_mode": True}})
        loop = AgentLoop(
            OfflinePlanner(),
            self.tools,
            settings=settings,
            approver=approver,
            write_mode=True,
            context=CONTEXT,
            namespace=namespace,
        )
        out = Outcome()
        async with contextlib.aclosing(loop.run(task)) as events:
            async for ev in events:
                if isinstance(ev, Thought):  # the calls proposed (declined ones never start)
                    out.thoughts.append(ev.text)
                    calls = [(c["name"], json.loads(c["arguments"])) for c in ev.tool_calls]
                    out.steps.append(calls)
                elif isinstance(ev, ToolCallFinished):
                    out.finished.append((ev.tool, ev.status, ev.output))
                elif isinstance(ev, UsageReported):
                    out.usage.append((ev.prompt_tokens, ev.completion_tokens))
                elif isinstance(ev, Answer):
                    out.answer = ev.text
                elif isinstance(ev, RunFinished):
                    out.done = ev
        assert out.done is not None, out
        assert out.answer.startswith(HEADER)
        assert set(out.usage) == {(0, 0)}  # no model, no tokens
        return out

    def annotations(self, ns: str, name: str) -> dict[str, str]:
        dep = self.cluster.api("apps").read_namespaced_deployment(name, ns, _request_timeout=5)
        return dict(dep.spec.template.metadata.annotations or {})

    def pod_names(self, ns: str) -> set[str]:
        """The pods of ``ns`` that are not being deleted."""
        pods = self.cluster.api("core").list_namespaced_pod(ns, _request_timeout=5)
        return {p.metadata.name for p in pods.items if p.metadata.deletion_timestamp is None}

    async def gone(self, ns: str, pod: str, timeout: float = 30.0) -> bool:
        """Whether ``pod`` stops being a live pod (deleted) within a generous ``timeout``."""
        deadline = time.monotonic() + timeout
        while pod in self.pod_names(ns):
            if time.monotonic() > deadline:
                return False
            await asyncio.sleep(0.1)
        return True

    def crashlooping(self) -> list[tuple[str, str]]:
        out = []
        pods = self.cluster.api("core").list_pod_for_all_namespaces(_request_timeout=5)
        for p in pods.items:
            for cs in p.status.container_statuses or []:
                waiting = cs.state.waiting if cs.state else None
                if waiting is not None and waiting.reason == "CrashLoopBackOff":
                    out.append((p.metadata.namespace, p.metadata.name))
        return sorted(out)


@pytest.fixture
def world(fresh_sandbox: Any, tmp_path: Path) -> Iterator[World]:
    server = fresh_sandbox()
    kc = server.write_kubeconfig(tmp_path / "kubeconfig")
    # a write-mode session: the runtime puts the cluster's HTTP guard in write mode too
    cluster = Cluster(kubeconfig=kc, context=CONTEXT, request_timeout=5, write_mode=True)
    settings = Settings.from_data({"agent": {"write_mode": True}})
    yield World(server, cluster, ToolRegistry(build_k8s_tools(cluster, settings)))
    cluster.close()


# --- restart: the deployment's own namespace ---------------------------------------------------


@pytest.mark.parametrize("console_ns", [None, "shop"])
async def test_restart_targets_the_namespace_the_deployment_lives_in(
    world: World, console_ns: str | None
) -> None:
    """checkout lives in shop: not in `default`, whatever the console's namespace is (A1)."""
    approver = Approver("approve")
    out = await world.ask("restart the checkout deployment", approver, namespace=console_ns)
    assert out.changes == [("rollout_restart", {"namespace": "shop", "name": "checkout"})]
    assert [r.arguments for r in approver.requests] == [{"namespace": "shop", "name": "checkout"}]
    assert "dry run failed" not in (approver.requests[0].dry_run or "")
    # the lookup came first, and its thought names what it looks in
    assert out.steps[0] == [("get_deployments", {})]
    assert "all namespaces" in out.thoughts[0]
    assert "shop" in out.thoughts[1] and "approval" in out.thoughts[1]
    assert RESTARTED in world.annotations("shop", "checkout")
    assert "restarted" in out.answer and "show the pods in shop" in out.answer


async def test_declined_restart_in_chinese_changes_nothing(world: World) -> None:
    """重启 in write mode is a change (not a diagnosis); declined, the answer says so (A1, B)."""
    approver = Approver("decline")
    out = await world.ask("重启 checkout", approver)
    assert out.changes == [("rollout_restart", {"namespace": "shop", "name": "checkout"})]
    assert len(approver.requests) == 1
    assert RESTARTED not in world.annotations("shop", "checkout")
    assert "没有做任何变更" in out.answer and "已拒绝" in out.answer
    assert "就绪" not in out.answer  # no "confirm the new pods became ready"
    assert "只读" not in out.answer


async def test_declined_change_in_english_says_nothing_changed(world: World) -> None:
    out = await world.ask("Please restart the web deployment.", Approver("decline"))
    assert out.changes == [("rollout_restart", {"namespace": "shop", "name": "web"})]
    assert "nothing was changed" in out.answer
    assert "confirm the new pods" not in out.answer


async def test_unknown_deployment_is_not_proposed(world: World) -> None:
    approver = Approver("approve")
    out = await world.ask("restart the payment deployment", approver)
    assert out.changes == [] and approver.requests == []
    assert "No deployment named `payment`" in out.answer
    assert "payments/payment-api" in out.answer  # the similar name is suggested


# --- delete: pods by state ---------------------------------------------------------------------


async def test_delete_the_crashlooping_pod_deletes_the_crashloopbackoff_pods(world: World) -> None:
    """ "crashlooping" is a state, not a pod name: every pod in CrashLoopBackOff is proposed,
    one approval each, in the namespace it lives in (A1)."""
    crashing = world.crashlooping()
    assert len(crashing) >= 2 and {ns for ns, _ in crashing} == {"payments", "shop"}
    approver = Approver(*["approve"] * len(crashing))
    out = await world.ask("delete the crashlooping pod", approver)
    proposed = sorted((a["namespace"], a["pod_name"]) for _, a in out.changes)
    assert proposed == crashing
    assert all(name == "delete_pod" for name, _ in out.changes)
    assert len(approver.requests) == len(crashing)  # one approval per pod
    assert all(len(step) == 1 for step in out.steps[1:])  # one change per step
    assert "crashlooping" not in str([a for _, a in out.changes])
    assert "CrashLoopBackOff" in out.thoughts[1] and "approval" in out.thoughts[1]
    for ns, pod in crashing:
        assert await world.gone(ns, pod)
        assert f"{ns}/{pod} deleted" in out.answer
    # deleting does not fix the cause: the answer says what the analyzers saw
    assert "does not fix" in out.answer and "PAYMENT_GATEWAY_URL" in out.answer


async def test_chinese_delete_in_write_mode_pod_by_pod(world: World) -> None:
    """删除 crashloop 的 pod with write mode on: proposed, not answered as read-only (A1).
    One change per step: approve the first, decline the second, approve the third; the
    decline skips only that pod."""
    crashing = world.crashlooping()
    assert len(crashing) == 3
    approver = Approver("approve", "decline", "approve")
    out = await world.ask("删除 crashloop 的 pod", approver)
    assert "只读模式" not in out.answer
    proposed = [(a["namespace"], a["pod_name"]) for _, a in out.changes]
    assert sorted(proposed) == crashing
    assert [len(step) for step in out.steps[1:]] == [1, 1, 1]  # one change per step
    assert len(approver.requests) == 3
    first, second, third = proposed
    assert await world.gone(*first) and await world.gone(*third)
    assert second[1] in world.pod_names(second[0])
    statuses = [s for tool, s, _ in out.finished if tool == "delete_pod"]
    assert statuses == ["ok", "declined", "ok"]
    assert "逐个" in out.thoughts[1] and "你拒绝了" in out.thoughts[3]
    assert "变更结果" in out.answer and "已拒绝，未执行" in out.answer
    assert "不会修复" in out.answer


async def test_declining_every_change_says_nothing_changed(world: World) -> None:
    approver = Approver("decline", "decline")
    out = await world.ask(
        "In the shop namespace, scale the catalog deployment to 3 replicas and do a rolling "
        "restart of the web deployment.",
        approver,
    )
    assert [n for n, _ in out.changes] == ["scale_deployment", "rollout_restart"]
    assert len(approver.requests) == 2
    assert "You declined the changes: **nothing was changed**." in out.answer
    assert "confirm" not in out.answer
    assert RESTARTED not in world.annotations("shop", "web")


async def test_a_workload_with_several_healthy_pods_is_asked_about(world: World) -> None:
    approver = Approver("approve")
    out = await world.ask("delete the ledger pod", approver)
    assert out.changes == [] and approver.requests == []
    assert "matches 2 pods" in out.answer and "payments/ledger-" in out.answer


# --- read-only mode: the exact commands --------------------------------------------------------


async def test_read_only_mode_gives_the_right_namespace(world: World) -> None:
    loop = AgentLoop(OfflinePlanner(), world.tools, settings=Settings(), write_mode=False)
    answer = ""
    async with contextlib.aclosing(loop.run("restart the checkout deployment")) as events:
        async for ev in events:
            if isinstance(ev, ToolCallStarted):
                assert not ev.mutating
            elif isinstance(ev, Answer):
                answer = ev.text
    assert "read-only" in answer
    assert "kubectl rollout restart deployment/checkout -n shop" in answer
    assert "<" not in answer  # no <name>/<namespace> placeholders


async def test_restart_it_after_a_diagnosis_targets_that_workload(world: World) -> None:
    """ "restart it" / "删除它" refer back to the pod the conversation was about. (In write
    mode the diagnosis itself proposes its fix, the missing ConfigMap key: the first approval.)"""
    approver = Approver("approve", "approve", "decline")
    settings = Settings.from_data({"agent": {"write_mode": True}})
    loop = AgentLoop(OfflinePlanner(), world.tools, settings=settings, approver=approver)
    proposed: list[tuple[str, dict[str, Any]]] = []
    for task in ("why is payment-api in payments failing", "restart it", "删除它"):
        async with contextlib.aclosing(loop.run(task)) as events:
            async for ev in events:
                if isinstance(ev, Thought):
                    proposed += [
                        (c["name"], json.loads(c["arguments"]))
                        for c in ev.tool_calls
                        if c["name"] in CHANGES
                    ]
    assert proposed[0] == ("rollout_restart", {"namespace": "payments", "name": "payment-api"})
    assert proposed[1][0] == "delete_pod"
    assert proposed[1][1]["namespace"] == "payments"
    assert proposed[1][1]["pod_name"].startswith("payment-api-")
    assert RESTARTED in world.annotations("payments", "payment-api")
