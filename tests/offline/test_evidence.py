"""Reading the tools' data: findings, log lines, describe lines, links.

The data comes from the Kubernetes layer's own code where it has one (the describe view of a
raw pod, the scans' renderer), so these tests check the planner against what the tools give.
"""

from __future__ import annotations

from opsconsole.agent.transcript import LOCAL
from opsconsole.k8s.analyzers import Finding as K8sFinding
from opsconsole.k8s.describe import describe_pod
from opsconsole.k8s.models import EventRow
from opsconsole.k8s.render import render_findings
from opsconsole.planner.causes import classify, finding_cause
from opsconsole.planner.evidence import (
    describe_evidence,
    env_source,
    missing_variable,
    selector_mismatch,
    service_hosts,
)
from opsconsole.planner.facts import (
    Finding,
    findings_in,
    known_names,
    log_body,
    match_pods,
)
from opsconsole.planner.intents import Known
from opsconsole.planner.observations import Observation, read_transcript

from .scripted import finding, findings, logs, pod, pods

LOGS = logs(
    ["starting api"],
    ["Traceback (most recent call last):", "KeyError: 'GATEWAY_URL'"],
    notes=[
        {"kind": "previous", "text": "previous instance (before the last restart: exit 1, Error):"}
    ],
)

#: a pod whose description reads like ``kubectl describe``: CrashLoopBackOff after an OOM
#: kill, a memory limit, a readiness probe, env from a ConfigMap and a Secret
RAW_POD = {
    "metadata": {
        "name": "api-1",
        "namespace": "payments",
        "labels": {"app": "api-server", "pod-template-hash": "abc"},
    },
    "spec": {
        "nodeName": "worker-2",
        "containers": [
            {
                "name": "api",
                "image": "registry/api:1.0",
                "resources": {"limits": {"cpu": "1", "memory": "128Mi"}},
                "readinessProbe": {"httpGet": {"path": "/ready", "port": 8080}},
                "env": [
                    {
                        "name": "GATEWAY_URL",
                        "valueFrom": {
                            "configMapKeyRef": {"name": "api-config", "key": "gateway_url"}
                        },
                    },
                    {
                        "name": "DB_PASSWORD",
                        "valueFrom": {"secretKeyRef": {"name": "db", "key": "password"}},
                    },
                ],
            }
        ],
    },
    "status": {
        "phase": "Running",
        "containerStatuses": [
            {
                "name": "api",
                "ready": False,
                "restartCount": 3,
                "state": {"waiting": {"reason": "CrashLoopBackOff"}},
                "lastState": {"terminated": {"reason": "OOMKilled", "exitCode": 137}},
            }
        ],
    },
}
EVENTS = [
    EventRow(
        "payments", "Normal", "Pulled", "pulled", "Pod", "api-1", 1, "", "2026-11-25T17:00:00Z"
    ),
    EventRow(
        "payments",
        "Warning",
        "BackOff",
        "Back-off restarting failed container",
        "Pod",
        "api-1",
        5,
        "",
        "2026-11-25T17:01:00Z",
    ),
]
_VIEW = describe_pod(RAW_POD, EVENTS)
DESCRIBE = Observation(
    "c0", "describe_pod", {"namespace": "payments", "pod_name": "api-1"}, data=_VIEW.data
)


def observed(name: str, args: dict, res) -> Observation:  # noqa: ANN001 - a ToolResult
    return Observation("c1", name, args, data=res.data or {})


def service(selector: dict[str, str]) -> Finding:
    from opsconsole.planner.facts import finding_of

    return finding_of(
        finding(
            "medium",
            "ServiceNoEndpoints",
            "service",
            "payments/api",
            [f"selector {','.join(f'{k}={v}' for k, v in selector.items())} matches no pod"],
            selector=selector,
        )
    )


def test_log_body_separates_previous_and_drops_the_wrapper() -> None:
    body = log_body(observed("get_pod_logs", {}, LOGS))
    assert (False, "starting api") in body
    assert (True, "KeyError: 'GATEWAY_URL'") in body
    assert not any("log data from the cluster" in ln for _, ln in body)
    plain = observed("get_pod_logs", {}, logs(["plain", "lines"]))
    assert log_body(plain) == [(False, "plain"), (False, "lines")]


def test_describe_evidence_puts_the_cause_lines_first() -> None:
    oom = describe_evidence(DESCRIBE, "oom")
    assert "Limits: cpu=1, memory=128Mi" in oom[:2]
    assert "Reason: OOMKilled" in oom and "Exit Code: 137" in oom
    assert not any(ln.startswith("Readiness:") for ln in oom)  # spec lines only when relevant
    ready = describe_evidence(DESCRIBE, "readiness")
    assert ready[0].startswith("Readiness:")
    assert any(ln.startswith("Warning BackOff") for ln in describe_evidence(DESCRIBE, None))


def test_missing_variable_links_to_its_configmap_key() -> None:
    assert missing_variable("KeyError: 'GATEWAY_URL'") == "GATEWAY_URL"
    assert missing_variable("error: environment variable DB_HOST is not set") == "DB_HOST"
    assert missing_variable("all good") is None
    assert "GATEWAY_URL (from configmap api-config, key gateway_url)" in _VIEW.text
    src = env_source(DESCRIBE, "GATEWAY_URL")
    assert src is not None and src[1:] == ("configmap", "api-config", "gateway_url")
    assert env_source(DESCRIBE, "NOPE") is None


def test_service_hosts_and_selector_mismatch() -> None:
    text = ["GET http://feature-store.ml.svc.cluster.local:6566/v1/health: connection refused"]
    assert service_hosts(text) == [("ml", "feature-store")]
    assert service_hosts(["no services here"]) == []
    got = selector_mismatch(service({"app": "api"}), DESCRIBE)
    assert got == ("app=api", "app=api-server")
    assert selector_mismatch(service({"app": "api-server"}), DESCRIBE) is None


def test_findings_of_every_kind() -> None:
    scanned = [
        K8sFinding(
            "high", "pod", "shop", "resizer-1", "OOMKilled", ["exit 137"], "raise the limit"
        ),
        K8sFinding("high", "deployment", "shop", "resizer", "DeploymentUnavailable", ["ready 0/1"]),
        K8sFinding(
            "medium",
            "service",
            "ml",
            "fs",
            "ServiceNoEndpoints",
            ["selector app=fs matches no pod in ml"],
            facts={"selector": {"app": "fs"}},
        ),
        K8sFinding("high", "pod", "default", "dbg", "PrivilegedContainer", ["x"]),
    ]
    _text, data = render_findings(scanned, "all namespaces", 10, 13, 2000)
    fs = findings_in(Observation("c1", "find_unhealthy_pods", {}, data=data))
    assert [(f.kind, f.ref, f.reason) for f in fs] == [
        ("pod", "shop/resizer-1", "OOMKilled"),
        ("deployment", "shop/resizer", "DeploymentUnavailable"),
        ("service", "ml/fs", "ServiceNoEndpoints"),
        ("pod", "default/dbg", "PrivilegedContainer"),
    ]
    assert fs[0].suggestion == "raise the limit" and fs[0].evidence == "exit 137"
    keys = [finding_cause(f).key if finding_cause(f) else None for f in fs]
    assert keys == ["oom", "unavailable", "endpoints", None]  # security is never a root cause


def test_classify_priorities() -> None:
    assert classify("Last State: Terminated, Reason: OOMKilled").key == "oom"
    assert classify("0/5 nodes are available: 2 Insufficient cpu").key == "unschedulable"
    assert classify("Insufficient nvidia.com/gpu").key == "gpu"
    assert classify("Back-off pulling image x: ErrImagePull").key == "image"
    assert classify("all fine") is None


def test_known_names_from_pod_lists_and_findings() -> None:
    listed = pods(
        "shop",
        pod("cart-7d9-abcde", "Running", "1/1", 0, "cart-7d9-abcde  Running  1/1"),
        pod("redis-0", "Running", "1/1", 0, "redis-0  Running  1/1"),
    )
    pods_obs = observed("get_k8s_pods", {"namespace": "shop"}, listed)
    scan = findings(
        finding("high", "CrashLoopBackOff", "pod", "payments/api-6f-x2k4q", ["x"]),
        finding("high", "MemoryPressure", "node", "worker-3", ["y"]),
    )
    unhealthy = observed("find_unhealthy_pods", {}, scan)
    known = known_names([pods_obs, unhealthy])
    assert {("shop", "cart-7d9-abcde"), ("shop", "redis-0"), ("payments", "api-6f-x2k4q")} <= (
        known.pods
    )
    assert "worker-3" in known.nodes and {"shop", "payments"} <= known.namespaces
    assert match_pods("cart", known) == [("shop", "cart-7d9-abcde")]
    assert match_pods("api", known, "payments") == [("payments", "api-6f-x2k4q")]
    assert match_pods("api", known, "shop") == []
    assert match_pods("redis-0", Known(pods=known.pods)) == [("shop", "redis-0")]


def test_read_transcript_splits_turns() -> None:
    call = {"id": "a", "type": "function", "function": {"name": "get_nodes", "arguments": "{}"}}
    messages = [
        {
            "role": "system",
            "content": "Current cluster context: x; default namespace: shop.",
            LOCAL: {"context": "x", "namespace": "shop"},
        },
        {"role": "user", "content": "节点状态"},
        {"role": "assistant", "content": "", "tool_calls": [call]},
        {
            "role": "tool",
            "tool_call_id": "a",
            "content": "nodes: 1",
            LOCAL: {"status": "ok", "data": {"summary": "nodes: 1"}},
        },
        {"role": "assistant", "content": "done"},
        {"role": "user", "content": [{"type": "text", "text": "哪些 Pod 不健康"}]},
    ]
    tr = read_transcript(messages)
    assert tr.task == "哪些 Pod 不健康"
    assert tr.current == [] and [o.data["summary"] for o in tr.earlier] == ["nodes: 1"]
    assert tr.steps == 0 and tr.total_calls == 1 and tr.default_namespace == "shop"
