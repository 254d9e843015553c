"""Analyzers over hand-made objects: each finding names its reason and evidence."""

from __future__ import annotations

from opsconsole.k8s.analyzers import (
    analyze_deployments,
    analyze_nodes,
    analyze_pod,
    analyze_security,
    analyze_services,
)
from opsconsole.k8s.models import UsageRow
from opsconsole.k8s.parse import parse_deployment, parse_event, parse_pod
from tests.k8s.pod_fixtures import event, node, pod, running, waiting


def reasons(findings) -> list[str]:
    return [f.reason for f in findings]


def test_crashloop_with_exit_code_and_log_lines():
    p = parse_pod(
        pod(
            statuses=[
                waiting(reason="CrashLoopBackOff", restarts=6, last_exit=1, last_reason="Error")
            ]
        ),
        keep_raw=True,
    )
    evs = [parse_event(event(p.name, "BackOff", "Back-off restarting failed container app"))]
    f = analyze_pod(p, evs, log_tail={"app": ["KeyError: 'DATABASE_URL'"]})
    assert reasons(f) == ["CrashLoopBackOff"]
    text = " ".join(f[0].evidence)
    assert "last exit code 1" in text and "restarts=6" in text
    assert "KeyError: 'DATABASE_URL'" in text and "Back-off restarting" in text


def test_oomkilled_limit_vs_usage():
    raw = pod(
        containers=[{"name": "app", "image": "x:1", "resources": {"limits": {"memory": "256Mi"}}}],
        statuses=[
            waiting(reason="CrashLoopBackOff", restarts=3, last_exit=137, last_reason="OOMKilled")
        ],
    )
    p = parse_pod(raw, keep_raw=True)
    f = analyze_pod(p, usage=UsageRow("x", "shop", 100, 250 * 2**20))
    assert reasons(f) == ["OOMKilled"]
    ev = " ".join(f[0].evidence)
    assert "memory limit 256Mi" in ev and "250Mi" in ev and "98% of the limit" in ev


def test_image_pull_backoff_names_image_and_event():
    raw = pod(
        phase="Pending",
        statuses=[waiting(reason="ImagePullBackOff", message='Back-off pulling image "x:bad"')],
    )
    p = parse_pod(raw, keep_raw=True)
    evs = [parse_event(event(p.name, "Failed", 'Failed to pull image "shop/api:1.4.2": not found'))]
    f = analyze_pod(p, evs)
    assert reasons(f) == ["ImagePullBackOff"]
    assert "image shop/api:1.4.2" in f[0].evidence[0]
    assert any("Failed to pull image" in e for e in f[0].evidence)


def test_pending_failed_scheduling_and_gpu():
    p = parse_pod(pod(phase="Pending", node=""), keep_raw=True)
    msg = "0/5 nodes are available: 3 Insufficient cpu, 2 node(s) had untolerated taint."
    f = analyze_pod(p, [parse_event(event(p.name, "FailedScheduling", msg))])
    assert reasons(f) == ["FailedScheduling"] and msg in f[0].evidence[0]
    gpu = pod(
        phase="Pending",
        node="",
        containers=[
            {"name": "train", "image": "t:1", "resources": {"limits": {"nvidia.com/gpu": "2"}}}
        ],
    )
    g = analyze_pod(parse_pod(gpu, keep_raw=True), [])
    assert reasons(g) == ["GPUUnschedulable"] and "nvidia.com/gpu=2" in g[0].evidence[0]


def test_readiness_probe_failing():
    raw = pod(
        statuses=[running(ready=False)],
        containers=[
            {
                "name": "app",
                "image": "x:1",
                "readinessProbe": {"httpGet": {"path": "/ready", "port": 8080}},
            }
        ],
    )
    p = parse_pod(raw, keep_raw=True)
    evs = [
        parse_event(
            event(
                p.name,
                "Unhealthy",
                "Readiness probe failed: HTTP probe failed with statuscode: 503",
                count=40,
            )
        )
    ]
    f = analyze_pod(p, evs)
    assert reasons(f) == ["ReadinessProbeFailed"]
    assert any("statuscode: 503" in e for e in f[0].evidence)
    assert any("/ready" in e for e in f[0].evidence)


def test_healthy_pod_has_no_findings():
    p = parse_pod(pod(statuses=[running()], conditions=[{"type": "Ready", "status": "True"}]))
    assert analyze_pod(p) == []


def test_deployment_nodes_services():
    dep = parse_deployment(
        {
            "metadata": {"name": "api", "namespace": "shop"},
            "spec": {"replicas": 3, "selector": {"matchLabels": {"app": "api"}}},
            "status": {
                "readyReplicas": 1,
                "availableReplicas": 1,
                "unavailableReplicas": 2,
                "conditions": [
                    {"type": "Available", "status": "False", "reason": "MinimumReplicasUnavailable"}
                ],
            },
        }
    )
    f = analyze_deployments([dep])
    assert reasons(f) == ["DeploymentUnavailable"] and "unavailable 2" in f[0].evidence[0]
    n = analyze_nodes(
        [node("n1", ready="False"), node("n2", pressure={"DiskPressure": "True"}), node("n3")]
    )
    assert sorted((x.reason, x.name) for x in n) == [("DiskPressure", "n2"), ("NodeNotReady", "n1")]
    svc = {
        "metadata": {"name": "search", "namespace": "shop"},
        "spec": {"selector": {"app": "search-v2"}, "type": "ClusterIP"},
    }
    ep = {"metadata": {"name": "search", "namespace": "shop"}, "subsets": []}
    pods = [parse_pod(pod(labels={"app": "search"}, statuses=[running()]))]
    s = analyze_services([svc], [ep], pods)
    assert reasons(s) == ["ServiceNoEndpoints"]
    assert "selector app=search-v2 matches no pod" in s[0].evidence[0]


def test_security_findings_never_show_env_values():
    raw = pod(
        containers=[
            {
                "name": "app",
                "image": "nginx:latest",
                "securityContext": {"privileged": True, "runAsUser": 0},
                "env": [
                    {"name": "DB_PASSWORD", "value": "hunter2"},
                    {"name": "MODE", "value": "x"},
                ],
            }
        ],
        spec_extra={"volumes": [{"name": "host", "hostPath": {"path": "/var/run"}}]},
    )
    f = analyze_security([parse_pod(raw, keep_raw=True)])
    assert set(reasons(f)) == {
        "PrivilegedContainer",
        "RunAsRoot",
        "LatestImageTag",
        "NoResourceLimits",
        "SecretInEnv",
        "HostPathVolume",
    }
    secret = next(x for x in f if x.reason == "SecretInEnv")
    assert "DB_PASSWORD" in secret.evidence[0]
    assert all("hunter2" not in e for x in f for e in x.evidence)
