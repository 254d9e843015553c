"""One policy for every tool: ``kubernetes.allowed_namespaces`` and ``kubernetes.denied_kinds``
(and ``denied_change_kinds``, secrets by default) refuse a call before any request, for the
old tools and the new ones alike. The registry is iterated: a mutating tool added without a
sample here fails the test."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from opsconsole.agent.tools import DryRun, ToolRegistry
from opsconsole.config import Settings
from opsconsole.k8s.client import Cluster
from opsconsole.k8s.discovery import raw_get
from opsconsole.k8s.tools import build_k8s_tools
from tests.k8s.conftest import cluster_for, pod_of

CM = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: x\n  namespace: shop\ndata: {a: b}\n"


def samples(pod: str) -> dict[str, dict[str, Any]]:
    """A valid call of every mutating tool, each in namespace shop."""
    return {
        "delete_pod": {"namespace": "shop", "pod_name": pod},
        "scale_deployment": {"namespace": "shop", "name": "web", "replicas": 1},
        "rollout_restart": {"namespace": "shop", "name": "web"},
        "apply_resource": {"manifest": CM.replace("ConfigMap", "ConfigMap")},
        "patch_resource": {"kind": "deploy", "name": "web", "namespace": "shop",
                           "patch": {"metadata": {"labels": {"a": "b"}}}},
        "set_image": {"name": "web", "namespace": "shop", "container": "web", "image": "a:1"},
        "scale_resource": {"kind": "deploy", "name": "web", "namespace": "shop", "replicas": 1},
        "rollout_restart_resource": {"kind": "deploy", "name": "web", "namespace": "shop"},
        "rollout_undo": {"name": "web", "namespace": "shop"},
        "delete_resource": {"kind": "pods", "name": pod, "namespace": "shop"},
        "exec_in_container": {"namespace": "shop", "pod_name": pod, "command": ["true"]},
    }  # fmt: skip


#: the kind each sample touches (for denied_kinds)
KINDS = {
    "delete_pod": "pods",
    "scale_deployment": "deployments",
    "rollout_restart": "deployments",
    "apply_resource": "configmaps",
    "patch_resource": "deployments",
    "set_image": "deployments",
    "scale_resource": "deployments",
    "rollout_restart_resource": "deployments",
    "rollout_undo": "deployments",
    "delete_resource": "pods",
    "exec_in_container": "pods",
}


@pytest.fixture
def server(fresh_sandbox: Any) -> Any:
    return fresh_sandbox(scenario="demo", speed=1.0)


def _cluster(server: Any, tmp_path: Path, settings: Settings) -> Cluster:
    from opsconsole.k8s.client import Cluster

    c = Cluster.from_settings(
        settings,
        kubeconfig=server.write_kubeconfig(tmp_path / f"kc-{len(list(tmp_path.iterdir()))}"),
    )
    c.write_mode = True  # the policy, not the read-only guard, must be what refuses
    return c


@pytest.fixture
def pod(server: Any, tmp_path: Path) -> Iterator[str]:
    c = cluster_for(server, tmp_path)
    yield pod_of(c, "shop", "web-")
    c.close()


def _state(c: Cluster) -> str:
    rv = raw_get(c, "/apis/apps/v1/namespaces/shop/deployments/web")["metadata"]
    pods = raw_get(c, "/api/v1/namespaces/shop/pods")["items"]
    return f"{rv['resourceVersion']}:{len(pods)}:{sorted(p['metadata']['name'] for p in pods)}"


def test_every_mutating_tool_has_a_sample(pod: str):
    mutating = {t.name for t in build_k8s_tools(None, Settings()) if t.mutating}
    assert mutating == set(samples(pod)) == set(KINDS)


def test_every_mutating_tool_honours_allowed_namespaces(server: Any, tmp_path: Path, pod: str):
    settings = Settings.from_data({"kubernetes": {"allowed_namespaces": ["payments"]}})
    c = _cluster(server, tmp_path, settings)
    reg = ToolRegistry(build_k8s_tools(c, settings))
    before = _state(c)
    for name, args in samples(pod).items():
        tool = reg.get(name)
        assert tool is not None and tool.mutating, name
        dry = tool.dry_run(args)  # type: ignore[misc]
        assert isinstance(dry, DryRun) and dry.rejected, (name, dry)
        assert "outside the configured allowlist" in dry.text, (name, dry.text)
        res = tool.handler(args)
        assert res.is_error and "outside the configured allowlist" in res.content, name  # type: ignore[union-attr]
    assert _state(c) == before
    # a cluster-scoped change while the namespaces are restricted
    ns = reg.get("delete_resource").dry_run({"kind": "ns", "name": "shop"})  # type: ignore[union-attr]
    assert ns.rejected and "outside the configured allowlist" in ns.text
    crb = reg.get("delete_resource").dry_run({"kind": "clusterrolebindings", "name": "x"})  # type: ignore[union-attr]
    assert crb.rejected and "cluster-scoped" in crb.text
    c.close()


def test_every_mutating_tool_honours_denied_kinds(server: Any, tmp_path: Path, pod: str):
    settings = Settings.from_data({"kubernetes": {"denied_kinds": ["po", "deploy", "configmaps"]}})
    c = _cluster(server, tmp_path, settings)
    reg = ToolRegistry(build_k8s_tools(c, settings))
    before = _state(c)
    for name, args in samples(pod).items():
        tool = reg.get(name)
        assert tool is not None
        dry = tool.dry_run(args)  # type: ignore[misc]
        assert isinstance(dry, DryRun) and dry.rejected, (name, dry)
        assert f"{KINDS[name]}" in dry.text and "denied by policy" in dry.text, (name, dry.text)
        res = tool.handler(args)
        assert res.is_error and "denied by policy" in res.content, name  # type: ignore[union-attr]
    assert _state(c) == before
    # the old read tools go through the same policy
    pods = reg.get("get_k8s_pods").handler({"namespace": "shop"})  # type: ignore[union-attr]
    assert pods.is_error and "reading pods is denied by policy" in pods.content
    c.close()


def test_secrets_are_read_but_never_changed_by_default(server: Any, tmp_path: Path):
    settings = Settings()
    assert settings.kubernetes.denied_change_kinds == ["secrets"]
    c = _cluster(server, tmp_path, settings)
    reg = ToolRegistry(build_k8s_tools(c, settings))
    secret = "apiVersion: v1\nkind: Secret\nmetadata: {name: s, namespace: shop}\n"
    dry = reg.get("apply_resource").dry_run({"manifest": secret})  # type: ignore[union-attr]
    assert dry.rejected and "kubernetes.denied_change_kinds" in dry.text
    listed = reg.get("list_resources").handler({"kind": "secrets", "namespace": "shop"})  # type: ignore[union-attr]
    assert not listed.is_error
    c.close()
