"""Scenario files may carry manifests of any served kind (``objects:``): stored as the API server
would store them and acted on by their controllers once the cluster runs."""

from __future__ import annotations

import subprocess
from typing import Any

import pytest

from opsconsole.sandbox.cluster import Cluster
from opsconsole.sandbox.scenario import ScenarioError, build_cluster
from tests.sandbox.conftest import wait_for

DATA: dict[str, Any] = {
    "nodes": [{"name": "n1"}],
    "namespaces": ["batch"],
    "objects": [
        {
            "apiVersion": "batch/v1",
            "kind": "Job",
            "metadata": {"name": "migrate", "namespace": "batch"},
            "spec": {
                "backoffLimit": 2,
                "template": {"spec": {"containers": [{"name": "m", "image": "migrate:1"}]}},
            },
            "fault": {"exit_code": 3},
        },
        {
            "apiVersion": "v1",
            "kind": "PersistentVolumeClaim",
            "metadata": {"name": "orphan", "namespace": "batch"},
            "spec": {
                "storageClassName": "gold",
                "accessModes": ["ReadWriteOnce"],
                "resources": {"requests": {"storage": "1Gi"}},
            },
        },
    ],
}


def _conds(obj: dict) -> dict[str, str]:
    return {c["type"]: c["status"] for c in (obj.get("status") or {}).get("conditions") or ()}


def test_a_job_of_a_scenario_fails_as_its_fault_says_and_a_claim_stays_pending():
    c = Cluster(speed=50)
    build_cluster(c, DATA)
    c.start()
    try:
        job = wait_for(
            lambda: (
                (j := c.store.get("batch/jobs", "batch", "migrate"))
                and _conds(j).get("Failed") == "True"
                and j
            ),
            timeout=60,
        )
        assert job["status"]["failed"] == 3  # backoffLimit 2: the third failure ends it
        assert job["spec"]["selector"]["matchLabels"]  # defaulted as the API server does
        pvc = c.store.get("persistentvolumeclaims", "batch", "orphan")
        assert pvc["status"]["phase"] == "Pending"
        events = [e["message"] for e in c.store.list("events", "batch")]
        assert 'storageclass.storage.k8s.io "gold" not found' in events
        assert c.errors == []
    finally:
        c.stop()


def test_an_unserved_kind_in_a_scenario_is_a_clear_error():
    data = {
        "objects": [{"apiVersion": "example.com/v1", "kind": "Widget", "metadata": {"name": "w"}}]
    }
    with pytest.raises(ScenarioError, match="example.com/v1/Widget 'w' is not a served kind"):
        build_cluster(Cluster(), data)


def test_the_clean_scenario_has_a_default_class_that_provisions(
    fresh_sandbox: Any, kubectl: Any, kubectl_bin: str
):
    srv = fresh_sandbox("clean", speed=50)
    run = kubectl(srv)
    assert "standard (default)" in run("get", "storageclass").stdout
    manifest = (
        "apiVersion: v1\nkind: PersistentVolumeClaim\nmetadata: {name: data}\n"
        "spec: {accessModes: [ReadWriteOnce], resources: {requests: {storage: 2Gi}}}\n"
    )
    p = subprocess.run(
        [kubectl_bin, "apply", "-f", "-"],
        input=manifest,
        capture_output=True,
        text=True,
        env=run.env,
        timeout=60,
    )
    assert p.returncode == 0, p.stderr
    run("wait", "--for=jsonpath={.status.phase}=Bound", "pvc/data", "--timeout=60s")
    got = run("get", "pvc", "data").stdout
    assert "Bound" in got and "standard" in got and "2Gi" in got
