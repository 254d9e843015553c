"""The endpoints and EndpointSlice controllers: each selector Service's Endpoints and its
EndpointSlice (discovery.k8s.io/v1) kept in step with the pods its selector matches and their
readiness. A change of a Service's selector or ports, or of a pod's labels or status, recomputes
them (the controller manager marks the namespace)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from .pods import hname, huid
from .store import Obj, iso

SLICES = "discovery.k8s.io/endpointslices"
MANAGED_BY = "endpointslice-controller.k8s.io"

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
            matched = []
            for p in pods:
                labels = p["metadata"].get("labels") or {}
                if any(labels.get(k) != v for k, v in sel.items()):
                    continue
                if p["status"].get("phase") in ("Succeeded", "Failed"):
                    continue  # a finished pod serves nothing
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
                matched.append(p)
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
            self.slice(svc, matched)

    def slice(self, svc: Obj, pods: list[Obj]) -> None:
        """The Service's one EndpointSlice (``<service>-<hash>``), created or updated."""
        store = self.c.store
        md = svc["metadata"]
        ns, name = md["namespace"], md["name"]
        endpoints = []
        for p in pods:
            ready = pod_ready(p)
            terminating = "deletionTimestamp" in p["metadata"]
            endpoints.append(
                {
                    "addresses": [p["status"]["podIP"]],
                    "conditions": {
                        "ready": ready,
                        "serving": ready or terminating,
                        "terminating": terminating,
                    },
                    "nodeName": p["spec"].get("nodeName", ""),
                    "targetRef": {
                        "kind": "Pod",
                        "namespace": ns,
                        "name": p["metadata"]["name"],
                        "uid": p["metadata"]["uid"],
                    },
                }
            )
        ports = [
            {
                "name": sp.get("name", ""),
                "port": target_port(sp),
                "protocol": sp.get("protocol", "TCP"),
            }
            for sp in svc["spec"].get("ports", [])
        ]
        slice_name = f"{name}-{hname(md['uid'], 5)}"
        current = store.get(SLICES, ns, slice_name)
        if current is None:
            store.create(
                SLICES,
                {
                    "apiVersion": "discovery.k8s.io/v1",
                    "kind": "EndpointSlice",
                    "metadata": {
                        "name": slice_name,
                        "namespace": ns,
                        "generateName": f"{name}-",
                        "uid": huid(f"eps/{md['uid']}"),
                        "creationTimestamp": iso(self.c.now()),
                        "generation": 1,
                        "labels": {
                            "kubernetes.io/service-name": name,
                            "endpointslice.kubernetes.io/managed-by": MANAGED_BY,
                        },
                        "ownerReferences": [
                            {
                                "apiVersion": "v1",
                                "kind": "Service",
                                "name": name,
                                "uid": md["uid"],
                                "controller": True,
                                "blockOwnerDeletion": True,
                            }
                        ],
                    },
                    "addressType": "IPv4",
                    "endpoints": endpoints,
                    "ports": ports,
                },
            )
        elif current.get("endpoints") != endpoints or current.get("ports") != ports:

            def update(o: Obj) -> None:
                o["endpoints"], o["ports"] = endpoints, ports
                o["metadata"]["generation"] = int(o["metadata"].get("generation", 1)) + 1

            store.update(SLICES, ns, slice_name, update)

    def deleted(self, svc: Obj) -> None:
        """A Service went: its Endpoints and EndpointSlices go with it."""
        md = svc["metadata"]
        ns, name = md["namespace"], md["name"]
        self.c.store.delete("endpoints", ns, name)
        for s in self.c.store.list(SLICES, ns):
            if (s["metadata"].get("labels") or {}).get("kubernetes.io/service-name") == name:
                self.c.store.delete(SLICES, ns, s["metadata"]["name"])
