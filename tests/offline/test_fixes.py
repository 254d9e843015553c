"""The offline planner's fixes: diagnosis, then the real change through the approval path.

The real loop, the real tools, a sandbox over HTTP per test. Objects of our own (other names, in
namespace ``billing``) are created with the official client, so the planner can only decide from
what its reads returned; the demo's faults are checked too. Per fault: the diagnosis names the
cause; in write mode the approval carries the server's dry-run diff; an approved change fixes the
cluster (read back with the official client); a declined one changes nothing; read-only, the
answer explains the fix and says write mode would propose it.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from kubernetes import client as k8s

from opsconsole.agent.approval import ApprovalDecision, ApprovalRequest
from opsconsole.agent.events import Answer, ToolCallFinished, ToolCallStarted
from opsconsole.agent.loop import AgentLoop
from opsconsole.agent.tools import ToolRegistry
from opsconsole.config import Settings
from opsconsole.k8s.client import Cluster
from opsconsole.k8s.tools import build_k8s_tools
from opsconsole.planner import OfflinePlanner

from .conftest import CONTEXT

NS = "billing"


class Approver:
    def __init__(self, decision: str) -> None:
        self.decision = decision
        self.requests: list[ApprovalRequest] = []

    async def approve(self, request: ApprovalRequest) -> ApprovalDecision:
        self.requests.append(request)
        return ApprovalDecision(self.decision)  # type: ignore[arg-type]


@dataclass
class Run:
    answer: str = ""
    calls: list[tuple[str, dict[str, Any], bool]] = field(default_factory=list)
    finished: list[tuple[str, str]] = field(default_factory=list)


@dataclass
class World:
    cluster: Cluster
    write_tools: ToolRegistry
    read_tools: ToolRegistry

    @property
    def core(self) -> k8s.CoreV1Api:
        return self.cluster.api("core")  # type: ignore[no-any-return]

    @property
    def apps(self) -> k8s.AppsV1Api:
        return self.cluster.api("apps")  # type: ignore[no-any-return]

    async def ask(self, task: str, decision: str | None) -> tuple[Run, Approver]:
        """``decision`` None: read-only; else write mode answering every approval so."""
        write = decision is not None
        approver = Approver(decision or "decline")
        settings = Settings.from_data({"agent": {"write_mode": write}})
        loop = AgentLoop(
            OfflinePlanner(),
            self.write_tools if write else self.read_tools,
            settings=settings,
            approver=approver,
            write_mode=write,
            context=CONTEXT,
        )
        run = Run()
        async with contextlib.aclosing(loop.run(task)) as events:
            async for ev in events:
                if isinstance(ev, ToolCallStarted):
                    run.calls.append((ev.tool, dict(ev.arguments), ev.mutating))
                elif isinstance(ev, ToolCallFinished):
                    run.finished.append((ev.tool, ev.status))
                elif isinstance(ev, Answer):
                    run.answer = ev.text
        return run, approver

    async def until(self, check: Callable[[], bool], timeout: float = 90.0) -> bool:
        deadline = time.monotonic() + timeout
        while not check():
            if time.monotonic() > deadline:
                return False
            await asyncio.sleep(0.2)
        return True

    def ready_pods(self, ns: str, prefix: str) -> int:
        n = 0
        for p in self.core.list_namespaced_pod(ns, _request_timeout=5).items:
            if not p.metadata.name.startswith(prefix + "-") or p.metadata.deletion_timestamp:
                continue
            conds = {c.type: c.status for c in p.status.conditions or ()}
            n += conds.get("Ready") == "True"
        return n

    def endpoints(self, ns: str, name: str) -> int:
        ep = self.core.read_namespaced_endpoints(name, ns, _request_timeout=5)
        return sum(len(s.addresses or ()) for s in ep.subsets or ())


@pytest.fixture
def world(fresh_sandbox: Any, tmp_path: Path) -> Iterator[World]:
    server = fresh_sandbox()
    kc = server.write_kubeconfig(tmp_path / "kubeconfig")
    cluster = Cluster(kubeconfig=kc, context=CONTEXT, request_timeout=5, write_mode=True)
    write = ToolRegistry(
        build_k8s_tools(cluster, Settings.from_data({"agent": {"write_mode": True}}))
    )
    read = ToolRegistry(build_k8s_tools(cluster, Settings()))
    cluster.api("core").create_namespace({"metadata": {"name": NS}}, _request_timeout=5)
    yield World(cluster, write, read)
    cluster.close()


def _deployment(name: str, labels: dict[str, str], container: dict[str, Any]) -> dict[str, Any]:
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": name, "namespace": NS},
        "spec": {
            "replicas": 1,
            "selector": {"matchLabels": labels},
            "template": {"metadata": {"labels": labels}, "spec": {"containers": [container]}},
        },
    }


def _changes(run: Run) -> list[tuple[str, dict[str, Any]]]:
    return [(name, args) for name, args, mutating in run.calls if mutating]


# --- a ConfigMap key the environment reads, missing (renamed) -------------------------------


def _missing_key(world: World) -> None:
    world.core.create_namespaced_config_map(
        NS,
        {"metadata": {"name": "mailer-settings"}, "data": {"smtp_hostname": "smtp.billing.test"}},
        _request_timeout=5,
    )
    env = [
        {
            "name": "SMTP_HOST",
            "valueFrom": {
                "configMapKeyRef": {"name": "mailer-settings", "key": "smtp_host", "optional": True}
            },
        }
    ]
    body = _deployment(
        "invoice-mailer",
        {"app": "invoice-mailer"},
        {"name": "mailer", "image": "registry.example.com/billing/mailer:1.0", "env": env},
    )
    world.apps.create_namespaced_deployment(NS, body, _request_timeout=5)


def _cm_data(world: World) -> dict[str, str]:
    cm = world.core.read_namespaced_config_map("mailer-settings", NS, _request_timeout=5)
    return dict(cm.data or {})


async def test_missing_config_key_is_added_after_approval(world: World) -> None:
    _missing_key(world)
    run, approver = await world.ask("why is invoice-mailer in billing failing", "approve")
    assert "`smtp_host`" in run.answer and "mailer-settings" in run.answer
    assert _changes(run) == [
        (
            "patch_resource",
            {
                "kind": "configmap",
                "name": "mailer-settings",
                "namespace": NS,
                "patch": {"data": {"smtp_host": "smtp.billing.test"}},
                "patch_type": "merge",
            },
        )
    ]
    (req,) = approver.requests
    assert "+" in req.diff and "smtp_host" in req.diff  # the server's dry-run diff
    assert _cm_data(world) == {
        "smtp_hostname": "smtp.billing.test",
        "smtp_host": "smtp.billing.test",
    }
    assert ("patch_resource", "ok") in run.finished


async def test_declined_config_fix_changes_nothing(world: World) -> None:
    _missing_key(world)
    run, approver = await world.ask("why is invoice-mailer in billing failing", "decline")
    assert len(approver.requests) == 1
    assert _cm_data(world) == {"smtp_hostname": "smtp.billing.test"}
    assert "nothing was changed" in run.answer


async def test_read_only_explains_the_config_fix(world: World) -> None:
    _missing_key(world)
    run, approver = await world.ask("why is invoice-mailer in billing failing", None)
    assert approver.requests == [] and _changes(run) == []
    assert "has no key `smtp_host`" in run.answer and "`smtp_hostname`" in run.answer
    assert "kubectl patch configmap mailer-settings -n billing" in run.answer
    assert "write mode" in run.answer
    assert _cm_data(world) == {"smtp_hostname": "smtp.billing.test"}


# --- a Service selector that matches no pod ---------------------------------------------------


async def test_service_selector_is_fixed_and_endpoints_appear(world: World) -> None:
    body = _deployment(
        "ledger-api",
        {"app": "ledger-api-server"},
        {
            "name": "api",
            "image": "registry.example.com/billing/ledger-api:3.1",
            "ports": [{"containerPort": 8080}],
        },
    )
    world.apps.create_namespaced_deployment(NS, body, _request_timeout=5)
    svc = {
        "metadata": {"name": "ledger-api"},
        "spec": {"selector": {"app": "ledger-api"}, "ports": [{"port": 80, "targetPort": 8080}]},
    }
    world.core.create_namespaced_service(NS, svc, _request_timeout=5)
    assert await world.until(lambda: world.ready_pods(NS, "ledger-api") == 1)
    run, approver = await world.ask(
        "The ledger-api service in the billing namespace has no endpoints. Why?", "approve"
    )
    assert "app=ledger-api-server" in run.answer and "selector" in run.answer
    assert [n for n, _ in _changes(run)] == ["patch_resource"]
    (req,) = approver.requests
    assert "ledger-api-server" in req.diff
    assert await world.until(lambda: world.endpoints(NS, "ledger-api") == 1)


# --- a request no node can take -------------------------------------------------------------------


async def test_unschedulable_request_is_lowered_and_the_pod_runs(world: World) -> None:
    body = _deployment(
        "report-builder",
        {"app": "report-builder"},
        {
            "name": "builder",
            "image": "registry.example.com/billing/reports:0.3",
            "resources": {"requests": {"cpu": "12", "memory": "1Gi"}},
        },
    )
    world.apps.create_namespaced_deployment(NS, body, _request_timeout=5)
    run, approver = await world.ask("why is report-builder in billing pending", "approve")
    assert "Insufficient cpu" in run.answer and "requests cpu 12" in run.answer
    assert [n for n, _ in _changes(run)] == ["patch_resource"]
    (req,) = approver.requests
    assert "cpu" in req.diff and "12" in req.diff
    assert await world.until(lambda: world.ready_pods(NS, "report-builder") == 1)


# --- the demo's faults ------------------------------------------------------------------------


async def test_demo_payment_api_gets_its_key(world: World) -> None:
    run, approver = await world.ask(
        "Why is payment-api in the payments namespace crash-looping?", "approve"
    )
    assert "no key `gateway_url`" in run.answer
    (req,) = approver.requests
    assert "gateway_url" in req.diff
    cm = world.core.read_namespaced_config_map("payment-api-config", "payments", _request_timeout=5)
    assert cm.data["gateway_url"] == cm.data["gateway_endpoint"]


async def test_demo_feature_store_selector_is_fixed(world: World) -> None:
    assert world.endpoints("ml", "feature-store") == 0
    run, approver = await world.ask(
        "Connections to the feature-store service in the ml namespace are refused. Why?",
        "approve",
    )
    assert "+    app: feature-store-server" in approver.requests[0].diff
    assert await world.until(lambda: world.endpoints("ml", "feature-store") == 1)


async def test_demo_image_resizer_memory_limit_is_raised(world: World) -> None:
    run, approver = await world.ask("why is image-resizer in shop failing", "approve")
    assert "OOMKilled" in run.answer and "128Mi" in run.answer
    (req,) = approver.requests
    assert "128Mi" in req.diff and "512Mi" in req.diff  # the logs say it needs ~380Mi
    dep = world.apps.read_namespaced_deployment("image-resizer", "shop", _request_timeout=5)
    assert dep.spec.template.spec.containers[0].resources.limits["memory"] == "512Mi"
    assert await world.until(lambda: world.ready_pods("shop", "image-resizer") == 1)


async def test_demo_search_indexer_request_is_lowered(world: World) -> None:
    run, approver = await world.ask("why is search-indexer in shop pending", "decline")
    assert "Insufficient cpu" in run.answer
    assert len(approver.requests) == 1 and "cpu" in approver.requests[0].diff
    dep = world.apps.read_namespaced_deployment("search-indexer", "shop", _request_timeout=5)
    assert dep.spec.template.spec.containers[0].resources.requests["cpu"] == "6"  # declined


async def test_demo_checkout_is_rolled_back_to_the_revision_before(world: World) -> None:
    """The tag cannot be pulled; the rollout history has the image before it."""
    run, approver = await world.ask("why is checkout failing", "approve")
    assert "v2.3.1-rc" in run.answer and "Revision 7" in run.answer
    assert _changes(run) == [
        ("rollout_undo", {"name": "checkout", "namespace": "shop", "to_revision": 7})
    ]
    (req,) = approver.requests
    lines = [line.replace(" ", "") for line in req.diff.splitlines()]
    assert any(x.startswith("-") and x.endswith("checkout:v2.3.1-rc") for x in lines), lines
    assert any(x.startswith("+") and x.endswith("checkout:v2.3.0") for x in lines), lines
    dep = world.apps.read_namespaced_deployment("checkout", "shop", _request_timeout=5)
    assert dep.spec.template.spec.containers[0].image.endswith(":v2.3.0")
    assert await world.until(lambda: world.ready_pods("shop", "checkout") == 1)


async def test_demo_checkout_read_only_explains_the_rollback(world: World) -> None:
    run, approver = await world.ask("why is checkout in shop failing", None)
    assert approver.requests == [] and _changes(run) == []
    assert "kubectl rollout undo deployment/checkout -n shop --to-revision=7" in run.answer
    assert "write mode" in run.answer


async def test_fix_request_in_chinese_proposes_the_same_change(world: World) -> None:
    """修复 X is a diagnosis that ends in its fix; the answer is in Chinese."""
    _missing_key(world)
    run, approver = await world.ask("修复 billing 的 invoice-mailer", "approve")
    assert len(approver.requests) == 1 and "smtp_host" in approver.requests[0].diff
    assert "## 修复" in run.answer and "没有键 `smtp_host`" in run.answer
    assert _cm_data(world)["smtp_host"] == "smtp.billing.test"
