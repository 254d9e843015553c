"""Placing pods on nodes: node selectors and taints/tolerations against the nodes in the store."""

from __future__ import annotations

from typing import TYPE_CHECKING

from .store import Obj

if TYPE_CHECKING:
    from .cluster import Cluster


def tolerates(tolerations: list[Obj], taint: Obj) -> bool:
    for t in tolerations:
        if t.get("effect") and t["effect"] != taint.get("effect"):
            continue
        if t.get("operator") == "Exists" and (not t.get("key") or t["key"] == taint["key"]):
            return True
        if t.get("key") == taint["key"] and t.get("value", "") == taint.get("value", ""):
            return True
    return False


class Scheduler:
    def __init__(self, cluster: Cluster) -> None:
        self.c = cluster

    def eligible_nodes(self, spec: Obj, *, ignore_conditions: bool = False) -> list[Obj]:
        out = []
        selector = spec.get("nodeSelector") or {}
        tolerations = spec.get("tolerations") or []
        for node in self.c.store.list("nodes"):
            labels = node["metadata"].get("labels") or {}
            if any(labels.get(k) != v for k, v in selector.items()):
                continue
            if node["spec"].get("unschedulable"):
                continue
            taints = [t for t in node["spec"].get("taints") or [] if t["effect"] != "NoExecute"]
            if ignore_conditions:
                taints = [t for t in taints if not t["key"].startswith("node.kubernetes.io/")]
            if not all(tolerates(tolerations, t) for t in taints):
                continue
            out.append(node)
        return out

    def pick_node(self, spec: Obj) -> Obj | None:
        nodes = self.eligible_nodes(spec)
        if not nodes:
            return None
        load: dict[str, int] = {}
        for rt in self.c.rts.values():
            load[rt.node] = load.get(rt.node, 0) + 1
        return min(nodes, key=lambda n: (load.get(n["metadata"]["name"], 0), n["metadata"]["name"]))

    def no_node_message(self) -> str:
        n = len(self.c.store.list("nodes"))
        return (
            f"0/{n} nodes are available: {n} Insufficient cpu. preemption: 0/{n} nodes are "
            f"available: {n} No preemption victims found for incoming pod."
        )
