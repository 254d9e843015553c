"""The any-kind change tools against the sandbox over real HTTP: each tool's server-side dry run
(diff and blast radius, nothing changed), the approved call (what changed is what the diff
showed), the refusals before any request, and what the real ``kubectl`` sees afterwards."""

from __future__ import annotations

import json
import shutil
import subprocess
import time
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

CHANGE_TOOLS = [
    "apply_resource",
    "patch_resource",
    "set_image",
    "scale_resource",
    "rollout_restart_resource",
    "rollout_undo",
    "delete_resource",
    "exec_in_container",
]
CM = """apiVersion: v1
kind: ConfigMap
metadata:
  name: feature-flags
  namespace: shop
data:
  checkout_v2: "false"
  banner: "hello"
"""


@pytest.fixture
def env(fresh_sandbox: Any, tmp_path: Path) -> Iterator[tuple[Cluster, ToolRegistry, Path]]:
    srv = fresh_sandbox(scenario="demo", speed=1.0)
    c = cluster_for(srv, tmp_path)
    kubeconfig = Path(srv.write_kubeconfig(tmp_path / "kc-kubectl"))
    yield c, ToolRegistry(build_k8s_tools(c, Settings())), kubeconfig
    c.close()


def _dry(reg: ToolRegistry, name: str, args: dict[str, Any]) -> DryRun:
    tool = reg.get(name)
    assert tool is not None and tool.dry_run is not None
    got = tool.dry_run(args)
    assert isinstance(got, DryRun)
    return got


def _run(reg: ToolRegistry, name: str, args: dict[str, Any]) -> Any:
    tool = reg.get(name)
    assert tool is not None
    return tool.handler(args)


def _deploy(c: Cluster, ns: str, name: str) -> dict[str, Any]:
    return raw_get(c, f"/apis/apps/v1/namespaces/{ns}/deployments/{name}")


def _kubectl(kubeconfig: Path, *args: str) -> str:
    exe = shutil.which("kubectl")
    assert exe, "kubectl must be on PATH"
    out = subprocess.run(
        [exe, "--kubeconfig", str(kubeconfig), *args],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert out.returncode == 0, out.stderr
    return out.stdout


def test_every_change_tool_is_mutating_approved_and_tagged(env):
    _, reg, _ = env
    for name in CHANGE_TOOLS:
        tool = reg.get(name)
        assert tool is not None, name
        assert tool.read_only is False and tool.needs_approval, name
        assert "mutating" in tool.tags and tool.dry_run is not None and tool.summarize, name
    assert "exec" in reg.get("exec_in_container").tags
    assert not {t.name for t in reg.offered(write_mode=False)} & set(CHANGE_TOOLS)


def test_set_image_dry_run_diff_radius_then_exactly_that_change(env):
    c, reg, kubeconfig = env
    args = {"name": "cart", "namespace": "shop", "container": "cart", "image": "shop/cart:5.0"}
    before = _deploy(c, "shop", "cart")
    dry = _dry(reg, "set_image", args)
    assert not dry.rejected, dry.text
    assert "-        image: registry.example.com/shop/cart:4.2.0" in dry.diff
    assert "+        image: shop/cart:5.0" in dry.diff
    assert "resourceVersion" not in dry.diff and "managedFields" not in dry.diff
    assert "generation" not in dry.diff
    assert dry.blast_radius == "replaces 2 pods, rolling, maxUnavailable 25%, maxSurge 25%"
    assert _deploy(c, "shop", "cart")["spec"] == before["spec"]  # a dry run changes nothing
    c.write_mode = True
    res = _run(reg, "set_image", args)
    assert not res.is_error, res.content
    assert res.content == "deployment/shop/cart image set"
    after = _deploy(c, "shop", "cart")
    changed = [
        line
        for line in dry.diff.splitlines()
        if line[:1] in "+-" and line[:3] not in ("+++", "---")
    ]
    assert changed == [
        "-        image: registry.example.com/shop/cart:4.2.0",
        "+        image: shop/cart:5.0",
    ]
    before["spec"]["template"]["spec"]["containers"][0]["image"] = "shop/cart:5.0"
    assert after["spec"]["template"] == before["spec"]["template"]
    out = _kubectl(kubeconfig, "get", "deploy", "cart", "-n", "shop", "-o", "json")
    assert json.loads(out)["spec"]["template"]["spec"]["containers"][0]["image"] == "shop/cart:5.0"


def test_scale_resource_any_kind_with_a_scale_subresource(env):
    c, reg, _ = env
    dry = _dry(reg, "scale_resource", {"kind": "deploy", "name": "web", "namespace": "shop",
                                         "replicas": 5})  # fmt: skip
    assert dry.blast_radius == "3 -> 5 pods (starts 2)" and "+  replicas: 5" in dry.diff
    sts = _dry(reg, "scale_resource", {"kind": "sts", "name": "redis", "namespace": "shop",
                                         "replicas": 0})  # fmt: skip
    assert sts.blast_radius == "1 -> 0 pods (stops 1)", sts.text
    ds = _dry(reg, "scale_resource", {"kind": "ds", "name": "node-exporter",
                                        "namespace": "monitoring", "replicas": 2})  # fmt: skip
    assert ds.rejected and "no scale subresource" in ds.text
    c.write_mode = True
    res = _run(reg, "scale_resource", {"kind": "statefulsets", "name": "redis",
                                        "namespace": "shop", "replicas": 2})  # fmt: skip
    assert not res.is_error and "scaled to 2 replicas" in res.content
    sts_obj = raw_get(c, "/apis/apps/v1/namespaces/shop/statefulsets/redis")
    assert sts_obj["spec"]["replicas"] == 2


def test_apply_creates_then_updates_with_a_three_way_patch(env):
    c, reg, kubeconfig = env
    dry = _dry(reg, "apply_resource", {"manifest": CM})
    assert not dry.rejected and dry.blast_radius == "creates configmap/shop/feature-flags"
    assert "+  banner: hello" in dry.diff and dry.diff.startswith("--- /dev/null")
    c.write_mode = True
    assert _run(reg, "apply_resource", {"manifest": CM}).content == (
        "configmap/shop/feature-flags created"
    )
    # the same manifest again: nothing to do
    again = _dry(reg, "apply_resource", {"manifest": CM})
    assert "unchanged" in again.blast_radius and again.diff == ""
    # a key changed, a key dropped from the manifest: kubectl apply removes it
    new = CM.replace('checkout_v2: "false"', 'checkout_v2: "true"').replace(
        '  banner: "hello"\n', ""
    )
    dry2 = _dry(reg, "apply_resource", {"manifest": new})
    assert "-  banner: hello" in dry2.diff and "+  checkout_v2: 'true'" in dry2.diff
    assert _run(reg, "apply_resource", {"manifest": new}).content == (
        "configmap/shop/feature-flags configured"
    )
    out = json.loads(_kubectl(kubeconfig, "get", "cm", "feature-flags", "-n", "shop", "-o", "json"))
    assert out["data"] == {"checkout_v2": "true"}


def test_apply_many_documents_and_a_deployment_change(env):
    c, reg, _ = env
    dep = _deploy(c, "shop", "catalog")
    manifest = (
        CM
        + "---\n"
        + json.dumps(
            {
                "apiVersion": "apps/v1",
                "kind": "Deployment",
                "metadata": {"name": "catalog", "namespace": "shop"},
                "spec": {
                    "replicas": 4,
                    "selector": dep["spec"]["selector"],
                    "template": dep["spec"]["template"],
                },
            }
        )
    )
    dry = _dry(reg, "apply_resource", {"manifest": manifest})
    assert not dry.rejected, dry.text
    assert "configmap/shop/feature-flags: creates configmap/shop/feature-flags" in dry.blast_radius
    assert "deployment/shop/catalog: 2 -> 4 pods" in dry.blast_radius
    assert "-  replicas: 2" in dry.diff and "+  replicas: 4" in dry.diff


def test_patch_resource_three_types_and_a_patch_that_does_not_apply(env):
    c, reg, _ = env
    base = {"kind": "deployments.apps", "name": "web", "namespace": "shop"}
    sm = _dry(reg, "patch_resource", {**base, "patch": {"metadata": {"labels": {"team": "x"}}}})
    assert "+    team: x" in sm.diff and sm.blast_radius.endswith("(no pods replaced)")
    mp = _dry(reg, "patch_resource", {**base, "patch_type": "merge",
                                       "patch": '{"spec": {"replicas": 1}}'})  # fmt: skip
    assert "3 -> 1 pods" in mp.blast_radius
    remove = [{"op": "remove", "path": "/spec/nothing"}]
    jp = _dry(reg, "patch_resource", {**base, "patch_type": "json", "patch": remove})
    assert jp.rejected and "path not found: /spec/nothing" in jp.text and "422" in jp.text
    c.write_mode = True
    res = _run(reg, "patch_resource", {**base, "patch_type": "json",
                                        "patch": [{"op": "replace", "path": "/spec/replicas",
                                                   "value": 1}]})  # fmt: skip
    assert not res.is_error, res.content
    assert _deploy(c, "shop", "web")["spec"]["replicas"] == 1


def test_rollout_restart_and_undo(env):
    c, reg, _ = env
    sts = _dry(
        reg, "rollout_restart_resource", {"kind": "sts", "name": "redis", "namespace": "shop"}
    )
    assert sts.blast_radius == "replaces 1 pod, rolling, one pod at a time", sts.blast_radius
    assert "kubectl.kubernetes.io/restartedAt" in sts.diff
    cj = _dry(reg, "rollout_restart_resource", {"kind": "svc", "name": "web", "namespace": "shop"})
    assert cj.rejected and "cannot be restarted" in cj.text
    none = _dry(reg, "rollout_undo", {"name": "cart", "namespace": "shop"})
    assert none.rejected and "no previous revision" in none.text
    c.write_mode = True
    args = {"name": "cart", "namespace": "shop", "container": "cart", "image": "shop/cart:9"}
    assert not _run(reg, "set_image", args).is_error
    deadline = time.monotonic() + 60
    while (
        _deploy(c, "shop", "cart")["metadata"]["annotations"].get(
            "deployment.kubernetes.io/revision"
        )
        != "2"
    ):
        assert time.monotonic() < deadline, "the sandbox did not roll out revision 2"
        time.sleep(0.05)
    bad = _dry(reg, "rollout_undo", {"name": "cart", "namespace": "shop", "to_revision": 7})
    assert bad.rejected and "no revision 7; its revisions: 1, 2" in bad.text
    undo = _dry(reg, "rollout_undo", {"name": "cart", "namespace": "shop"})
    assert not undo.rejected, undo.text
    assert "+        image: registry.example.com/shop/cart:4.2.0" in undo.diff
    assert undo.blast_radius.startswith("back to revision 1 (from 2); replaces 2 pods")
    assert (
        "rolled back to revision 1"
        in _run(reg, "rollout_undo", {"name": "cart", "namespace": "shop"}).content
    )
    image = _deploy(c, "shop", "cart")["spec"]["template"]["spec"]["containers"][0]["image"]
    assert image == "registry.example.com/shop/cart:4.2.0"


def test_delete_resource_radius_pod_owner_namespace_and_propagation(env):
    c, reg, kubeconfig = env
    pod = pod_of(c, "shop", "web-")
    dry = _dry(reg, "delete_resource", {"kind": "po", "name": pod, "namespace": "shop"})
    assert (
        dry.blast_radius.startswith("ReplicaSet web-") and "(of Deployment web)" in dry.blast_radius
    )
    assert dry.diff.splitlines()[1] == "+++ /dev/null"
    ns = _dry(reg, "delete_resource", {"kind": "namespace", "name": "payments"})
    assert ns.confirm == "payments"
    assert ns.blast_radius.startswith("deletes namespace payments and the ")
    assert int(ns.blast_radius.split("the ")[1].split()[0]) > 5
    orphan = _dry(reg, "delete_resource", {"kind": "deploy", "name": "web", "namespace": "shop",
                                            "propagation_policy": "Orphan"})  # fmt: skip
    assert orphan.blast_radius == "its 3 pod(s) stay, orphaned (propagationPolicy Orphan)"
    c.write_mode = True
    res = _run(reg, "delete_resource", {"kind": "svc", "name": "web", "namespace": "shop"})
    assert res.content == "service/shop/web deleted"
    out = subprocess.run(
        [shutil.which("kubectl") or "kubectl", "--kubeconfig", str(kubeconfig), "get", "svc",
         "web", "-n", "shop"], capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert out.returncode != 0 and "NotFound" in out.stderr


def test_exec_is_refused_read_only_and_the_server_error_comes_back_cleanly(env):
    c, reg, _ = env
    pod = pod_of(c, "shop", "web-")
    args = {"namespace": "shop", "pod_name": pod, "command": ["cat", "/etc/hostname"]}
    dry = _dry(reg, "exec_in_container", args)
    assert not dry.rejected and "no server-side dry run" in dry.text
    assert "runs 'cat /etc/hostname' in container" in dry.blast_radius
    res = _run(reg, "exec_in_container", args)
    assert res.is_error and "read-only" in res.content  # the guard's answer
    c.write_mode = True
    res = _run(reg, "exec_in_container", args)
    assert res.is_error and res.content.startswith("exec failed: the API server answered 404")
    assert "Traceback" not in res.content
    bad = _dry(reg, "exec_in_container", {**args, "command": "rm -rf /"})
    assert bad.rejected and "command must be a list" in bad.text


@pytest.mark.parametrize(
    ("tool", "args", "want"),
    [
        ("delete_resource", {"kind": "deploymnt", "name": "x", "namespace": "shop"},
         "closest: deployments"),
        ("scale_resource", {"kind": "deploy", "name": "nope", "namespace": "shop",
                            "replicas": 1}, "not found: deployments.apps nope in namespace shop"),
        ("apply_resource", {"manifest": "kind: ConfigMap\nmetadata:\n  name: [x\n"},
         "the manifest does not parse: line 4, column 1"),
        ("apply_resource", {"manifest": "kind: ConfigMap\nmetadata: {name: x}\n"},
         "document 1 has no apiVersion"),
        ("set_image", {"name": "cart", "namespace": "shop", "container": "nope", "image": "a:1"},
         "has no container 'nope'; its containers: cart"),
        ("set_image", {"name": "cart", "namespace": "shop", "container": "cart", "image": "a b"},
         "image must be an image reference"),
        ("patch_resource", {"kind": "deploy", "name": "web", "namespace": "shop", "patch": "[1",
                            "patch_type": "merge"}, "neither JSON nor YAML"),
        ("patch_resource", {"kind": "deploy", "name": "web", "namespace": "shop",
                            "patch": {"spec": {"replicas": -1}}},
         "rejected by the API server (422)"),
        ("delete_resource", {"kind": "deploy", "name": "web"}, "namespace is required"),
        ("delete_resource", {"kind": "secret", "name": "x", "namespace": "shop"},
         "kubernetes.denied_change_kinds"),
        ("apply_resource", {"manifest": CM.replace('"hello"', '"-----BEGIN RSA PRIVATE KEY-----"')},
         "contains a private key"),
        ("scale_resource", {"kind": "deploy", "name": "web", "namespace": "shop",
                            "replicas": 1, "context": "prod"}, "cannot choose the cluster"),
    ],
)  # fmt: skip
def test_bad_input_is_rejected_before_anyone_is_asked(env, tool, args, want):
    c, reg, _ = env
    dry = _dry(reg, tool, args)
    assert dry.rejected, dry
    assert want in dry.text, dry.text
    c.write_mode = True
    res = _run(reg, tool, args)
    assert res.is_error and want in res.content
    assert "Traceback" not in res.content


def test_the_approved_call_sends_the_plan_it_dry_ran_and_refuses_a_stale_one(env):
    c, reg, _ = env
    args = {"kind": "deploy", "name": "cart", "namespace": "shop", "patch": {"metadata": {
        "annotations": {"owner": "team-a"}}}}  # fmt: skip
    assert not _dry(reg, "patch_resource", args).rejected
    c.write_mode = True
    # someone else changes the object after the diff was shown
    other = {"kind": "deploy", "name": "cart", "namespace": "shop",
             "patch": {"metadata": {"labels": {"moved": "yes"}}}}  # fmt: skip
    assert not _run(reg, "patch_resource", other).is_error
    stale = _run(reg, "patch_resource", args)
    assert stale.is_error and "the object has been modified" in stale.content
    assert "owner" not in (_deploy(c, "shop", "cart")["metadata"].get("annotations") or {})
