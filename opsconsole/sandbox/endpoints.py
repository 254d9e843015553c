"""The endpoints controller: each selector Service's Endpoints kept in step with its pods."""

from __future__ import annotations

from typing import TYPE_CHECKING

from .store import Obj

if TYPE_CHECKING:
    from .cluster import Cluster


def pod_ready(pod: Obj) -> bool:
    if "deletionTimestamp" in pod["metadata"]:
        return False
    for c in pod.get("status", {}).get("conditions", []):
        if c["type"] == "Ready":
            return c["status"] == "True"
    return False


def target_port(sp: Obj) -> int:
    tp = sp.get("targetPort", sp.get("port"))
    return tp if isinstance(tp, int) else int(sp.get("port", 80))


class Endpoints:
    def __init__(self, cluster: Cluster) -> None:
        self.c = cluster

    def sync(self, ns: str) -> None:
        pods = [p for p in self.c.store.list("pods", ns) if p["status"].get("podIP")]
        for svc in self.c.store.list("services", ns):
            sel = svc["spec"].get("selector")
            if not sel:
                continue
            ready, not_ready = [], []
            for p in pods:
                labels = p["metadata"].get("labels") or {}
                if any(labels.get(k) != v for k, v in sel.items()):
                    continue
                addr = {
                    "ip": p["status"]["podIP"],
                    "nodeName": p["spec"].get("nodeName", ""),
                    "targetRef": {
                        "kind": "Pod",
                        "namespace": ns,
                        "name": p["metadata"]["name"],
                        "uid": p["metadata"]["uid"],
                    },
                }
                (ready if pod_ready(p) else not_ready).append(addr)
            subsets: list[Obj] = []
            if ready or not_ready:
                ports = [
                    {
                        k: v
                        for k, v in (
                            ("name", sp.get("name")),
                            ("port", target_port(sp)),
                            ("protocol", sp.get("protocol", "TCP")),
                        )
                        if v is not None
                    }
                    for sp in svc["spec"].get("ports", [])
                ]
                sub: Obj = {}
                if ready:
                    sub["addresses"] = ready
                if not_ready:
                    sub["notReadyAddresses"] = not_ready
                sub["ports"] = ports
                subsets = [sub]

            ep_name = svc["metadata"]["name"]
            current = self.c.store.get("endpoints", ns, ep_name)
            if current is not None and current.get("subsets", []) != subsets:
                self.c.store.set_field("endpoints", ns, ep_name, "subsets", subsets or None)
