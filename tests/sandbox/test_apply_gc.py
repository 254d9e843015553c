"""kubectl apply (client-side and server-side), diff, replace, and deletion with the three
propagation policies through the garbage collector, with the real kubectl."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tests.sandbox.conftest import wait_for

DEPLOY = """\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  labels: {{app: web}}
spec:
  replicas: {replicas}
  selector: {{matchLabels: {{app: web}}}}
  template:
    metadata: {{labels: {{app: web}}}}
    spec:
      containers:
      - name: web
        image: nginx:1.27
"""
CM = """\
apiVersion: v1
kind: ConfigMap
metadata:
  name: app
  labels: {labels}
data: {data}
"""


@pytest.fixture
def env(fresh_sandbox: Any, kubectl: Any, tmp_path: Path) -> tuple[Any, Any, Path]:
    srv = fresh_sandbox("clean")
    return srv, kubectl(srv), tmp_path


def _file(tmp: Path, text: str, name: str = "obj.yaml") -> str:
    p = tmp / name
    p.write_text(text)
    return str(p)


def test_client_side_apply_removes_a_dropped_field_and_diff_shows_it(
    env: tuple[Any, Any, Path],
) -> None:
    srv, run, tmp = env
    run("apply", "-f", _file(tmp, CM.format(labels='{a: "1", b: "2"}', data='{x: "1", z: "2"}')))
    smaller = _file(tmp, CM.format(labels='{a: "1"}', data='{x: "1"}'), "smaller.yaml")
    diff = run("diff", "-f", smaller, check=False)
    assert diff.returncode == 1  # differences found
    removed = [line for line in diff.stdout.splitlines() if line.startswith("-  ")]
    assert sorted(line.split(":")[0].strip("- ") for line in removed) == ["b", "z"]
    run("apply", "-f", smaller)
    cm = srv.store.get("configmaps", "default", "app")
    assert cm["metadata"]["labels"] == {"a": "1"} and cm["data"] == {"x": "1"}
    assert run("diff", "-f", smaller, check=False).returncode == 0
    # replace: the whole object from the file
    run("replace", "-f", _file(tmp, CM.format(labels="{}", data='{w: "9"}'), "r.yaml"))
    assert srv.store.get("configmaps", "default", "app")["data"] == {"w": "9"}


def test_server_side_apply_conflict_and_force(env: tuple[Any, Any, Path]) -> None:
    srv, run, tmp = env
    out = run("apply", "--server-side", "-f", _file(tmp, DEPLOY.format(replicas=2)))
    assert out.stdout.strip() == "deployment.apps/web serverside-applied"
    dep = srv.store.get("apps/deployments", "default", "web")
    (entry,) = dep["metadata"]["managedFields"]
    assert (entry["manager"], entry["operation"]) == ("kubectl", "Apply")
    assert entry["fieldsV1"]["f:spec"]["f:replicas"] == {}
    assert "f:progressDeadlineSeconds" not in entry["fieldsV1"]["f:spec"]  # a default: nobody's
    three = _file(tmp, DEPLOY.format(replicas=3), "three.yaml")
    clash = run("apply", "--server-side", "--field-manager=ci", "-f", three, check=False)
    assert clash.returncode == 1
    assert clash.stderr.splitlines()[0] == (
        'error: Apply failed with 1 conflict: conflict with "kubectl": .spec.replicas'
    )
    assert "--force-conflicts" in clash.stderr
    run("apply", "--server-side", "--field-manager=ci", "--force-conflicts", "-f", three)
    dep = srv.store.get("apps/deployments", "default", "web")
    assert dep["spec"]["replicas"] == 3
    owners = {e["manager"]: e["fieldsV1"] for e in dep["metadata"]["managedFields"]}
    assert "f:replicas" in owners["ci"]["f:spec"]
    assert "f:replicas" not in owners["kubectl"]["f:spec"]
    # an Update manager (kubectl edit / patch) is named with its apiVersion
    run("patch", "deploy", "web", "--field-manager=ops", "-p", '{"spec":{"replicas":4}}')
    again = run("apply", "--server-side", "--field-manager=ci", "-f", three, check=False)
    assert again.stderr.splitlines()[0] == (
        'error: Apply failed with 1 conflict: conflict with "ops" using apps/v1: .spec.replicas'
    )


def test_server_side_apply_drops_what_the_manager_stopped_sending(
    env: tuple[Any, Any, Path],
) -> None:
    srv, run, tmp = env
    run("apply", "--server-side", "-f", _file(tmp, CM.format(labels='{a: "1", b: "2"}', data="{}")))
    run("apply", "--server-side", "-f", _file(tmp, CM.format(labels='{a: "1"}', data="{}")))
    assert srv.store.get("configmaps", "default", "app")["metadata"]["labels"] == {"a": "1"}


def test_ssa_conflict_status_shape(env: tuple[Any, Any, Path]) -> None:
    import urllib.error
    import urllib.request

    srv, run, tmp = env
    run("apply", "--server-side", "-f", _file(tmp, DEPLOY.format(replicas=2)))
    body = {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": "web"},
        "spec": {
            "replicas": 5,
            "template": {"spec": {"containers": [{"name": "web", "image": "nginx:2"}]}},
        },
    }
    req = urllib.request.Request(
        srv.url + "/apis/apps/v1/namespaces/default/deployments/web?fieldManager=other",
        data=json.dumps(body).encode(),
        headers={"Content-Type": "application/apply-patch+yaml"},
        method="PATCH",
    )
    with pytest.raises(urllib.error.HTTPError) as exc:
        urllib.request.urlopen(req, timeout=30)
    assert exc.value.code == 409
    status = json.loads(exc.value.read())
    assert status["reason"] == "Conflict"
    assert status["message"] == (
        'Apply failed with 2 conflicts: conflicts with "kubectl":\n'
        "- .spec.replicas\n"
        '- .spec.template.spec.containers[name="web"].image'
    )
    assert [c["field"] for c in status["details"]["causes"]] == [
        ".spec.replicas",
        '.spec.template.spec.containers[name="web"].image',
    ]
    assert {c["reason"] for c in status["details"]["causes"]} == {"FieldManagerConflict"}


def _workload(srv: Any, run: Any, tmp: Path) -> tuple[list[str], list[str]]:
    run("apply", "-f", _file(tmp, DEPLOY.format(replicas=2)))
    run("rollout", "status", "deploy/web", "--timeout=60s")
    rs = [k[1] for k in srv.store.keys("apps/replicasets") if k[0] == "default"]
    pods = [k[1] for k in srv.store.keys("pods") if k[1].startswith("web-")]
    assert len(rs) == 1 and len(pods) == 2
    return rs, pods


def test_delete_background_removes_dependents(env: tuple[Any, Any, Path]) -> None:
    srv, run, tmp = env
    _workload(srv, run, tmp)
    run("delete", "deploy", "web")
    assert [k for k in srv.store.keys("apps/replicasets") if k[0] == "default"] == []
    wait_for(lambda: not [k for k in srv.store.keys("pods") if k[1].startswith("web-")], 60)


def test_delete_orphan_keeps_dependents_without_owner(env: tuple[Any, Any, Path]) -> None:
    srv, run, tmp = env
    rs, pods = _workload(srv, run, tmp)
    run("delete", "deploy", "web", "--cascade=orphan")
    kept = srv.store.get("apps/replicasets", "default", rs[0])
    assert kept is not None and "ownerReferences" not in kept["metadata"]
    for p in pods:  # the pods still belong to their ReplicaSet
        pod = srv.store.get("pods", "default", p)
        assert pod["metadata"]["ownerReferences"][0]["name"] == rs[0]
    out = run("get", "rs", "-o", "jsonpath={.items[*].metadata.ownerReferences}").stdout
    assert out == ""


def test_delete_foreground_waits_for_blocking_dependents(env: tuple[Any, Any, Path]) -> None:
    srv, run, tmp = env
    _workload(srv, run, tmp)
    marked: list[Any] = []

    def watch(rkey: str, etype: str, old: Any, new: Any) -> None:
        if rkey == "apps/deployments" and etype == "MODIFIED":
            marked.append(
                (new["metadata"].get("finalizers"), "deletionTimestamp" in new["metadata"])
            )

    srv.store.listeners.append(watch)
    run("delete", "deploy", "web", "--cascade=foreground")  # kubectl waits until it is gone
    assert (["foregroundDeletion"], True) in marked
    assert srv.store.get("apps/deployments", "default", "web") is None
    assert [k for k in srv.store.keys("apps/replicasets") if k[0] == "default"] == []
    assert not [k for k in srv.store.keys("pods") if k[1].startswith("web-")]


def test_client_side_then_server_side_apply_takes_over(env: tuple[Any, Any, Path]) -> None:
    srv, run, tmp = env
    run("apply", "-f", _file(tmp, DEPLOY.format(replicas=2)))
    out = run("apply", "--server-side", "-f", _file(tmp, DEPLOY.format(replicas=3), "v2.yaml"))
    assert out.stdout.strip() == "deployment.apps/web serverside-applied"
    dep = srv.store.get("apps/deployments", "default", "web")
    assert dep["spec"]["replicas"] == 3
    owners = {e["manager"]: e["fieldsV1"] for e in dep["metadata"]["managedFields"]}
    assert "f:replicas" in owners["kubectl"]["f:spec"]


SVC = """\
apiVersion: v1
kind: Service
metadata: {{name: api}}
spec:
  selector: {{app: api}}
  ports:
  - {{name: http, port: 80, targetPort: {target}}}
  - {{name: metrics, port: 9090, targetPort: 9090}}
"""


def test_strategic_patch_merges_service_ports_by_port(env: tuple[Any, Any, Path]) -> None:
    srv, run, tmp = env
    run("apply", "-f", _file(tmp, SVC.format(target=8080)))
    run("apply", "-f", _file(tmp, SVC.format(target=8081), "changed.yaml"))
    ports = srv.store.get("services", "default", "api")["spec"]["ports"]
    assert [(p["port"], p["targetPort"]) for p in ports] == [(80, 8081), (9090, 9090)]
    patch = json.dumps({"spec": {"ports": [{"port": 9090, "targetPort": 9100}]}})
    run("patch", "service", "api", "-p", patch)  # strategic: merged by port, not appended
    ports = srv.store.get("services", "default", "api")["spec"]["ports"]
    assert [(p["port"], p["targetPort"]) for p in ports] == [(80, 8081), (9090, 9100)]
    # a container's ports still merge by containerPort
    run("create", "deployment", "web", "--image=nginx:1.27", "--port=80")
    patch = json.dumps(
        {"spec": {"template": {"spec": {"containers": [
            {"name": "nginx", "ports": [{"containerPort": 80, "name": "http"}]}
        ]}}}}
    )  # fmt: skip
    run("patch", "deployment", "web", "-p", patch)
    dep = srv.store.get("apps/deployments", "default", "web")
    assert dep["spec"]["template"]["spec"]["containers"][0]["ports"] == [
        {"containerPort": 80, "name": "http", "protocol": "TCP"}
    ]
