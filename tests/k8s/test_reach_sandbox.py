"""The tools that reach any kind and the investigation helpers, against the sandbox over real
HTTP through the official client (issue 13, items 1, 2 and 5)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from opsconsole.agent.tools import ToolRegistry
from opsconsole.config import Settings
from opsconsole.k8s import discovery
from opsconsole.k8s.client import Cluster
from opsconsole.k8s.guard import BuiltURL
from opsconsole.k8s.render import estimate_tokens
from opsconsole.k8s.tools import build_k8s_tools
from tests.k8s.conftest import CONTEXT, cluster_for

NEW_TOOLS = {
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
SHORT = {
    "deploy": "deployments",
    "svc": "services",
    "cm": "configmaps",
    "pvc": "persistentvolumeclaims",
    "hpa": "horizontalpodautoscalers",
    "netpol": "networkpolicies",
    "sts": "statefulsets",
    "ds": "daemonsets",
    "cj": "cronjobs",
    "ing": "ingresses",
    "sa": "serviceaccounts",
    "crd": "customresourcedefinitions",
    "po": "pods",
    "Deployment": "deployments",
    "deployment": "deployments",
    "deployments.apps": "deployments",
    "rolebindings": "rolebindings",
}


def run(tools: ToolRegistry, tool: str, **args: Any) -> Any:
    return tools.get(tool).handler(args)


def _served(cluster: Cluster) -> list[discovery.ResourceInfo]:
    return [r for r in discovery.resources(cluster) if r.can("list") and r.can("get")]


def test_short_names_and_plurals_resolve(cluster: Cluster):
    for typed, plural in SHORT.items():
        assert discovery.resolve(cluster, typed).plural == plural, typed


def test_unknown_kind_answers_closest(tools: ToolRegistry):
    res = run(tools, "list_resources", kind="deploymnets")
    assert res.is_error and res.error.code == "unknown_kind"
    assert "closest: deployments" in res.content
    res = run(tools, "get_resource", kind="confgmap", name="x", namespace="shop")
    assert res.error.code == "unknown_kind" and "configmaps" in res.content


def test_every_served_kind_lists_gets_and_describes(cluster: Cluster, tools: ToolRegistry):
    kinds = _served(cluster)
    assert len(kinds) >= 30
    for r in kinds:
        listed = run(tools, "list_resources", kind=r.ref)
        assert not listed.is_error, (r.ref, listed.content)
        assert listed.data["kind"] == r.kind
        assert listed.content.startswith(r.ref)
        if not listed.data["items"]:
            continue
        item = listed.data["items"][0]
        name = item.get("Name") or item.get("NAME")
        ns = item.get("Namespace")
        args = {"kind": r.ref, "name": name, **({"namespace": ns} if ns else {})}
        got = run(tools, "get_resource", **args)
        assert not got.is_error, (r.ref, got.content)
        assert "managedFields" not in got.content
        assert f"kind: {r.kind}" in got.content
        desc = run(tools, "describe_resource", **args)
        assert not desc.is_error, (r.ref, desc.content)
        assert f"Name: {name}" in desc.content
        assert "Events" in desc.content
        ev = run(tools, "get_resource_events", **args)
        assert not ev.is_error and ev.data["name"] == name


def test_list_filters(tools: ToolRegistry):
    one = run(tools, "list_resources", kind="svc", namespace="shop")
    assert {i["Name"] for i in one.data["items"]} >= {"web", "cart"}
    assert "Namespace" not in one.data["columns"]
    everywhere = run(tools, "list_resources", kind="svc")
    assert everywhere.data["columns"][0] == "Namespace"
    assert everywhere.data["total"] > one.data["total"]
    labelled = run(tools, "list_resources", kind="po", namespace="shop", label_selector="app=web")
    assert labelled.data["items"] and all(
        i["Name"].startswith("web-") for i in labelled.data["items"]
    )
    fielded = run(tools, "list_resources", kind="svc", field_selector="metadata.name=web")
    assert [i["Name"] for i in fielded.data["items"]] == ["web"]
    wide = run(tools, "list_resources", kind="deploy", namespace="shop")
    assert "Images" in wide.data["columns"]  # -o wide columns


def _secret_values(cluster: Cluster) -> list[str]:
    import base64

    from opsconsole.k8s.lists import list_items

    out = []
    for s in list_items(cluster, "", "v1", "secrets", None):
        for v in (s.get("data") or {}).values():
            out.append(v)
            text = base64.b64decode(v).decode("utf-8", "replace")
            out += [ln for ln in text.splitlines() if len(ln) >= 12 and "-----" not in ln]
    assert out
    return out


def test_secret_values_never_appear(cluster: Cluster, tools: ToolRegistry):
    values = _secret_values(cluster)
    calls = [
        ("list_resources", {"kind": "secrets"}),
        (
            "get_resource",
            {"kind": "secret", "name": "postgres-credentials", "namespace": "payments"},
        ),
        (
            "describe_resource",
            {"kind": "secrets", "name": "postgres-credentials", "namespace": "payments"},
        ),
        ("get_resource", {"kind": "secret", "name": "payment-api-tls", "namespace": "payments"}),
        (
            "describe_resource",
            {"kind": "secret", "name": "payment-api-tls", "namespace": "payments"},
        ),
        ("get_resource", {"kind": "secret", "name": "payment-gateway-token", "namespace": "shop"}),
    ]
    for name, args in calls:
        res = run(tools, name, **args)
        assert not res.is_error, res.content
        blob = res.content + json.dumps(res.data)
        for v in values:
            assert v not in blob, (name, args)
    desc = run(
        tools, "describe_resource", kind="secret", name="postgres-credentials", namespace="payments"
    )
    assert desc.data["secret_keys"] == [
        {"key": "password", "bytes": 24},
        {"key": "username", "bytes": 8},
    ]
    assert "password: 24 bytes" in desc.content


def test_one_object_yaml_is_clean(tools: ToolRegistry):
    res = run(tools, "get_resource", kind="deploy", name="payment-api", namespace="payments")
    assert "last-applied-configuration" not in res.content
    assert "managedFields" not in json.dumps(res.data)
    assert res.data["object"]["spec"]["template"]["spec"]["containers"][0]["name"] == "payment-api"
    node = run(tools, "list_resources", kind="nodes").data["items"][0]["Name"]
    got = run(tools, "get_resource", kind="no", name=node)
    assert "images" not in got.data["object"].get("status", {})


def test_configmap_readable_names_the_keys(tools: ToolRegistry):
    res = run(tools, "get_resource", kind="cm", name="payment-api-config", namespace="payments")
    keys = set(res.data["object"]["data"])
    assert "gateway_endpoint" in keys and "gateway_url" not in keys  # the demo's missing key


def test_crds_listed_custom_resources_not_served(tools: ToolRegistry, cluster: Cluster):
    # the sandbox stores CRDs but serves no custom resources (opsconsole/sandbox/resources.py)
    res = run(tools, "list_resources", kind="crd")
    assert not res.is_error and res.data["kind"] == "CustomResourceDefinition"
    assert all(r.group != "example.com" for r in discovery.resources(cluster))


def test_timeline_history_service_path_access(tools: ToolRegistry):
    tl = run(tools, "change_timeline", namespace="payments", deployment="payment-api")
    types = {e["type"] for e in tl.data["entries"]}
    assert {"rollout", "restart", "warning"} <= types
    times = [e["time"] for e in tl.data["entries"]]
    assert times == sorted(times, reverse=True)
    hist = run(tools, "rollout_history", namespace="payments", deployment="payment-api")
    assert hist.data["revisions"][0]["revision"] == 23
    bad = run(
        tools, "rollout_history", namespace="payments", deployment="payment-api", from_revision=7
    )
    assert bad.error.code == "not_found" and "revisions: 23" in bad.content
    missing = run(tools, "change_timeline", namespace="payments", deployment="nope")
    assert missing.error.code == "not_found"
    path = run(tools, "check_service_path", namespace="payments", service="payment-api")
    assert path.data["stops_at"] == "readiness"
    assert "traffic stops at: readiness" in path.content
    ok = run(tools, "check_service_path", namespace="shop", service="cart")
    assert ok.data["reachable"], ok.content
    yes = run(tools, "check_access", verb="list", resource="deploy", namespace="shop")
    assert yes.data["allowed"] is True and yes.content.startswith("yes")
    other = run(tools, "check_access", verb="get", resource="pods", subject="user:alice")
    assert other.error is None and other.data["allowed"] is False  # no binding names alice


def test_template_diff_names_what_changed():
    from opsconsole.k8s.timeline import template_diff

    def tpl(image: str, mem: str, path: str, env: str) -> dict[str, Any]:
        c = {
            "name": "api",
            "image": image,
            "env": [{"name": "MODE", "value": env}],
            "resources": {"limits": {"memory": mem}},
            "readinessProbe": {"httpGet": {"path": path, "port": 80}},
        }
        return {"spec": {"containers": [c]}}

    diff = template_diff(tpl("a:1", "128Mi", "/h", "x"), tpl("a:2", "256Mi", "/health", "y"))
    assert "container api: image a:1 -> a:2" in diff
    assert "container api: limits.memory 128Mi -> 256Mi" in diff
    assert "container api: env MODE x -> y" in diff
    assert any(d.startswith("container api: readinessProbe") for d in diff)


def test_big_list_within_budget(fresh_sandbox: Any, tmp_path: Path):
    srv = fresh_sandbox(scenario="demo", pods=5000, speed=1.0)
    c = cluster_for(srv, tmp_path)
    settings = Settings()
    tools = ToolRegistry(build_k8s_tools(c, settings))
    res = run(tools, "list_resources", kind="pods")
    assert not res.is_error, res.content
    assert res.data["total"] >= 5000
    assert estimate_tokens(res.content) <= settings.agent.tool_output_tokens
    assert "[truncated:" in res.content and res.data["truncated"]
    c.close()


# --- policy and the guard -----------------------------------------------------------------

CALLS = {
    "list_resources": {"kind": "cm", "namespace": "shop"},
    "get_resource": {"kind": "cm", "name": "web-config", "namespace": "shop"},
    "describe_resource": {"kind": "cm", "name": "web-config", "namespace": "shop"},
    "get_resource_events": {"kind": "cm", "name": "web-config", "namespace": "shop"},
    "list_api_resources": {},
    "change_timeline": {"namespace": "shop"},
    "rollout_history": {"namespace": "shop", "deployment": "web"},
    "check_service_path": {"namespace": "shop", "service": "web"},
    "check_access": {"verb": "get", "resource": "cm", "namespace": "shop"},
}


class _Recorder:
    """Sits in front of the guarded pool manager and writes down what reaches it."""

    def __init__(self, inner: Any) -> None:
        self.inner = inner
        self.seen: list[tuple[str, bool]] = []

    def request(self, method: str, url: Any, *a: Any, **kw: Any) -> Any:
        dry = isinstance(url, BuiltURL) and url.dry_run
        self.seen.append((method.upper(), dry))
        return self.inner.request(method, url, *a, **kw)

    def urlopen(self, method: str, url: Any, *a: Any, **kw: Any) -> Any:
        return self.request(method, url, *a, **kw)

    def clear(self) -> None:
        self.inner.clear()


def test_new_tools_go_through_the_guard(sandbox_kubeconfig: Path):
    from opsconsole.k8s.guard import _GuardedPool

    assert set(CALLS) == NEW_TOOLS
    c = Cluster(kubeconfig=sandbox_kubeconfig, context=CONTEXT, request_timeout=5)
    assert not c.write_mode
    rest = c.api_client.rest_client
    assert isinstance(rest.pool_manager, _GuardedPool)
    rec = _Recorder(rest.pool_manager)
    rest.pool_manager = rec
    discovery.forget(c)
    tools = ToolRegistry(build_k8s_tools(c, Settings()))
    offered = {t["function"]["name"] for t in tools.openai_tools(write_mode=False)}
    assert NEW_TOOLS <= offered
    for name, args in CALLS.items():
        assert tools.get(name).read_only is True
        discovery.forget(c)  # discovery is cached per cluster: make each tool read it again
        before = len(rec.seen)
        res = run(tools, name, **args)
        assert not res.is_error, (name, res.content)
        assert res.data is not None
        assert len(rec.seen) > before, name  # it did reach the cluster, through the guard
        for method, dry in rec.seen[before:]:
            assert method == "GET" or dry, (name, method)
        # the same argument guard as the old tools: a tool cannot pick the context (S10)
        refused = run(tools, name, **args, context="prod")
        assert refused.error.code == "invalid_argument"
        assert "pinned to context" in refused.content
    c.close()


def test_denied_kinds_and_allowed_namespaces(sandbox_kubeconfig: Path):
    settings = Settings.from_data(
        {"kubernetes": {"denied_kinds": ["configmaps"], "allowed_namespaces": ["payments"]}}
    )
    c = Cluster.from_settings(settings, kubeconfig=sandbox_kubeconfig, context=CONTEXT)
    assert c.namespace_allowlist == ("payments",)
    tools = ToolRegistry(build_k8s_tools(c, settings))
    for name in ("list_resources", "get_resource", "describe_resource", "get_resource_events"):
        res = run(tools, name, **CALLS[name])
        assert res.is_error and res.error.code == "denied_kind", name
        assert "denied by policy" in res.content
        other_args = {**CALLS[name], "kind": "svc"}
        if "name" in other_args:
            other_args["name"] = "web"
        other = run(tools, name, **other_args)
        assert other.error.code == "forbidden" and "allowlist" in other.content, name
    for name in ("change_timeline", "rollout_history", "check_service_path", "check_access"):
        res = run(tools, name, **CALLS[name])
        assert res.error.code == "forbidden" and "allowlist" in res.content, name
    everywhere = run(tools, "list_resources", kind="svc")
    assert {i["Namespace"] for i in everywhere.data["items"]} == {"payments"}
    c.close()


def test_kind_that_cannot_be_listed_is_refused_clearly(tools: ToolRegistry):
    res = run(tools, "list_resources", kind="selfsubjectaccessreviews")
    assert res.error.code == "invalid_argument"
    assert "cannot be read with list" in res.content


def test_service_path_and_rollout_diff_on_broken_objects(fresh_sandbox: Any, tmp_path: Path):
    srv = fresh_sandbox(scenario="demo", speed=1.0)
    c = cluster_for(srv, tmp_path)
    c.write_mode = True  # to set the scene; the tools only read
    svc = {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {"name": "cart-typo"},
        "spec": {"selector": {"app": "kart"}, "ports": [{"port": 80, "targetPort": 8080}]},
    }
    c.call("core", "create_namespaced_service", "shop", svc)
    wrong_port = {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {"name": "web-wrong-port"},
        "spec": {"selector": {"app": "web"}, "ports": [{"port": 80, "targetPort": 9999}]},
    }
    c.call("core", "create_namespaced_service", "shop", wrong_port)
    deny = {
        "apiVersion": "networking.k8s.io/v1",
        "kind": "NetworkPolicy",
        "metadata": {"name": "deny-cart"},
        "spec": {"podSelector": {"matchLabels": {"app": "cart"}}, "policyTypes": ["Ingress"]},
    }
    import kubernetes.client as kc

    kc.NetworkingV1Api(c.api_client).create_namespaced_network_policy(
        "shop", deny, _request_timeout=c.timeout
    )
    image = "registry.example.com/shop/cart:4.3.0"
    patch = {"spec": {"template": {"spec": {"containers": [{"name": "cart", "image": image}]}}}}
    c.call("apps", "patch_namespaced_deployment", "cart", "shop", patch)
    c.write_mode = False
    tools = ToolRegistry(build_k8s_tools(c, Settings()))

    typo = run(tools, "check_service_path", namespace="shop", service="cart-typo")
    assert typo.data["stops_at"] == "selector", typo.content
    assert "app=kart matches no pod" in typo.content and "app=cart" in typo.content
    port = run(tools, "check_service_path", namespace="shop", service="web-wrong-port")
    assert port.data["stops_at"] == "ports", port.content
    assert "targetPort 9999" in port.content
    denied = run(tools, "check_service_path", namespace="shop", service="cart")
    assert denied.data["stops_at"] == "networkpolicy", denied.content
    assert "deny-cart" in denied.content

    def history() -> Any:
        return run(tools, "rollout_history", namespace="shop", deployment="cart")

    import time

    deadline = time.monotonic() + 30
    hist = history()
    while len(hist.data["revisions"]) < 2 and time.monotonic() < deadline:
        time.sleep(0.2)  # waiting for the controller's new ReplicaSet (a condition, not a pace)
        hist = history()
    assert len(hist.data["revisions"]) == 2, hist.content
    assert (
        f"container cart: image registry.example.com/shop/cart:4.2.0 -> {image}"
        in (hist.data["diff"])
    )
    tl = run(tools, "change_timeline", namespace="shop", deployment="cart")
    first = next(e for e in tl.data["entries"] if e["type"] == "rollout")
    assert first["revision"] == 2 and any(image in ch for ch in first["changes"])
    c.close()
