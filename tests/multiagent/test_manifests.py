"""The Coder's manifests: templates, local schema checks, server-side dry run against the
sandbox (dryRun=All through the official client's ApiClient), review of pasted YAML."""

from __future__ import annotations

import pytest

from opsconsole.k8s import queries as q
from opsconsole.team.manifest_templates import TEMPLATE_KINDS, Params, render_templates
from opsconsole.team.manifests import (
    ManifestError,
    check_local,
    dry_run_create,
    parse_documents,
    review_manifest_text,
    validate_text,
)

INVALID = """\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: Bad_Name
spec:
  replica: 3
  selector: {matchLabels: {app: a}}
  template:
    metadata: {labels: {app: b}}
    spec:
      containers:
        - name: web
          image: nginx
          ports: [{containerPort: "http"}]
"""


def test_every_template_passes_the_local_schema_check_and_is_secure():
    text = render_templates(
        list(TEMPLATE_KINDS), Params(name="web", namespace="shop", image="nginx:1.27")
    )
    docs = parse_documents(text)
    assert [d["kind"] for d in docs] == list(TEMPLATE_KINDS)
    for d in docs:
        assert check_local(d) == [], d["kind"]
    review = review_manifest_text(text)
    # secure defaults: no finding above "low" in our own templates
    assert "severity=critical" not in review and "severity=high" not in review
    assert "severity=medium" not in review


@pytest.mark.parametrize(
    "text, expected",
    [
        (INVALID, ["metadata.name", "spec.replica: unknown field", "containerPort", "matchLabels"]),
        ("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\ndata: {k: 1}\n", ["data.k"]),
        ("apiVersion: extensions/v1beta1\nkind: Deployment\nmetadata: {name: d}\n", ["apps/v1"]),
        (
            "apiVersion: v1\nkind: Service\nmetadata: {name: s}\nspec: {ports: [{port: 70000}]}\n",
            ["70000"],
        ),
        ("apiVersion: v1\nkind: Service\nspec: {}\n", ["metadata"]),
    ],
)
def test_local_check_rejects_with_a_clear_message(text, expected):
    problems = check_local(parse_documents(text)[0])
    joined = "; ".join(problems)
    for part in expected:
        assert part in joined, (part, problems)


def test_quantities_may_be_numbers_like_in_kubectl():
    text = render_templates(["Deployment"], Params(name="w"))
    doc = parse_documents(text)[0]
    doc["spec"]["template"]["spec"]["containers"][0]["resources"]["limits"]["cpu"] = 1
    assert check_local(doc) == []


def test_yaml_errors_are_manifest_errors():
    with pytest.raises(ManifestError, match="invalid YAML at line"):
        parse_documents("a: [1, 2\nb: c")
    with pytest.raises(ManifestError, match="no manifest"):
        parse_documents("   ")
    assert parse_documents("```yaml\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: x}\n```")


def test_dry_run_accepts_a_valid_manifest_and_stores_nothing(demo_cluster):
    text = render_templates(
        ["Deployment", "Service", "ConfigMap"],
        Params(name="coder-demo", namespace="shop", image="nginx:1.27"),
    )
    before = {d.name for d in q.list_deployments(demo_cluster, "shop")}
    v = validate_text(text, demo_cluster, "shop")
    assert v.ok, v.lines
    assert len(v.lines) == 3 and all("server dry run accepted" in line for line in v.lines)
    after = {d.name for d in q.list_deployments(demo_cluster, "shop")}
    assert after == before and "coder-demo" not in after


def test_dry_run_rejects_an_invalid_manifest(demo_cluster):
    v = validate_text(INVALID, demo_cluster, "shop")
    assert not v.ok
    assert v.lines[0].startswith("REJECTED Deployment Bad_Name (local schema check)")
    assert "spec.replica: unknown field" in v.lines[0]
    # the API server itself refuses: the namespace does not exist
    text = render_templates(["ConfigMap"], Params(name="x", namespace="no-such-ns"))
    v = validate_text(text, demo_cluster, "default")
    assert not v.ok and "rejected by the API server" in v.lines[0] and "no-such-ns" in v.lines[0]


def test_dry_run_reports_kinds_the_cluster_does_not_serve(demo_cluster):
    # the sandbox serves autoscaling/v2 and networking.k8s.io: the server validates them
    text = render_templates(
        ["HorizontalPodAutoscaler", "NetworkPolicy"], Params(name="web", namespace="shop")
    )
    v = validate_text(text, demo_cluster, "shop")
    assert v.ok
    assert all("server dry run accepted" in line for line in v.lines), v.lines
    # a kind it does not serve is validated locally only, and said so
    res = dry_run_create(
        demo_cluster,
        {"apiVersion": "storage.k8s.io/v1", "kind": "CSIDriver", "metadata": {"name": "d"}},
        "shop",
    )
    assert res.outcome == "unsupported"
    assert "does not serve storage.k8s.io/v1 CSIDriver" in res.message
    assert "validated locally only" in res.message


def test_existing_object_is_reported_not_rejected(demo_cluster):
    res = dry_run_create(
        demo_cluster,
        {
            "apiVersion": "v1",
            "kind": "Service",
            "metadata": {"name": "web"},
            "spec": {"ports": [{"port": 80}]},
        },
        "shop",
    )
    assert res.outcome == "exists" and "already exists" in res.message


def test_review_of_pasted_yaml_lists_security_and_best_practice():
    text = """\
apiVersion: apps/v1
kind: Deployment
metadata: {name: api, namespace: shop}
spec:
  replicas: 1
  selector: {matchLabels: {app: api}}
  template:
    metadata: {labels: {app: api}}
    spec:
      containers:
        - name: api
          image: registry.example.com/api:latest
          securityContext: {privileged: true}
          env: [{name: STRIPE_API_KEY, value: sk_live_abcdefghijklmnop}]
---
apiVersion: v1
kind: Service
metadata: {name: api, namespace: shop}
spec: {type: NodePort, selector: {app: api}, ports: [{port: 80, nodePort: 30080}]}
"""
    review = review_manifest_text(text)
    for reason in (
        "PrivilegedContainer",
        "SecretInEnv",
        "LatestImageTag",
        "NoResourceLimits",
        "NoReadinessProbe",
        "SingleReplica",
        "ExposedService",
    ):
        assert f"reason={reason}" in review, reason
    assert "sk_live" not in review and "STRIPE_API_KEY" in review
