"""metrics.k8s.io/v1beta1 PodMetrics and NodeMetrics, computed on request from requests/limits,
each pod's behaviour and a slow deterministic wobble (no stored state)."""

from __future__ import annotations

import json
import math
import re
from typing import TYPE_CHECKING

from .pods import hname
from .store import Obj, iso

if TYPE_CHECKING:
    from .cluster import Cluster

_Q = re.compile(r"^([0-9.]+)([a-zA-Z]*)$")
_MEM = {
    "": 1,
    "k": 1e3,
    "M": 1e6,
    "G": 1e9,
    "T": 1e12,
    "Ki": 1024,
    "Mi": 1024**2,
    "Gi": 1024**3,
    "Ti": 1024**4,
}


def cpu_millis(q: str | int | float | None) -> float:
    if q is None:
        return 0.0
    m = _Q.match(str(q))
    if not m:
        return 0.0
    v, unit = float(m.group(1)), m.group(2)
    return {"": v * 1000, "m": v, "u": v / 1000, "n": v / 1e6}.get(unit, v * 1000)


def mem_bytes(q: str | int | float | None) -> float:
    if q is None:
        return 0.0
    m = _Q.match(str(q))
    if not m:
        return 0.0
    return float(m.group(1)) * _MEM.get(m.group(2), 1)


def _frac(seed: str, lo: float, hi: float, t: float) -> float:
    base = int(hname(seed, 4).encode().hex(), 16) % 1000 / 1000
    wobble = 0.08 * math.sin(t / 97 + base * 6.28)
    return lo + (hi - lo) * min(max(base + wobble, 0.0), 1.0)


def container_usage(cl: Cluster, pod: Obj, c: Obj, t: float) -> tuple[float, float]:
    """(millicores, bytes) a running container uses now."""
    key = pod["metadata"]["uid"] + c["name"]
    res = c.get("resources") or {}
    req, lim = res.get("requests") or {}, res.get("limits") or {}
    cpu_ref = cpu_millis(req.get("cpu") or lim.get("cpu") or "50m")
    mem_ref = mem_bytes(req.get("memory") or lim.get("memory") or "64Mi")
    cpu = cpu_ref * _frac(key + "c", 0.05, 0.9, t) + 1
    mem = mem_ref * _frac(key + "m", 0.35, 0.95, t)
    rt = cl.pod_rt(pod["metadata"]["namespace"], pod["metadata"]["name"])
    if rt is not None and c["name"] == rt.fault_container:
        if rt.behaviour == "oomkilled" and lim.get("memory"):
            mem = mem_bytes(lim["memory"]) * 0.97
            cpu = cpu_ref * 0.9
        usage = rt.params.get("usage") or {}
        if usage.get("cpu"):
            cpu = cpu_millis(usage["cpu"])
        if usage.get("memory"):
            mem = mem_bytes(usage["memory"])
    return cpu, mem


def _running(cl: Cluster, pod: Obj) -> list[str]:
    out = []
    for s in pod.get("status", {}).get("containerStatuses", []):
        if "running" in s.get("state", {}):
            out.append(s["name"])
    return out


def pod_metrics(cl: Cluster, pod: Obj) -> Obj | None:
    running = _running(cl, pod)
    if not running:
        return None
    t = cl.now()
    md = pod["metadata"]
    containers = []
    for c in pod["spec"]["containers"]:
        if c["name"] not in running:
            continue
        cpu, mem = container_usage(cl, pod, c, t)
        containers.append(
            {
                "name": c["name"],
                "usage": {"cpu": f"{int(cpu * 1e6)}n", "memory": f"{int(mem / 1024)}Ki"},
            }
        )
    return {
        "kind": "PodMetrics",
        "apiVersion": "metrics.k8s.io/v1beta1",
        "metadata": {
            "name": md["name"],
            "namespace": md["namespace"],
            "creationTimestamp": iso(t),
            "labels": dict(md.get("labels") or {}),
        },
        "timestamp": iso(t - 7),
        "window": "15.01s",
        "containers": containers,
    }


def node_metrics(cl: Cluster, node: Obj, pods_by_node: dict[str, list[Obj]]) -> Obj:
    t = cl.now()
    name = node["metadata"]["name"]
    cap = node["status"]["capacity"]
    cpu = 180.0
    mem = 900 * 1024**2
    for pod in pods_by_node.get(name, []):
        running = _running(cl, pod)
        for c in pod["spec"]["containers"]:
            if c["name"] in running:
                cu, mu = container_usage(cl, pod, c, t)
                cpu += cu
                mem += mu
    usage = json.loads(
        (node["metadata"].get("annotations") or {}).get("opsconsole.dev/usage", "{}")
    )
    if "cpu" in usage:
        cpu = cpu_millis(cap["cpu"]) * float(usage["cpu"])
    if "memory" in usage:
        mem = mem_bytes(cap["memory"]) * float(usage["memory"])
    return {
        "kind": "NodeMetrics",
        "apiVersion": "metrics.k8s.io/v1beta1",
        "metadata": {
            "name": name,
            "creationTimestamp": iso(t),
            "labels": dict(node["metadata"].get("labels") or {}),
        },
        "timestamp": iso(t - 9),
        "window": "20.05s",
        "usage": {"cpu": f"{int(cpu * 1e6)}n", "memory": f"{int(mem / 1024)}Ki"},
    }
