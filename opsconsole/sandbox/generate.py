"""The generated large cluster behind ``pods=N``: deterministic (seeded) scenario data.

All N pods live in namespace ``scale`` (or ``scale-00`` .. when ``namespaces`` > 1), in
Deployments of 10 replicas spread over ``ceil(N / 50)`` nodes; every 25th Deployment carries a
fault (crashloop, imagepull, unready, oomkilled, pending in turn). Nothing else adds pods, so
the cluster has exactly N pods.
"""

from __future__ import annotations

import math
import random
from typing import Any

MAX_PODS = 10_000
FAULTS = ("crashloop", "imagepull", "unready", "oomkilled", "pending")
TEAMS = ("api", "web", "worker", "cache", "search", "billing", "auth", "media", "feed", "sync")


def generated_scenario(pods: int, *, namespaces: int = 1, seed: int = 7) -> dict[str, Any]:
    if not 0 <= pods <= MAX_PODS:
        raise ValueError(f"pods must be between 0 and {MAX_PODS}, got {pods}")
    rng = random.Random(seed)
    n_nodes = max(3, math.ceil(pods / 50))
    nodes = [
        {"name": f"node-{i:04d}", "cpu": "16", "memory": "64Gi", "age": "40d"}
        for i in range(n_nodes)
    ]
    ns_names = ["scale"] if namespaces <= 1 else [f"scale-{i:02d}" for i in range(namespaces)]
    workloads: list[dict[str, Any]] = []
    remaining, i = pods, 0
    while remaining > 0:
        replicas = min(10, remaining)
        remaining -= replicas
        team = TEAMS[i % len(TEAMS)]
        name = f"{team}-{i:04d}"
        w: dict[str, Any] = {
            "kind": "Deployment",
            "namespace": ns_names[i % len(ns_names)],
            "name": name,
            "replicas": replicas,
            "labels": {"app": name, "team": team, "tier": "backend" if i % 3 else "frontend"},
            "age": f"{rng.randint(1, 90)}d",
            "containers": [
                {
                    "name": "app",
                    "image": f"registry.example.com/{team}/{name}:1.{rng.randint(0, 40)}.{i % 10}",
                    "ports": [{"containerPort": 8080, "protocol": "TCP"}],
                    "resources": {
                        "requests": {"cpu": "50m", "memory": "64Mi"},
                        "limits": {"cpu": "500m", "memory": "256Mi"},
                    },
                    "logs": "app",
                }
            ],
        }
        if i % 25 == 24:
            kind = FAULTS[(i // 25) % len(FAULTS)]
            fault: dict[str, Any] = {"type": kind, "since": "2h", "restarts": 5}
            if kind == "pending":
                fault["message"] = (
                    f"0/{n_nodes} nodes are available: {n_nodes} Insufficient "
                    f"cpu. preemption: 0/{n_nodes} nodes are available: "
                    f"{n_nodes} No preemption victims found for incoming pod."
                )
                w["containers"][0]["resources"]["requests"]["cpu"] = "32"
            w["fault"] = fault
        workloads.append(w)
        i += 1
    return {
        "name": "generated",
        "age": "60d",
        "nodes": nodes,
        "namespaces": ns_names,
        "workloads": workloads,
        "logs": {
            "app": {
                "start": ["{ts} INFO starting {pod} version=1.0", "{ts} INFO listening on :8080"],
                "every": 5,
                "lines": [
                    '{ts} INFO {ip} "GET /api/v1/items/{n}" 200 {ms}ms',
                    '{ts} INFO {ip} "POST /api/v1/items" 201 {ms}ms',
                    "{ts} DEBUG cache hit ratio {pct}%",
                ],
                "crash": ["{ts} ERROR fatal: configuration invalid", "panic: exit"],
            }
        },
    }
