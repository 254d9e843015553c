"""The demo's faults that only its newer kinds explain (a claim that cannot bind, a Job that
keeps failing, an HPA pinned at its maximum, a NetworkPolicy in a service's way, a binding to a
missing role, a CronJob that never ran): status, events and logs agree, through the real kubectl,
and the fix a person would make works."""

from __future__ import annotations

import json
import os
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

PROM = "system:serviceaccount:monitoring:prometheus"


def _runner(srv: Any, kubectl_bin: str, tmp: Path) -> Any:
    kc = srv.write_kubeconfig(tmp / "kubeconfig")
    env = dict(os.environ, KUBECONFIG=str(kc), HOME=str(tmp))

    def run(*args: str, check: bool = True, stdin: str | None = None) -> Any:
        p = subprocess.run(
            [kubectl_bin, "--cache-dir", str(tmp / "cache"), *args],
            capture_output=True,
            text=True,
            timeout=60,
            env=env,
            input=stdin,
        )
        if check:
            assert p.returncode == 0, f"kubectl {' '.join(args)}: {p.stderr}"
        return p

    return run


@pytest.fixture(scope="module")
def run(kubectl_bin: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    """kubectl against one fresh demo for this module (its last test changes it)."""
    from opsconsole.sandbox import SandboxServer

    srv = SandboxServer(scenario="demo", speed=20).start()
    try:
        yield _runner(srv, kubectl_bin, tmp_path_factory.mktemp("demo-kinds"))
    finally:
        srv.stop()


def _json(run: Any, *args: str) -> Any:
    return json.loads(run(*args, "-o", "json").stdout)


def _reasons(run: Any, ns: str, kind: str, name: str) -> dict[str, str]:
    evs = _json(
        run, "get", "events", "-n", ns,
        f"--field-selector=involvedObject.kind={kind},involvedObject.name={name}",
    )["items"]  # fmt: skip
    return {e["reason"]: e["message"] for e in evs}


def test_a_claim_that_cannot_bind_keeps_its_pod_pending(run: Any) -> None:
    pvc = _json(run, "get", "pvc", "-n", "ml", "model-cache")
    assert pvc["status"]["phase"] == "Pending" and pvc["spec"]["storageClassName"] == "fast-ssd"
    assert _reasons(run, "ml", "PersistentVolumeClaim", "model-cache") == {
        "ProvisioningFailed": 'storageclass.storage.k8s.io "fast-ssd" not found'
    }
    classes = run("get", "storageclass").stdout
    assert "standard (default)" in classes and "fast-ssd" not in classes
    pod = _json(run, "get", "pods", "-n", "ml", "-l", "app=model-warmer")["items"][0]
    assert pod["status"]["phase"] == "Pending" and not pod["spec"].get("nodeName")
    assert _reasons(run, "ml", "Pod", pod["metadata"]["name"])["FailedScheduling"] == (
        "0/5 nodes are available: pod has unbound immediate PersistentVolumeClaims. preemption: "
        "0/5 nodes are available: 5 Preemption is not helpful for scheduling."
    )


def test_a_job_that_keeps_failing(run: Any) -> None:
    job = _json(run, "get", "job", "-n", "payments", "db-migrate")
    conds = {c["type"]: c for c in job["status"]["conditions"]}
    assert conds["Failed"]["reason"] == "BackoffLimitExceeded" and job["status"]["failed"] == 3
    assert "active" not in job["status"]
    pods = _json(run, "get", "pods", "-n", "payments", "-l", "job-name=db-migrate")["items"]
    assert len(pods) == 3
    for p in pods:
        term = p["status"]["containerStatuses"][0]["state"]["terminated"]
        assert p["status"]["phase"] == "Failed" and (term["reason"], term["exitCode"]) == (
            "Error",
            1,
        )
    events = _json(run, "get", "events", "-n", "payments",
                   "--field-selector=involvedObject.name=db-migrate")["items"]  # fmt: skip
    created = [e for e in events if e["reason"] == "SuccessfulCreate"]
    assert len(created) == 3 and any(e["reason"] == "BackoffLimitExceeded" for e in events)
    env = job["spec"]["template"]["spec"]["containers"][0]["env"]
    host = next(e["value"] for e in env if e["name"] == "DB_HOST")
    logs = run("logs", "-n", "payments", pods[0]["metadata"]["name"]).stdout
    assert f'could not translate host name "{host}"' in logs and "exit status 1" in logs
    assert run("get", "svc", "-n", host.split(".")[1], "postgres", check=False).returncode != 0
    # the live controller leaves a finished Job alone
    assert (
        len(_json(run, "get", "pods", "-n", "payments", "-l", "job-name=db-migrate")["items"]) == 3
    )


def test_an_hpa_pinned_at_its_maximum(run: Any) -> None:
    row = run("get", "hpa", "-n", "shop", "catalog", "--no-headers").stdout.split()
    assert row[:7] == ["catalog", "Deployment/catalog", "cpu:", "94%/60%", "1", "2", "2"]
    hpa = _json(run, "get", "hpa", "-n", "shop", "catalog")
    conds = {c["type"]: (c["status"], c["reason"]) for c in hpa["status"]["conditions"]}
    assert conds["ScalingLimited"] == ("True", "TooManyReplicas")
    assert hpa["status"]["currentReplicas"] == hpa["spec"]["maxReplicas"] == 2
    top = run("top", "pods", "-n", "shop", "-l", "app=catalog", "--no-headers").stdout
    assert [line.split()[1] for line in top.splitlines()] == ["141m", "141m"]  # of 150m


def test_a_networkpolicy_in_a_services_way(run: Any) -> None:
    pol = _json(run, "get", "networkpolicy", "-n", "payments", "postgres-ingress")
    assert pol["spec"]["podSelector"] == {"matchLabels": {"app": "postgres"}}
    assert pol["spec"]["ingress"][0]["from"] == [{"podSelector": {"matchLabels": {"tier": "api"}}}]
    ip = _json(run, "get", "svc", "-n", "payments", "postgres")["spec"]["clusterIP"]
    logs = run("logs", "-n", "shop", "deploy/orders-worker", "--tail=20").stdout
    assert f"dial tcp {ip}:5432: i/o timeout" in logs
    allowed = run("get", "pods", "-n", "payments", "-l", "tier=api", "-o", "name").stdout
    assert "payment-api" in allowed and "ledger-" in allowed  # the API pods may connect


def test_a_cronjob_that_never_ran(run: Any) -> None:
    row = run("get", "cronjob", "-n", "payments", "ledger-backup", "--no-headers").stdout.split()
    assert row[:7] == ["ledger-backup", "0", "2", "*", "*", "*", "<none>"]
    assert row[7:10] == ["True", "0", "<none>"]  # suspended, no active Job, never scheduled
    assert "ledger-backup" not in run("get", "jobs", "-n", "payments").stdout
    assert _reasons(run, "payments", "CronJob", "ledger-backup") == {}


def test_a_binding_to_a_missing_role_then_every_fix(run: Any) -> None:
    why = 'RBAC: clusterrole.rbac.authorization.k8s.io "prometheus-server" not found'
    denied = run("get", "pods", "-A", f"--as={PROM}", check=False)
    server_says = denied.stderr.strip().removeprefix("Error from server (Forbidden): ")
    assert server_says.endswith(why)
    logs = run("logs", "-n", "monitoring", "prometheus-0", "--tail=50").stdout
    assert server_says.replace('"', '\\"') in logs
    can = ("auth", "can-i", "list", "pods", f"--as={PROM}")
    assert run(*can, check=False).stdout.strip() == f"no - {why}"
    run("delete", "clusterrolebinding", "prometheus")
    run("create", "clusterrolebinding", "prometheus", "--clusterrole=prometheus",
        "--serviceaccount=monitoring:prometheus")  # fmt: skip
    assert run(*can).stdout.strip() == "yes"
    # the claim: create the class it names; it binds and the waiting pod is scheduled and runs
    sc = "apiVersion: storage.k8s.io/v1\nkind: StorageClass\nmetadata: {name: fast-ssd}\n"
    run("apply", "-f", "-", stdin=sc + "provisioner: rancher.io/local-path\n")
    run("wait", "-n", "ml", "--for=jsonpath={.status.phase}=Bound", "pvc/model-cache",
        "--timeout=60s")  # fmt: skip
    run("wait", "-n", "ml", "--for=condition=Ready", "pod", "-l", "app=model-warmer",
        "--timeout=60s")  # fmt: skip
    # the CronJob: resumed, its next run comes at its schedule
    run("patch", "cronjob", "-n", "payments", "ledger-backup", "-p", '{"spec":{"suspend":false}}')
    assert (
        _json(run, "get", "cronjob", "-n", "payments", "ledger-backup")["spec"]["suspend"] is False
    )
