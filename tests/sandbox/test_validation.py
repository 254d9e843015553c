"""Objects of built-in kinds are validated as the real API server validates them: what kubectl
prints for each refusal is compared with the real server's text."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

DEPLOYMENT = """\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: {name}
spec:
  replicas: {replicas}
  selector: {{matchLabels: {{app: {selector}}}}}
  template:
    metadata: {{labels: {{app: {labels}}}}}
    spec:
      containers:
      - name: web
        image: {image}
"""
SUBDOMAIN = (
    "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or "
    "'.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used "
    "for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')"
)


def deployment(**kw: Any) -> str:
    values = {"name": "web", "replicas": 2, "selector": "web", "labels": "web", "image": "nginx"}
    values.update(kw)
    return DEPLOYMENT.format(**values)


@pytest.fixture
def env(fresh_sandbox: Any, kubectl: Any, tmp_path: Path) -> tuple[Any, Any, Path]:
    srv = fresh_sandbox("clean")
    return srv, kubectl(srv), tmp_path


def _apply(run: Any, tmp: Path, text: str) -> Any:
    p = tmp / "obj.yaml"
    p.write_text(text)
    return run("apply", "-f", str(p), check=False)


def test_deployment_selector_is_immutable(env: tuple[Any, Any, Path]) -> None:
    _srv, run, tmp = env
    assert _apply(run, tmp, deployment()).returncode == 0
    out = _apply(run, tmp, deployment(selector="web2", labels="web2"))
    assert out.returncode == 1
    assert out.stderr.strip() == (
        'The Deployment "web" is invalid: spec.selector: Invalid value: '
        'v1.LabelSelector{MatchLabels:map[string]string{"app":"web2"}, '
        "MatchExpressions:[]v1.LabelSelectorRequirement(nil)}: field is immutable"
    )


def test_selector_must_match_template_and_images_are_required(env: tuple[Any, Any, Path]) -> None:
    _srv, run, tmp = env
    out = _apply(run, tmp, deployment(selector="other"))
    assert out.stderr.strip() == (
        'The Deployment "web" is invalid: spec.template.metadata.labels: Invalid value: '
        'map[string]string{"app":"web"}: `selector` does not match template `labels`'
    )
    out = _apply(run, tmp, deployment(image='""', replicas=-1))
    assert out.stderr.splitlines() == [
        'The Deployment "web" is invalid: ',
        "* spec.replicas: Invalid value: -1: must be greater than or equal to 0",
        "* spec.template.spec.containers[0].image: Required value",
    ]


def test_wrong_type_is_the_decoders_400(env: tuple[Any, Any, Path]) -> None:
    _srv, run, tmp = env
    out = _apply(run, tmp, deployment(replicas='"two"'))
    assert out.returncode == 1
    assert out.stderr.strip().endswith(
        'Deployment in version "v1" cannot be handled as a Deployment: json: cannot unmarshal '
        "string into Go struct field DeploymentSpec.spec.replicas of type int32"
    )
    # a map's value and an array's item: Go names the struct field and the element's type
    out = _apply(run, tmp, deployment(labels="y"))  # YAML 1.1: y is true
    assert out.stderr.strip().endswith(
        "json: cannot unmarshal bool into Go struct field "
        "ObjectMeta.spec.template.metadata.labels of type string"
    )
    out = _apply(
        run, tmp, deployment().replace("      - name: web\n", "      - 7\n      - name: web\n")
    )
    assert out.stderr.strip().endswith(
        "json: cannot unmarshal number into Go struct field "
        "PodSpec.spec.template.spec.containers of type v1.Container"
    )


def test_names_and_labels(env: tuple[Any, Any, Path]) -> None:
    _srv, run, _tmp = env
    out = run("create", "deployment", "Bad_Name", "--image=nginx", check=False)
    assert out.stderr.strip() == (
        'error: failed to create deployment: Deployment.apps "Bad_Name" is invalid: '
        f'metadata.name: Invalid value: "Bad_Name": {SUBDOMAIN}'
    )
    out = run("create", "service", "clusterip", "MySvc", "--tcp=80", check=False)
    assert out.stderr.strip() == (
        'error: failed to create ClusterIP service: Service "MySvc" is invalid: metadata.name: '
        'Invalid value: "MySvc": a DNS-1035 label must consist of lower case alphanumeric '
        "characters or '-', start with an alphabetic character, and end with an alphanumeric "
        "character (e.g. 'my-name',  or 'abc-123', regex used for validation is "
        "'[a-z]([-a-z0-9]*[a-z0-9])?')"
    )
    out = run("create", "namespace", "team.a", check=False)
    assert out.stderr.strip() == (
        'The Namespace "team.a" is invalid: metadata.name: Invalid value: "team.a": a lowercase '
        "RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start "
        "and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for "
        "validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')"
    )
    out = run("run", "p", "--image=nginx", "--labels=tier=front end", check=False)
    assert out.stderr.strip() == (
        'The Pod "p" is invalid: metadata.labels: Invalid value: "front end": a valid label must '
        "be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must "
        "start and end with an alphanumeric character (e.g. 'MyValue',  or 'my_value',  or "
        "'12345', regex used for validation is '(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')"
    )


def test_statefulset_and_job_updates(env: tuple[Any, Any, Path]) -> None:
    _srv, run, tmp = env
    sts = (
        deployment()
        .replace("Deployment", "StatefulSet")
        .replace("replicas: 2", "replicas: 1\n  serviceName: web")
    )
    assert _apply(run, tmp, sts).returncode == 0
    out = _apply(run, tmp, sts.replace("serviceName: web", "serviceName: other"))
    assert out.stderr.strip() == (
        'The StatefulSet "web" is invalid: spec: Forbidden: updates to statefulset spec for '
        "fields other than 'replicas', 'ordinals', 'template', 'updateStrategy', "
        "'persistentVolumeClaimRetentionPolicy' and 'minReadySeconds' are forbidden"
    )
    run("create", "job", "once", "--image=busybox")
    out = run("set", "image", "job/once", "once=busybox:2", check=False)
    assert out.returncode == 1
    assert 'Job.batch "once" is invalid: spec.template: Invalid value: ' in out.stderr
    assert out.stderr.strip().endswith("field is immutable")


def test_pvc_spec_and_shrink(env: tuple[Any, Any, Path]) -> None:
    _srv, run, tmp = env
    pvc = """\
apiVersion: v1
kind: PersistentVolumeClaim
metadata: {name: data}
spec:
  accessModes: [ReadWriteOnce]
  storageClassName: standard
  resources: {requests: {storage: 2Gi}}
"""
    assert _apply(run, tmp, pvc).returncode == 0
    out = _apply(run, tmp, pvc.replace("2Gi", "1Gi"))
    assert out.stderr.strip() == (
        'The PersistentVolumeClaim "data" is invalid: spec.resources.requests.storage: '
        "Forbidden: field can not be less than previous value"
    )
    out = _apply(run, tmp, pvc.replace("standard", "fast"))
    assert out.stderr.strip() == (
        'The PersistentVolumeClaim "data" is invalid: spec: Forbidden: spec is immutable after '
        "creation except resources.requests and volumeAttributesClassName for bound claims"
    )


def _post(srv: Any, path: str, body: Any) -> tuple[int, Any]:
    """POST through urllib, past the client's own model checks: (status, parsed answer)."""
    import urllib.error
    import urllib.request

    req = urllib.request.Request(
        srv.url + path,
        data=json.dumps(body).encode(),
        headers={"Content-Type": "application/json"},
        method="POST",
    )
    try:
        with urllib.request.urlopen(req, timeout=30) as r:
            return r.status, json.loads(r.read())
    except urllib.error.HTTPError as e:
        return e.code, json.loads(e.read())


def test_the_422_status_shape(fresh_sandbox: Any) -> None:
    srv = fresh_sandbox("clean")
    body = {
        "metadata": {"name": "web"},
        "spec": {"selector": {"matchLabels": {"app": "web"}}, "template": {"spec": {}}},
    }
    code, status = _post(srv, "/apis/apps/v1/namespaces/default/deployments", body)
    assert code == 422
    assert status["reason"] == "Invalid" and status["code"] == 422
    assert status["details"]["kind"] == "Deployment" and status["details"]["group"] == "apps"
    assert status["details"]["causes"] == [
        {
            "reason": "FieldValueRequired",
            "message": "Required value",
            "field": "spec.template.spec.containers",
        },
        {
            "reason": "FieldValueInvalid",
            "message": "Invalid value: map[string]string{}: `selector` does not match template "
            "`labels`",
            "field": "spec.template.metadata.labels",
        },
    ]
    assert status["message"].startswith('Deployment.apps "web" is invalid: [')
    code, status = _post(srv, "/api/v1/namespaces/default/configmaps", {"metadata": {}})
    assert code == 422
    assert status["details"]["causes"] == [
        {
            "reason": "FieldValueRequired",
            "message": "Required value: name or generateName is required",
            "field": "metadata.name",
        }
    ]
