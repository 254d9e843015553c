"""StatefulSet and DaemonSet controllers."""

from __future__ import annotations

from typing import TYPE_CHECKING

from .controllers import template_hash
from .endpoints import pod_ready
from .pods import hname
from .store import Obj

if TYPE_CHECKING:
    from .cluster import Cluster


class StatefulSets:
    def __init__(self, cluster: Cluster) -> None:
        self.c = cluster

    def reconcile(self, ns: str, name: str) -> None:
        sts = self.c.store.get("apps/statefulsets", ns, name)
        if sts is None:
            return
        want = int(sts["spec"].get("replicas", 1))
        pods = {p["metadata"]["name"]: p for p in self.c.controllers.pods_of(sts)}
        for i in range(want):
            pname = f"{name}-{i}"
            if pname not in pods and self.c.store.get("pods", ns, pname) is None:
                self.c.controllers.spawn_pod(
                    sts,
                    "apps/statefulsets",
                    pname,
                    extra_labels={
                        "statefulset.kubernetes.io/pod-name": pname,
                        "apps.kubernetes.io/pod-index": str(i),
                    },
                )
                self.c.event(
                    sts,
                    "Normal",
                    "SuccessfulCreate",
                    f"create Pod {pname} in StatefulSet {name} successful",
                    component="statefulset-controller",
                )
        for pname, p in pods.items():
            idx = pname.rsplit("-", 1)[-1]
            if idx.isdigit() and int(idx) >= want and "deletionTimestamp" not in p["metadata"]:
                self.c.delete_pod(ns, pname, None)
        active = [
            p for p in self.c.controllers.pods_of(sts) if "deletionTimestamp" not in p["metadata"]
        ]
        ready = sum(1 for p in active if pod_ready(p))
        rev = f"{name}-{template_hash(sts['spec']['template'])}"
        status: Obj = {
            "observedGeneration": sts["metadata"].get("generation", 1),
            "replicas": len(active),
            "currentReplicas": len(active),
            "updatedReplicas": len(active),
            "currentRevision": rev,
            "updateRevision": rev,
            "collisionCount": 0,
            "availableReplicas": ready,
        }
        if ready:
            status["readyReplicas"] = ready

        self.c.store.set_field("apps/statefulsets", ns, name, "status", status)


class DaemonSets:
    def __init__(self, cluster: Cluster) -> None:
        self.c = cluster

    def reconcile(self, ns: str, name: str) -> None:
        ds = self.c.store.get("apps/daemonsets", ns, name)
        if ds is None:
            return
        spec = ds["spec"]["template"].get("spec") or {}
        nodes = [
            n["metadata"]["name"]
            for n in self.c.scheduler.eligible_nodes(spec, ignore_conditions=True)
        ]
        pods = self.c.controllers.pods_of(ds)
        active = [p for p in pods if "deletionTimestamp" not in p["metadata"]]
        have = {p["spec"].get("nodeName") for p in active}
        for node in nodes:
            if node not in have:
                gen = name + "-"
                pname = gen + hname(f"{ds['metadata']['uid']}/{next(self.c.names)}", 5)
                self.c.controllers.spawn_pod(
                    ds, "apps/daemonsets", pname, node_name=node, generate_name=gen
                )
                self.c.event(
                    ds,
                    "Normal",
                    "SuccessfulCreate",
                    f"Created pod: {pname}",
                    component="daemonset-controller",
                )
        active = [
            p for p in self.c.controllers.pods_of(ds) if "deletionTimestamp" not in p["metadata"]
        ]
        ready = sum(1 for p in active if pod_ready(p))
        status: Obj = {
            "currentNumberScheduled": len(active),
            "numberMisscheduled": 0,
            "desiredNumberScheduled": len(nodes),
            "numberReady": ready,
            "observedGeneration": ds["metadata"].get("generation", 1),
            "updatedNumberScheduled": len(active),
            "numberAvailable": ready,
        }
        if len(nodes) - ready > 0:
            status["numberUnavailable"] = len(nodes) - ready

        self.c.store.set_field("apps/daemonsets", ns, name, "status", status)
