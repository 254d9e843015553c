"""Custom resources: a CRD makes the sandbox serve its kind, as a real API server does (real
kubectl and the official client)."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

import pytest

from tests.sandbox.conftest import apis, wait_for

DATA = Path(__file__).parent / "data"
CRD = DATA / "crontab-crd.yaml"
GOOD = """\
apiVersion: stable.example.com/v1
kind: CronTab
metadata:
  name: my-cron
spec:
  cronSpec: "* * * * */5"
  image: my-awesome-cron-image
"""
BAD = """\
apiVersion: stable.example.com/v1
kind: CronTab
metadata:
  name: bad-cron
spec:
  cronSpec: "* * * *"
  replicas: 20
"""


@pytest.fixture
def crd_env(fresh_sandbox: Any, kubectl: Any, tmp_path: Path) -> tuple[Any, Any, Path]:
    srv = fresh_sandbox("clean")
    run = kubectl(srv)
    run("apply", "-f", str(CRD))
    run("wait", "--for=condition=established", "crd/crontabs.stable.example.com")
    return srv, run, tmp_path


def _write(tmp: Path, name: str, text: str) -> str:
    p = tmp / name
    p.write_text(text)
    return str(p)


def test_crd_lifecycle_with_kubectl(crd_env: tuple[Any, Any, Path]) -> None:
    srv, run, tmp = crd_env
    resources = run("api-resources", "--api-group=stable.example.com").stdout
    assert "crontabs" in resources and "ct" in resources and "CronTab" in resources
    out = run("apply", "-f", _write(tmp, "good.yaml", GOOD)).stdout
    assert out.strip() == "crontab.stable.example.com/my-cron created"
    # by plural, singular and short name; the printer columns and the schema's default
    for name in ("crontabs", "crontab", "ct"):
        table = run("get", name).stdout.splitlines()
        assert table[0].split() == ["NAME", "SPEC", "REPLICAS", "AGE"]
        assert table[1].split()[:6] == ["my-cron", "*", "*", "*", "*", "*/5"]
        assert table[1].split()[6] == "1"
    assert "crontab.stable.example.com/my-cron" in run("get", "all").stdout
    # an invalid object: the 422 as kubectl prints it, one line per field
    bad = run("apply", "-f", _write(tmp, "bad.yaml", BAD), check=False)
    assert bad.returncode == 1
    assert bad.stderr.splitlines() == [
        'The CronTab "bad-cron" is invalid: ',
        '* spec.cronSpec: Invalid value: "* * * *": spec.cronSpec in body should match '
        "'^(\\d+|\\*)(/\\d+)?(\\s+(\\d+|\\*)(/\\d+)?){4}$'",
        "* spec.replicas: Invalid value: 20: spec.replicas in body should be less than or "
        "equal to 10",
    ]
    # patches: merge and JSON patch work, strategic merge is refused with the real 415
    run("patch", "ct", "my-cron", "--type", "merge", "-p", '{"spec":{"image":"v2"}}')
    run(
        "patch",
        "ct",
        "my-cron",
        "--type",
        "json",
        "-p",
        '[{"op":"replace","path":"/spec/replicas","value":3}]',
    )
    smp = run("patch", "ct", "my-cron", "-p", '{"spec":{"image":"v3"}}', check=False)
    assert smp.returncode == 1
    assert (
        "the body of the request was in an unknown format - accepted media types include: "
        "application/json-patch+json, application/merge-patch+json, application/apply-patch+yaml"
    ) in smp.stderr
    got = run("get", "ct", "my-cron", "-o", "jsonpath={.spec.image} {.spec.replicas}").stdout
    assert got == "v2 3"
    # the status subresource: only it writes status
    run("patch", "ct", "my-cron", "--subresource", "status", "--type", "merge", "-p",
        '{"status":{"phase":"Running"}}')  # fmt: skip
    run("patch", "ct", "my-cron", "--type", "merge", "-p", '{"status":{"phase":"Lost"}}')
    assert run("get", "ct", "my-cron", "-o", "jsonpath={.status.phase}").stdout == "Running"
    # deleting the CRD deletes its objects
    run("delete", "crd", "crontabs.stable.example.com")
    assert srv.store.keys("stable.example.com/crontabs") == []
    assert "crontabs" not in run("api-resources").stdout


def test_unknown_fields_are_pruned_or_refused(crd_env: tuple[Any, Any, Path]) -> None:
    srv, run, tmp = crd_env
    extra = GOOD + "  extra: dropped\n"
    strict = run("apply", "-f", _write(tmp, "extra.yaml", extra), check=False)
    assert strict.returncode == 1
    assert 'strict decoding error: unknown field "spec.extra"' in strict.stderr
    ok = run("apply", "--validate=false", "-f", _write(tmp, "extra.yaml", extra))
    assert ok.returncode == 0
    assert "extra" not in srv.store.get("stable.example.com/crontabs", "default", "my-cron")["spec"]


def test_custom_objects_client_list_watch_and_422(crd_env: tuple[Any, Any, Path]) -> None:
    from kubernetes import watch
    from kubernetes.client.rest import ApiException

    srv, _run, tmp = crd_env
    _core, _apps, custom = apis(srv, tmp)
    args = ("stable.example.com", "v1", "default", "crontabs")
    seen: list[tuple[str, str]] = []
    w = watch.Watch()

    def follow() -> None:
        for ev in w.stream(custom.list_namespaced_custom_object, *args, timeout_seconds=60):
            seen.append((ev["type"], ev["object"]["metadata"]["name"]))
            if ev["type"] == "DELETED":
                w.stop()

    t = threading.Thread(target=follow, daemon=True)
    t.start()
    body = {
        "apiVersion": "stable.example.com/v1",
        "kind": "CronTab",
        "metadata": {"name": "from-client"},
        "spec": {"cronSpec": "*/5 * * * *", "replicas": 2},
    }
    created = custom.create_namespaced_custom_object(*args, body)
    assert created["metadata"]["generation"] == 1
    items = custom.list_namespaced_custom_object(*args)["items"]
    assert [i["metadata"]["name"] for i in items] == ["from-client"]
    with pytest.raises(ApiException) as exc:
        custom.create_namespaced_custom_object(
            *args, dict(body, metadata={"name": "no-spec"}, spec={"replicas": "two"})
        )
    assert exc.value.status == 422
    import json

    status = json.loads(exc.value.body)
    assert status["reason"] == "Invalid"
    assert status["details"]["kind"] == "CronTab"
    assert {c["field"]: c["reason"] for c in status["details"]["causes"]} == {
        "spec.cronSpec": "FieldValueRequired",
        "spec.replicas": "FieldValueTypeInvalid",
    }
    custom.delete_namespaced_custom_object(*args[:4], "from-client")
    wait_for(lambda: ("DELETED", "from-client") in seen, timeout=60)
    t.join(10)
    assert seen[0] == ("ADDED", "from-client")


def test_cluster_scoped_crd(fresh_sandbox: Any, kubectl: Any, tmp_path: Path) -> None:
    srv = fresh_sandbox("clean")
    run = kubectl(srv)
    crd = CRD.read_text().replace("Namespaced", "Cluster")
    run("apply", "-f", _write(tmp_path, "crd.yaml", crd))
    run("apply", "-f", _write(tmp_path, "good.yaml", GOOD))
    assert srv.store.get("stable.example.com/crontabs", "", "my-cron") is not None
    assert "my-cron" in run("get", "ct").stdout
    bad = CRD.read_text().replace("crontabs.stable.example.com", "crontabs.example.org")
    out = run("apply", "-f", _write(tmp_path, "bad-crd.yaml", bad), check=False)
    assert out.stderr.strip() == (
        'The CustomResourceDefinition "crontabs.example.org" is invalid: metadata.name: '
        'Invalid value: "crontabs.example.org": must be spec.names.plural+"."+spec.group'
    )


def test_explain_and_openapi_know_a_crds_schema(crd_env: tuple[Any, Any, Path]) -> None:
    srv, run, _ = crd_env
    out = run("explain", "crontab.spec.replicas").stdout
    assert "KIND:       CronTab" in out and "GROUP:      stable.example.com" in out
    assert "FIELD: replicas <integer>" in out
    out = run("explain", "ct.metadata.labels").stdout  # metadata is the real ObjectMeta
    assert "FIELD: labels <map[string]string>" in out
    index = run("get", "--raw", "/openapi/v3").stdout
    assert '"apis/stable.example.com/v1"' in index
    # the CRD goes, and so does its document
    run("delete", "crd", "crontabs.stable.example.com")
    wait_for(
        lambda: "stable.example.com" not in run("get", "--raw", "/openapi/v3").stdout, timeout=60
    )
