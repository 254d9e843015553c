"""Tool declarations: the seed's schemas, flags, validation before any request (no cluster)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from opsconsole.agent.tools import ToolRegistry
from opsconsole.config import Settings
from opsconsole.k8s.client import Cluster
from opsconsole.k8s.tools import build_k8s_tools

SEED = [
    {
        "type": "function",
        "function": {
            "name": "get_k8s_pods",
            "description": "获取 K8s Pod 列表",
            "parameters": {
                "type": "object",
                "properties": {"namespace": {"type": "string"}},
                "required": ["namespace"],
            },
        },
    },
    {
        "type": "function",
        "function": {
            "name": "get_pod_logs",
            "description": "获取 Pod 日志",
            "parameters": {
                "type": "object",
                "properties": {
                    "namespace": {"type": "string"},
                    "pod_name": {"type": "string"},
                    "lines": {"type": "integer", "default": 100},
                },
                "required": ["namespace", "pod_name"],
            },
        },
    },
]

READ_ONLY = {
    "get_k8s_pods",
    "get_pod_logs",
    "describe_pod",
    "get_events",
    "get_deployments",
    "get_nodes",
    "get_resource_usage",
    "find_unhealthy_pods",
    "find_security_issues",
    "list_resources",
    "get_resource",
    "describe_resource",
    "get_resource_events",
    "list_api_resources",
    "change_timeline",
    "rollout_history",
    "check_service_path",
    "check_access",
}
MUTATING = {
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
}


@pytest.fixture
def dead_cluster(tmp_path: Path) -> Cluster:
    """A cluster nobody listens on: any request that is sent fails as unreachable."""
    kc = tmp_path / "kubeconfig"
    kc.write_text(
        "apiVersion: v1\nkind: Config\ncurrent-context: dead\n"
        "contexts: [{name: dead, context: {cluster: dead, user: u}}]\n"
        "clusters: [{name: dead, cluster: {server: 'http://127.0.0.1:1'}}]\n"
        "users: [{name: u, user: {token: t}}]\n"
    )
    return Cluster(kubeconfig=kc, request_timeout=2)


@pytest.fixture
def tools(dead_cluster: Cluster) -> ToolRegistry:
    return ToolRegistry(build_k8s_tools(dead_cluster, Settings()))


def test_seed_schemas_exact(tools: ToolRegistry):
    rendered = tools.openai_tools(write_mode=False)
    by_name = {t["function"]["name"]: t for t in rendered}
    for seed in SEED:
        got = by_name[seed["function"]["name"]]
        assert json.dumps(got, sort_keys=True, ensure_ascii=False) == json.dumps(
            seed, sort_keys=True, ensure_ascii=False
        )


def test_flags_and_offering(tools: ToolRegistry):
    assert {t.name for t in tools} == READ_ONLY | MUTATING
    for t in tools:
        assert t.read_only is not None, t.name  # S3: explicit
        assert t.mutating == (t.name in MUTATING)
    offered = {t["function"]["name"] for t in tools.openai_tools(write_mode=False)}
    assert offered == READ_ONLY  # S2
    for name in MUTATING:
        t = tools.get(name)
        assert t.summarize is not None and t.dry_run is not None


def test_summaries_name_verb_kind_namespace_context(tools: ToolRegistry):
    s = tools.get("delete_pod").summary({"namespace": "shop", "pod_name": "api-1"})
    assert (s.verb, s.kind, s.name, s.namespace) == ("delete", "pod", "api-1", "shop")
    assert "context dead" in s.detail
    s = tools.get("scale_deployment").summary({"namespace": "shop", "name": "api", "replicas": 5})
    assert (s.verb, s.kind, s.name) == ("scale", "deployment", "api") and "replicas=5" in s.detail
    s = tools.get("rollout_restart").summary({"namespace": "shop", "name": "api"})
    assert (s.verb, s.kind) == ("restart", "deployment")


@pytest.mark.parametrize(
    "tool,args,needle",
    [
        ("get_k8s_pods", {"namespace": "Shop Prod"}, "invalid namespace"),
        ("get_k8s_pods", {"namespace": "a" * 64}, "invalid namespace"),
        ("get_pod_logs", {"namespace": "shop", "pod_name": "../../etc/passwd"}, "invalid pod"),
        ("get_pod_logs", {"namespace": "shop", "pod_name": "API_1"}, "invalid pod"),
        ("get_pod_logs", {"namespace": "shop", "pod_name": "api", "lines": "many"}, "integer"),
        ("get_pod_logs", {"namespace": "shop", "pod_name": "api", "lines": -5}, "at least 1"),
        ("describe_pod", {"namespace": "shop", "pod_name": "x;rm -rf /"}, "invalid pod"),
        ("delete_pod", {"namespace": "kube system", "pod_name": "x"}, "invalid namespace"),
        ("scale_deployment", {"namespace": "shop", "name": "api", "replicas": -1}, "replicas"),
        ("get_k8s_pods", {"namespace": "shop", "context": "prod"}, "pinned to context 'dead'"),
        ("get_pod_logs", {"namespace": "shop", "pod_name": "a", "cluster": "x"}, "refused"),
        ("get_nodes", {"verbose": True}, "unknown argument"),
    ],
)
def test_bad_input_refused_before_any_request(tools: ToolRegistry, tool, args, needle):
    # the cluster is unreachable: had anything been sent, the error would say so
    res = tools.get(tool).handler(args)
    assert res.is_error
    assert needle in res.content
    assert "unreachable" not in res.content
    assert "\n" not in res.content and "Traceback" not in res.content


def test_unreachable_is_an_error_result_not_an_exception(tools: ToolRegistry):
    res = tools.get("get_k8s_pods").handler({"namespace": "shop"})
    assert res.is_error and res.content.startswith("cluster unreachable (http://127.0.0.1:1)")


def test_no_cluster_configured():
    reg = ToolRegistry(build_k8s_tools(None, Settings()))
    for t in reg:
        args = {
            "namespace": "shop",
            "pod_name": "a",
            "name": "a",
            "replicas": 1,
            "kind": "pods",
            "deployment": "a",
            "service": "a",
            "verb": "get",
            "resource": "pods",
        }
        allowed = set(t.parameters.get("properties", {}))
        res = t.handler({k: v for k, v in args.items() if k in allowed})
        assert res.is_error and res.content.startswith("no cluster configured"), t.name
        assert "opsconsole --demo" in res.content


def test_allowlist_refuses_before_request(dead_cluster: Cluster):
    dead_cluster.namespace_allowlist = ("shop",)
    reg = ToolRegistry(build_k8s_tools(dead_cluster, Settings()))
    res = reg.get("get_k8s_pods").handler({"namespace": "kube-system"})
    assert res.is_error and "outside the configured allowlist" in res.content
    res = reg.get("delete_pod").dry_run({"namespace": "kube-system", "pod_name": "x"})
    assert res.rejected and "outside the configured allowlist" in res.text


def test_no_secret_tool():
    names = {t.name for t in build_k8s_tools(None, Settings())}
    assert not any("secret" in n and n != "find_security_issues" for n in names)
