"""Small hand-made Kubernetes JSON objects in the standard API shapes."""

from __future__ import annotations

from typing import Any


def pod(
    name: str = "api-7d9f8-abcde",
    namespace: str = "shop",
    *,
    phase: str = "Running",
    containers: list[dict[str, Any]] | None = None,
    statuses: list[dict[str, Any]] | None = None,
    init_containers: list[dict[str, Any]] | None = None,
    init_statuses: list[dict[str, Any]] | None = None,
    conditions: list[dict[str, Any]] | None = None,
    node: str = "node-1",
    labels: dict[str, str] | None = None,
    deleting: bool = False,
    reason: str | None = None,
    spec_extra: dict[str, Any] | None = None,
) -> dict[str, Any]:
    containers = containers or [{"name": "app", "image": "shop/api:1.4.2"}]
    meta: dict[str, Any] = {
        "name": name,
        "namespace": namespace,
        "uid": f"uid-{name}",
        "resourceVersion": "100",
        "creationTimestamp": "2026-11-25T10:00:00Z",
        "labels": labels or {"app": "api"},
        "ownerReferences": [{"kind": "ReplicaSet", "name": "api-7d9f8", "controller": True}],
    }
    if deleting:
        meta["deletionTimestamp"] = "2026-11-25T11:00:00Z"
    status: dict[str, Any] = {"phase": phase, "podIP": "10.0.0.5"}
    if statuses is not None:
        status["containerStatuses"] = statuses
    if init_statuses is not None:
        status["initContainerStatuses"] = init_statuses
    if conditions is not None:
        status["conditions"] = conditions
    if reason:
        status["reason"] = reason
    spec: dict[str, Any] = {"containers": containers, "nodeName": node}
    if init_containers:
        spec["initContainers"] = init_containers
    spec.update(spec_extra or {})
    return {"kind": "Pod", "apiVersion": "v1", "metadata": meta, "spec": spec, "status": status}


def running(
    name: str = "app",
    ready: bool = True,
    restarts: int = 0,
    last_reason: str = "",
    last_exit: int | None = None,
) -> dict:
    cs: dict[str, Any] = {
        "name": name,
        "image": "shop/api:1.4.2",
        "ready": ready,
        "restartCount": restarts,
        "state": {"running": {"startedAt": "2026-11-25T10:01:00Z"}},
    }
    if last_reason or last_exit is not None:
        cs["lastState"] = {"terminated": {"reason": last_reason, "exitCode": last_exit}}
    return cs


def waiting(
    name: str = "app",
    reason: str = "ContainerCreating",
    message: str = "",
    restarts: int = 0,
    last_reason: str = "",
    last_exit: int | None = None,
) -> dict:
    cs: dict[str, Any] = {
        "name": name,
        "image": "shop/api:1.4.2",
        "ready": False,
        "restartCount": restarts,
        "state": {"waiting": {"reason": reason, "message": message}},
    }
    if last_reason or last_exit is not None:
        cs["lastState"] = {"terminated": {"reason": last_reason, "exitCode": last_exit}}
    return cs


def terminated(
    name: str = "app", reason: str = "Completed", exit_code: int = 0, restarts: int = 0
) -> dict:
    return {
        "name": name,
        "image": "shop/api:1.4.2",
        "ready": False,
        "restartCount": restarts,
        "state": {"terminated": {"reason": reason, "exitCode": exit_code}},
    }


def event(
    obj: str,
    reason: str,
    message: str,
    *,
    namespace: str = "shop",
    type_: str = "Warning",
    count: int = 1,
    kind: str = "Pod",
) -> dict:
    return {
        "metadata": {"name": f"{obj}.1", "namespace": namespace},
        "involvedObject": {"kind": kind, "name": obj, "namespace": namespace},
        "reason": reason,
        "message": message,
        "type": type_,
        "count": count,
        "firstTimestamp": "2026-11-25T10:00:00Z",
        "lastTimestamp": "2026-11-25T10:05:00Z",
        "source": {"component": "kubelet"},
    }


def node(
    name: str,
    *,
    ready: str = "True",
    pressure: dict[str, str] | None = None,
    gpu: str | None = None,
    taints: list[dict] | None = None,
) -> dict:
    conds = [
        {
            "type": "Ready",
            "status": ready,
            "reason": "KubeletReady" if ready == "True" else "KubeletNotReady",
            "message": "kubelet is posting ready status"
            if ready == "True"
            else "PLEG is not healthy",
        }
    ]
    for t, s in (pressure or {}).items():
        conds.append({"type": t, "status": s, "reason": f"Kubelet{t}", "message": f"{t} high"})
    cap = {"cpu": "8", "memory": "32Gi", "pods": "110"}
    if gpu:
        cap["nvidia.com/gpu"] = gpu
    return {
        "metadata": {
            "name": name,
            "labels": {"node-role.kubernetes.io/worker": ""},
            "creationTimestamp": "2026-11-01T00:00:00Z",
        },
        "spec": {"taints": taints or []},
        "status": {
            "conditions": conds,
            "capacity": cap,
            "allocatable": cap,
            "nodeInfo": {"kubeletVersion": "v1.30.2"},
        },
    }
