"""Read-only by construction (the trust issue, item 3): one guard at the HTTP layer of the
Kubernetes layer, and API paths built from validated parts only. Real HTTP to the sandbox.

The attack that used to work: ``validate_manifest`` (offered read-only) built its POST path
from the manifest's ``apiVersion`` without escaping, so a ``?`` pushed ``dryRun=All`` out of
the query and a real Deployment was created with nobody asked."""

from __future__ import annotations

import json
import uuid
from pathlib import Path
from typing import Any

import pytest

from opsconsole.config import Settings
from opsconsole.k8s import paths
from opsconsole.k8s import queries as q
from opsconsole.k8s.guard import ReadOnlyRefused, UnsafeRequest
from opsconsole.team.coder import coder_tools
from tests.k8s.conftest import cluster_for


def _names(cluster: Any, kind: str, namespace: str) -> set[str]:
    items, _ = q.list_raw(cluster, kind, namespace)
    return {i["metadata"]["name"] for i in items}


def _configmaps(cluster: Any, namespace: str) -> set[str]:
    resp = cluster.api("core").list_namespaced_config_map(namespace, _request_timeout=5)
    return {i.metadata.name for i in resp.items}


ATTACKS = [
    # the real one (an unknown kind skips the local check): the POST became
    # /apis/apps/v1/namespaces/default/deployments?x=/namespaces/default/widgets?dryRun=All,
    # whose query is only x=..., so the server created a Deployment for real
    "apiVersion: apps/v1/namespaces/default/deployments?x=\nkind: Widget\n",
    "apiVersion: apps/v1/namespaces/default/deployments?x=\nkind: Deployment\n",
    "apiVersion: apps/v1\nkind: 'Widget?x='\n",
    "apiVersion: 'apps/v1#'\nkind: Widget\n",
    "apiVersion: apps/../v1\nkind: Widget\n",
    "apiVersion: apps/v1%3F\nkind: Widget\n",
    'apiVersion: "apps/v1\\n"\nkind: Widget\n',
]


@pytest.mark.parametrize("head", ATTACKS)
def test_validate_manifest_attack_creates_nothing(fresh_sandbox: Any, tmp_path: Path, head: str):
    srv = fresh_sandbox()
    c = cluster_for(srv, tmp_path)  # read-only: the default
    name = f"evil-{uuid.uuid4().hex[:6]}"
    manifest = head + (
        f"metadata: {{name: {name}, namespace: default}}\n"
        "spec:\n  replicas: 3\n  selector: {matchLabels: {app: evil}}\n"
        "  template:\n    metadata: {labels: {app: evil}}\n"
        "    spec: {containers: [{name: c, image: nginx}]}\n"
    )
    tool = {t.name: t for t in coder_tools(c, Settings(), namespace="default")}["validate_manifest"]
    before = _names(c, "deployments", "default")
    res = tool.handler({"yaml": manifest})
    assert res.is_error or "accepted" not in res.content, res.content
    assert _names(c, "deployments", "default") == before
    assert name not in _names(c, "pods", "default")


def test_every_mutating_method_is_refused_below_the_api_in_read_only(
    fresh_sandbox: Any, tmp_path: Path
):
    srv = fresh_sandbox()
    c = cluster_for(srv, tmp_path)
    assert c.write_mode is False
    client = c.api_client
    body = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "sneak"}}
    path = "/api/v1/namespaces/default/configmaps"
    for method in ("POST", "PUT", "PATCH", "DELETE"):
        target = path if method == "POST" else path + "/sneak"
        # through the official client's own serialiser: refused, not a dry run
        params = client.param_serialize(method=method, resource_path=target, body=body)
        with pytest.raises(ReadOnlyRefused, match="read-only"):
            client.call_api(*params, _request_timeout=5)
        # a URL written by hand (not serialised from validated parts): refused in any mode
        with pytest.raises(UnsafeRequest, match="validated parts"):
            client.rest_client.request(
                method,
                f"{c.server}{target}?dryRun=All",
                headers={"Content-Type": "application/json"},
                body=body,
                _request_timeout=5,
            )
    # a resource path with a query, a fragment or an escape is refused before it is built
    for bad in (path + "?x=", path + "#x", "/api/v1/namespaces/%2e%2e/configmaps", "/api/../x"):
        with pytest.raises(paths.InvalidPathPart):
            client.param_serialize(method="POST", resource_path=bad, body=body)
    # the generated APIs go through the same guard
    with pytest.raises(ReadOnlyRefused):
        c.api("core").create_namespaced_config_map("default", body, _request_timeout=5)
    with pytest.raises(ReadOnlyRefused):
        c.api("core").delete_namespaced_pod(
            next(iter(_names(c, "pods", "shop"))), "shop", _request_timeout=5
        )
    assert "sneak" not in _configmaps(c, "default")


def test_client_built_dry_run_passes_and_write_mode_writes(fresh_sandbox: Any, tmp_path: Path):
    srv = fresh_sandbox()
    c = cluster_for(srv, tmp_path)
    body = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "ok-cm"}}
    core = c.api("core")
    # a dry run our code asks for (a structured query parameter) passes in read-only mode
    out = core.create_namespaced_config_map("default", body, dry_run="All", _request_timeout=5)
    assert out.metadata.name == "ok-cm"
    assert "ok-cm" not in _configmaps(c, "default")
    # dryRun with another value is not a dry run
    with pytest.raises(ReadOnlyRefused):
        core.create_namespaced_config_map("default", body, dry_run="None", _request_timeout=5)
    c.write_mode = True
    core.create_namespaced_config_map("default", body, _request_timeout=5)
    assert "ok-cm" in _configmaps(c, "default")
    c.write_mode = False  # the console left write mode: the next request is refused again
    with pytest.raises(ReadOnlyRefused):
        core.delete_namespaced_config_map("ok-cm", "default", _request_timeout=5)
    assert "ok-cm" in _configmaps(c, "default")


def test_read_only_refusal_reaches_the_tool_as_a_clear_message(fresh_sandbox: Any, tmp_path: Path):
    from opsconsole.k8s.tools import build_k8s_tools

    srv = fresh_sandbox()
    c = cluster_for(srv, tmp_path)
    tools = {t.name: t for t in build_k8s_tools(c, Settings())}
    res = tools["scale_deployment"].handler({"namespace": "shop", "name": "cart", "replicas": 0})
    assert res.is_error and "read-only" in res.content and "Traceback" not in res.content
    assert q.get_deployment(c, "shop", "cart")["spec"]["replicas"] == 2


GOOD = [
    ("namespace", "shop"),
    ("namespace", "a" * 63),
    ("name", "web-7d9f.x"),
    ("group", "apps"),
    ("group", "networking.k8s.io"),
    ("version", "v1"),
    ("version", "v1beta1"),
    ("version", "v2alpha3"),
    ("plural", "deployments"),
    ("kind", "Deployment"),
]
BAD = [
    ("namespace", "shop\n"),
    ("namespace", "Shop"),
    ("namespace", "a" * 64),
    ("namespace", "a.b"),
    ("name", "web?x=1"),
    ("name", "web#f"),
    ("name", "we b"),
    ("name", "web/../x"),
    ("name", "web%2F"),
    ("name", "web\n"),
    ("name", ""),
    ("group", "apps/v1"),
    ("group", ".."),
    ("version", "v1?"),
    ("version", "1"),
    ("version", "v1beta"),
    ("plural", "pods?dryRun=All"),
    ("kind", "deployment"),
    ("kind", "Deployment?"),
    ("kind", 3),
]


@pytest.mark.parametrize(("part", "value"), GOOD)
def test_valid_path_parts(part: paths.Part, value: str):
    assert paths.check_part(part, value) == value


@pytest.mark.parametrize(("part", "value"), BAD)
def test_invalid_path_parts_name_the_field(part: paths.Part, value: Any):
    with pytest.raises(paths.InvalidPathPart, match=r"^metadata\.x: .*nothing was sent"):
        paths.check_part(part, value, "metadata.x")


def test_resource_path_and_api_version():
    assert paths.split_api_version("apps/v1") == ("apps", "v1")
    assert paths.split_api_version("v1") == ("", "v1")
    for bad in ("apps/v1/namespaces/x", "apps/v1?x", " v1", "v1\n", ""):
        with pytest.raises(paths.InvalidPathPart, match="apiVersion"):
            paths.split_api_version(bad)
    assert (
        paths.resource_path("apps", "v1", "deployments", namespace="shop", name="web")
        == "/apis/apps/v1/namespaces/shop/deployments/web"
    )
    assert paths.resource_path("", "v1", "nodes") == "/api/v1/nodes"


def test_trailing_newline_is_not_a_valid_tool_name_argument():
    from opsconsole.k8s.tools import ToolInputError, check_name

    with pytest.raises(ToolInputError):
        check_name("web\n", "deployment name")


async def test_attack_through_the_loop_with_a_scripted_model(fresh_sandbox: Any, tmp_path: Path):
    """The model calls validate_manifest with the attack in read-only mode: nothing created,
    and the model gets a clear tool message back."""
    from tests.agent.agentkit import collect, make_loop
    from tests.fakes.openai_server import ScriptedOpenAIServer, reply, tool_call

    srv = fresh_sandbox()
    c = cluster_for(srv, tmp_path)
    attack = ATTACKS[0] + (
        "metadata: {name: evil, namespace: default}\n"
        "spec: {replicas: 3, selector: {matchLabels: {app: evil}}, template: {metadata: "
        "{labels: {app: evil}}, spec: {containers: [{name: c, image: nginx}]}}}\n"
    )
    with ScriptedOpenAIServer() as model:
        model.push(reply(tool_calls=[tool_call("validate_manifest", {"yaml": attack})]))
        model.push(reply("done"))
        loop = make_loop(model, coder_tools(c, Settings(), namespace="default"), write_mode=False)
        await collect(loop, "validate this")
        second = model.requests[1]["messages"]
    tool_msgs = [m for m in second if m["role"] == "tool"]
    assert len(tool_msgs) == 1
    text = json.dumps(tool_msgs[0]["content"])
    assert "apiVersion" in text and "not a valid" in text
    assert "evil" not in _names(c, "deployments", "default")
