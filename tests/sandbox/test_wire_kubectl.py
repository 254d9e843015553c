"""The real kubectl's wire formats against the sandbox: its typed commands (protobuf bodies),
``apply`` / ``diff`` / ``explain`` (OpenAPI), strict field validation, namespace deletion."""

from __future__ import annotations

import base64
import json
import os
import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from opsconsole.sandbox import SandboxServer
from opsconsole.sandbox.wire.protobuf import schema
from tests.fakes.recording_proxy import RecordingProxy
from tests.sandbox.conftest import raw_get, wait_for
from tests.sandbox.kubectl_typed import NS, TYPED

Run = Callable[..., subprocess.CompletedProcess]


@pytest.fixture(scope="module")
def wire(kubectl_bin: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple]:
    """(sandbox, proxy, run through the proxy, run direct) on a fresh clean cluster."""
    tmp = tmp_path_factory.mktemp("wire")
    srv = SandboxServer(scenario="clean", speed=50).start()
    proxy = RecordingProxy(srv.url).start()
    direct = srv.write_kubeconfig(tmp / "direct")
    proxied = tmp / "proxied"
    proxied.write_text(direct.read_text().replace(srv.url, proxy.url))

    def runner(kc: Path) -> Run:
        env = dict(os.environ, KUBECONFIG=str(kc), HOME=str(tmp))

        def run(*args: str, check: bool = True, stdin: str | None = None) -> Any:
            p = subprocess.run(
                [kubectl_bin, "--cache-dir", str(tmp / "cache"), *args],
                capture_output=True,
                text=True,
                timeout=120,
                env=env,
                input=stdin,
            )
            if check and p.returncode != 0:
                raise AssertionError(f"kubectl {' '.join(args)} failed: {p.stderr}")
            return p

        return run

    yield srv, proxy, runner(proxied), runner(direct)
    proxy.stop()
    srv.stop()


def _subset(expected: Any, actual: Any, path: str = "") -> list[str]:
    """Where ``actual`` lacks what ``expected`` holds (the server may add, never lose)."""
    if isinstance(expected, dict):
        if not isinstance(actual, dict):
            return [f"{path}: {actual!r} is not an object"]
        out = []
        for k, v in expected.items():
            if v is None:
                continue
            if k not in actual:
                out.append(f"{path}.{k}: missing")
            else:
                out += _subset(v, actual[k], f"{path}.{k}")
        return out
    if isinstance(expected, list):
        if not isinstance(actual, list) or len(actual) != len(expected):
            return [f"{path}: {actual!r} != {expected!r}"]
        return [m for i, v in enumerate(expected) for m in _subset(v, actual[i], f"{path}[{i}]")]
    return [] if expected == actual else [f"{path}: {actual!r} != {expected!r}"]


def test_every_typed_create_is_stored_as_sent(wire: tuple):
    srv, proxy, run, _ = wire
    for t in TYPED:
        before = len(proxy.writes())
        out = run(*t.args).stdout
        assert "created" in out, (t.label, out)
        sent = proxy.writes()[before:]
        assert [r.headers.get("Content-Type") for r in sent] == [
            "application/vnd.kubernetes.protobuf"
        ], t.label  # kubectl's typed commands speak protobuf
        code, stored = raw_get(srv, t.path)
        assert code == 200, (t.label, stored)
        decoded = schema().decode_object(sent[0].body)
        assert not _subset(decoded, stored), (t.label, _subset(decoded, stored))
    # spot checks of what the flags said, read back through the API
    _, dep = raw_get(srv, f"/apis/apps/v1/namespaces/{NS}/deployments/idle")
    assert dep["spec"]["replicas"] == 0  # an explicit zero is not "unset"
    _, pc = raw_get(srv, "/apis/scheduling.k8s.io/v1/priorityclasses/wire-zero")
    assert pc["value"] == 0
    _, quota = raw_get(srv, f"/api/v1/namespaces/{NS}/resourcequotas/caps")
    assert quota["spec"]["hard"] == {"cpu": "2", "memory": "1Gi", "pods": "10"}
    _, secret = raw_get(srv, f"/api/v1/namespaces/{NS}/secrets/creds")
    assert base64.b64decode(secret["data"]["user"]) == b"admin"
    _, cj = raw_get(srv, f"/apis/batch/v1/namespaces/{NS}/cronjobs/tick")
    assert cj["spec"]["schedule"] == "*/5 * * * *"
    job = cj["spec"]["jobTemplate"]["spec"]["template"]["spec"]["containers"][0]
    assert job["command"] == ["date"]
    # kubectl reads them back with its own printers
    names = run("get", "sa,role,rolebinding,cronjob,job,quota,pdb,ingress", "-n", NS, "-o", "name")
    for want in (
        "serviceaccount/bot",
        "serviceaccount/default",  # the namespace got its default ServiceAccount
        "role.rbac.authorization.k8s.io/reader",
        "cronjob.batch/tick",
        "poddisruptionbudget.policy/web",
        "ingress.networking.k8s.io/web",
    ):
        assert want in names.stdout.split()


def _namespace(run: Run) -> None:
    run("create", "namespace", NS, check=False)  # (the first test makes it; a -k run may not)


def test_autoscale_auth_can_i_and_token(wire: tuple):
    srv, _, run, _ = wire
    _namespace(run)
    run("create", "serviceaccount", "bot", "-n", NS, check=False)
    run("create", "deployment", "scaled", "--image=nginx", "-n", NS)
    assert "autoscaled" in run("autoscale", "deployment", "scaled", "--max=4", "-n", NS).stdout
    code, hpa = raw_get(
        srv, f"/apis/autoscaling/v2/namespaces/{NS}/horizontalpodautoscalers/scaled"
    )
    assert code == 200 and hpa["spec"]["maxReplicas"] == 4
    assert hpa["spec"]["scaleTargetRef"] == {
        "kind": "Deployment",
        "name": "scaled",
        "apiVersion": "apps/v1",
    }
    assert run("auth", "can-i", "get", "pods", "-n", NS).stdout.strip() == "yes"
    rules = run("auth", "can-i", "--list", "-n", NS).stdout.split("\n")
    assert rules[0].split() == ["Resources", "Non-Resource", "URLs", "Resource", "Names", "Verbs"]
    assert rules[1].split() == ["*.*", "[]", "[]", "[*]"]  # what cluster-admin sees
    srv.faults.forbid("secrets", NS, ["list"])
    try:
        p = run("auth", "can-i", "list", "secrets", "-n", NS, check=False)
        assert p.returncode == 1 and p.stdout.strip() == "no"
    finally:
        srv.faults.clear()
    token = run("create", "token", "bot", "-n", NS).stdout.strip()
    header, claims, _ = token.split(".")
    pad = "=" * (-len(claims) % 4)
    assert json.loads(base64.urlsafe_b64decode(claims + pad))["sub"] == (
        f"system:serviceaccount:{NS}:bot"
    )
    missing = run("create", "token", "nobody", "-n", NS, check=False)
    assert missing.returncode == 1 and 'serviceaccounts "nobody" not found' in missing.stderr


def test_create_secret_tls(wire: tuple, tmp_path: Path):
    import shutil

    srv, proxy, run, _ = wire
    if shutil.which("openssl") is None:
        pytest.skip("openssl is needed to make a certificate")
    _namespace(run)
    key, crt = tmp_path / "tls.key", tmp_path / "tls.crt"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1"]
        + ["-subj", "/CN=web.example.com", "-keyout", str(key), "-out", str(crt)],
        check=True,
        capture_output=True,
    )
    before = len(proxy.writes())
    run("create", "secret", "tls", "web-tls", f"--cert={crt}", f"--key={key}", "-n", NS)
    (sent,) = proxy.writes()[before:]
    assert sent.headers["Content-Type"] == "application/vnd.kubernetes.protobuf"
    _, secret = raw_get(srv, f"/api/v1/namespaces/{NS}/secrets/web-tls")
    assert secret["type"] == "kubernetes.io/tls"
    assert base64.b64decode(secret["data"]["tls.crt"]) == crt.read_bytes()


def test_a_kind_not_served_is_a_clear_not_found(wire: tuple):
    _, _, run, _ = wire
    p = run("get", "csidrivers", check=False)
    assert p.returncode == 1
    assert 'the server doesn\'t have a resource type "csidrivers"' in p.stderr
    manifest = "apiVersion: storage.k8s.io/v1\nkind: CSIDriver\nmetadata:\n  name: d\nspec:\n"
    p = run("create", "-f", "-", stdin=manifest + "  attachRequired: true\n", check=False)
    assert p.returncode == 1 and 'no matches for kind "CSIDriver" in version' in p.stderr
    # kubectl validated it on its side first, from /openapi/v2 (gnostic protobuf)
    p = run("create", "-f", "-", stdin=manifest + "  attached: true\n", check=False)
    assert p.returncode == 1
    assert (
        'ValidationError(CSIDriver.spec): unknown field "attached" in '
        "io.k8s.api.storage.v1.CSIDriverSpec"
    ) in p.stderr


MANIFEST = """\
apiVersion: v1
kind: ConfigMap
metadata:
  name: settings
  namespace: {ns}
data:
  mode: {mode}
---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: api
  namespace: {ns}
spec:
  replicas: {replicas}
  selector:
    matchLabels: {{app: api}}
  template:
    metadata:
      labels: {{app: api}}
    spec:
      containers:
      - name: api
        image: {image}
        ports: [{{containerPort: 8080}}]
---
apiVersion: v1
kind: Service
metadata:
  name: api
  namespace: {ns}
spec:
  selector: {{app: api}}
  ports: [{{port: 80, targetPort: 8080}}]
"""


def test_apply_a_manifest_then_apply_a_change(wire: tuple, tmp_path: Path):
    srv, _, run, _ = wire
    run("create", "namespace", "applied")
    f = tmp_path / "app.yaml"
    f.write_text(MANIFEST.format(ns="applied", mode="slow", replicas=1, image="nginx:1.26"))
    out = run("apply", "-f", str(f)).stdout
    assert out.split("\n")[:3] == [
        "configmap/settings created",
        "deployment.apps/api created",
        "service/api created",
    ]
    assert run("diff", "-f", str(f), check=False).returncode == 0  # nothing to change
    f.write_text(MANIFEST.format(ns="applied", mode="fast", replicas=3, image="nginx:1.27"))
    p = run("diff", "-f", str(f), check=False)
    assert p.returncode == 1 and "-  mode: slow" in p.stdout and "+  mode: fast" in p.stdout
    out = run("apply", "-f", str(f)).stdout
    assert out.split("\n")[:3] == [
        "configmap/settings configured",
        "deployment.apps/api configured",
        "service/api unchanged",
    ]
    _, cm = raw_get(srv, "/api/v1/namespaces/applied/configmaps/settings")
    assert cm["data"] == {"mode": "fast"}
    _, dep = raw_get(srv, "/apis/apps/v1/namespaces/applied/deployments/api")
    assert dep["spec"]["replicas"] == 3
    assert dep["spec"]["template"]["spec"]["containers"][0]["image"] == "nginx:1.27"
    assert "kubectl.kubernetes.io/last-applied-configuration" in dep["metadata"]["annotations"]


def test_explain_reads_the_served_schemas(wire: tuple):
    _, _, run, _ = wire
    out = run("explain", "deployment.spec.replicas").stdout
    assert "KIND:       Deployment" in out and "VERSION:    v1" in out
    assert "FIELD: replicas <integer>" in out
    assert "Number of desired pods" in out
    out = run("explain", "pods.spec.containers.resources").stdout
    assert "limits\t<map[string]Quantity>" in out
    out = run("explain", "cronjob.spec.schedule").stdout
    assert "FIELD: schedule <string>" in out


def test_strict_field_validation(wire: tuple, tmp_path: Path):
    srv, _, run, _ = wire
    f = tmp_path / "bad.yaml"
    f.write_text(
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: strict\n  namespace: default\n"
        "  colour: blue\ndata:\n  a: b\n"
    )
    p = run("apply", "-f", str(f), check=False)
    assert p.returncode == 1
    assert (
        'ConfigMap in version "v1" cannot be handled as a ConfigMap: strict decoding error: '
        'unknown field "metadata.colour"'
    ) in p.stderr
    assert raw_get(srv, "/api/v1/namespaces/default/configmaps/strict")[0] == 404
    run("apply", "-f", str(f), "--validate=false")  # fieldValidation=Ignore: dropped, stored
    _, cm = raw_get(srv, "/api/v1/namespaces/default/configmaps/strict")
    assert "colour" not in cm["metadata"] and cm["data"] == {"a": "b"}


HELD = """\
apiVersion: v1
kind: ConfigMap
metadata:
  name: held
  namespace: doomed
  finalizers: [example.com/hold]
data:
  a: b
"""


def test_deleting_a_namespace_empties_it_first(wire: tuple):
    srv, _, run, direct = wire
    ns = "doomed"
    run("create", "namespace", ns)
    run("create", "deployment", "web", "--image=nginx", "--replicas=2", "-n", ns)
    run("create", "configmap", "cfg", "--from-literal=a=b", "-n", ns)
    run("create", "service", "clusterip", "web", "--tcp=80:80", "-n", ns)
    run("create", "job", "once", "--image=busybox", "-n", ns)
    run("create", "role", "r", "--verb=get", "--resource=pods", "-n", ns)
    run("create", "-f", "-", stdin=HELD)  # a finalizer holds the namespace in Terminating
    # the Deployment's two pods, and the Job's one (the Job controller runs it)
    wait_for(lambda: len(raw_get(srv, f"/api/v1/namespaces/{ns}/pods")[1]["items"]) == 3)
    out = run("delete", "namespace", ns, "--wait=false").stdout
    assert out.strip() == f'namespace "{ns}" deleted'
    _, obj = raw_get(srv, f"/api/v1/namespaces/{ns}")
    assert obj["status"]["phase"] == "Terminating" and obj["metadata"]["deletionTimestamp"]
    p = run("create", "configmap", "late", "--from-literal=a=b", "-n", ns, check=False)
    assert (
        p.returncode == 1
        and (f"unable to create new content in namespace {ns} because it is being terminated")
        in p.stderr
    )
    everything_else = (
        f"/api/v1/namespaces/{ns}/pods",
        f"/api/v1/namespaces/{ns}/services",
        f"/api/v1/namespaces/{ns}/endpoints",
        f"/api/v1/namespaces/{ns}/serviceaccounts",
        f"/api/v1/namespaces/{ns}/events",
        f"/apis/apps/v1/namespaces/{ns}/deployments",
        f"/apis/apps/v1/namespaces/{ns}/replicasets",
        f"/apis/batch/v1/namespaces/{ns}/jobs",
        f"/apis/rbac.authorization.k8s.io/v1/namespaces/{ns}/roles",
    )
    wait_for(lambda: all(raw_get(srv, p)[1]["items"] == [] for p in everything_else))

    def held_only() -> bool:
        _, o = raw_get(srv, f"/api/v1/namespaces/{ns}")
        conds = {c["type"]: c for c in o["status"]["conditions"]}
        return conds["NamespaceContentRemaining"]["message"] == (
            "Some resources are remaining: configmaps. has 1 resource instances"
        )

    wait_for(held_only)
    _, cms = raw_get(srv, f"/api/v1/namespaces/{ns}/configmaps")
    assert [c["metadata"]["name"] for c in cms["items"]] == ["held"]
    assert cms["items"][0]["metadata"]["deletionTimestamp"]
    run(
        "patch",
        "configmap",
        "held",
        "-n",
        ns,
        "--type=merge",
        "-p",
        '{"metadata":{"finalizers":null}}',
    )
    p = direct("wait", "--for=delete", f"namespace/{ns}", "--timeout=60s", check=False)
    assert p.returncode == 0, p.stderr
    assert raw_get(srv, f"/api/v1/namespaces/{ns}")[0] == 404
    assert raw_get(srv, f"/api/v1/namespaces/{ns}/configmaps")[1]["items"] == []
    p = run("delete", "namespace", "default", check=False)
    assert p.returncode == 1 and 'namespaces "default" is forbidden' in p.stderr


def test_kubectl_delete_namespace_waits_until_it_is_gone(wire: tuple):
    srv, _, run, direct = wire
    run("create", "namespace", "brief")
    run("create", "deployment", "web", "--image=nginx", "-n", "brief")
    wait_for(lambda: raw_get(srv, "/api/v1/namespaces/brief/pods")[1]["items"])
    out = direct("delete", "namespace", "brief").stdout  # --wait=true: returns once it is gone
    assert out.strip() == 'namespace "brief" deleted'
    assert raw_get(srv, "/api/v1/namespaces/brief")[0] == 404
    assert raw_get(srv, "/api/v1/namespaces/brief/pods")[1]["items"] == []


def test_kubectl_get_prints_the_real_columns(wire: tuple):
    _, _, run, _ = wire
    ns = "printed"
    run("create", "namespace", ns)
    run("create", "serviceaccount", "bot", "-n", ns)
    run("create", "job", "once", "--image=busybox", "-n", ns)
    run("create", "cronjob", "tick", "--image=busybox", "--schedule=*/5 * * * *", "-n", ns)
    run("create", "deployment", "web", "--image=nginx", "-n", ns)
    run("autoscale", "deployment", "web", "--max=3", "--cpu=50%", "-n", ns)
    run("create", "priorityclass", "printed-high", "--value=7")

    def header(*args: str) -> list[str]:
        return run("get", *args).stdout.split("\n")[0].split()

    assert header("sa", "-n", ns) == ["NAME", "SECRETS", "AGE"]
    assert header("jobs", "-n", ns) == ["NAME", "STATUS", "COMPLETIONS", "DURATION", "AGE"]
    assert header("cronjobs", "-n", ns) == [
        "NAME", "SCHEDULE", "TIMEZONE", "SUSPEND", "ACTIVE", "LAST", "SCHEDULE", "AGE"
    ]  # fmt: skip
    hpa = run("get", "hpa", "web", "-n", ns).stdout.split("\n")
    assert hpa[0].split() == [
        "NAME",
        "REFERENCE",
        "TARGETS",
        "MINPODS",
        "MAXPODS",
        "REPLICAS",
        "AGE",
    ]
    assert hpa[1].split()[:5] == ["web", "Deployment/web", "cpu:", "<unknown>/50%", "1"]
    pc = run("get", "priorityclass", "printed-high").stdout.split("\n")
    assert pc[1].split()[:3] == ["printed-high", "7", "false"]  # one object: a Table too
