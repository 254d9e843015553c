"""Faults injected into a fresh sandbox through the API: the planner still finds the cause.

- shop/cart scaled to 0 replicas through the official client's scale subresource: the cart
  Service has no endpoints; the answer says the deployment has 0 replicas.
- pods/log forbidden in payments (RBAC-like 403): the answer says the logs could not be read
  and does not invent their content.
"""

from __future__ import annotations

import asyncio
import time
from pathlib import Path
from typing import Any

from opsconsole.agent.tools import ToolRegistry
from opsconsole.config import Settings
from opsconsole.k8s.client import Cluster
from opsconsole.k8s.tools import build_k8s_tools

from .conftest import CONTEXT
from .test_demo_faults import ask, check_common


def _tools(server: Any, tmp_path: Path) -> tuple[Cluster, ToolRegistry]:
    kc = server.write_kubeconfig(tmp_path / "kubeconfig")
    cluster = Cluster(kubeconfig=kc, context=CONTEXT, request_timeout=5)
    return cluster, ToolRegistry(build_k8s_tools(cluster, Settings()))


async def test_service_of_a_deployment_scaled_to_zero(fresh_sandbox: Any, tmp_path: Path) -> None:
    server = fresh_sandbox()
    cluster, tools = _tools(server, tmp_path)
    try:
        apps = cluster.api("apps")
        cluster.write_mode = True  # the test's own fault injection, not the agent's
        apps.patch_namespaced_deployment_scale(
            "cart", "shop", {"spec": {"replicas": 0}}, _request_timeout=5
        )
        cluster.write_mode = False
        core = cluster.api("core")
        deadline = time.monotonic() + 60  # the pods terminate
        while time.monotonic() < deadline:
            pods = core.list_namespaced_pod("shop", label_selector="app=cart", _request_timeout=5)
            if not pods.items:
                break
            await asyncio.sleep(0.1)
        assert not pods.items, "cart's pods did not terminate"
        for lang, task in (
            ("en", "Requests to the cart service in the shop namespace fail with 503. Why?"),
            ("zh", "请求 shop 命名空间的 cart 服务返回 503，发生了什么？"),
        ):
            out = await ask(tools, task)
            check_common(out, lang)
            assert "0/0" in out.answer
            assert ("scaled to 0 replicas" if lang == "en" else "副本数为 0") in out.answer
            assert "kubectl scale deployment/cart --replicas=N -n shop" in out.answer
            assert "CrashLoopBackOff" not in out.answer
    finally:
        cluster.close()


async def test_forbidden_logs_are_reported_not_guessed(fresh_sandbox: Any, tmp_path: Path) -> None:
    server = fresh_sandbox()
    server.faults.forbid("pods/log", "payments")
    cluster, tools = _tools(server, tmp_path)
    try:
        for lang, task in (
            ("en", "Why is payment-api in the payments namespace crash-looping?"),
            ("zh", "payments 命名空间的 payment-api 为什么一直 CrashLoopBackOff？"),
        ):
            out = await ask(tools, task, errors_ok=True)
            assert any(name == "get_pod_logs" for name, _ in out.calls)
            assert "forbidden" in out.answer
            assert ("RBAC" in out.answer) if lang == "en" else ("权限不足" in out.answer)
            assert "CrashLoopBackOff" in out.answer
    finally:
        cluster.close()
