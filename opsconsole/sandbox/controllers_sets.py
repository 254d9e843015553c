"""StatefulSet and DaemonSet controllers, and Endpoints kept in step with ready pods."""

from __future__ import annotations

from typing import TYPE_CHECKING

from .pods import hname
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


def _template_hash(template: Obj) -> str:
    from .controllers import template_hash

    return template_hash(template)


class SetsMixin:
    def reconcile_sts(self: Cluster, ns: str, name: str) -> None:
        sts = self.store.get("apps/statefulsets", ns, name)
        if sts is None:
            return
        want = int(sts["spec"].get("replicas", 1))
        pods = {p["metadata"]["name"]: p for p in self.pods_of(sts)}
        for i in range(want):
            pname = f"{name}-{i}"
            if pname not in pods and self.store.get("pods", ns, pname) is None:
                self.spawn_pod(
                    sts,
                    "apps/statefulsets",
                    pname,
                    extra_labels={
                        "statefulset.kubernetes.io/pod-name": pname,
                        "apps.kubernetes.io/pod-index": str(i),
                    },
                )
                self.event(
                    sts,
                    "Normal",
                    "SuccessfulCreate",
                    f"create Pod {pname} in StatefulSet {name} successful",
                    component="statefulset-controller",
                )
        for pname, p in pods.items():
            idx = pname.rsplit("-", 1)[-1]
            if idx.isdigit() and int(idx) >= want and "deletionTimestamp" not in p["metadata"]:
                self.delete_pod(ns, pname, None)
        active = [p for p in self.pods_of(sts) if "deletionTimestamp" not in p["metadata"]]
        ready = sum(1 for p in active if pod_ready(p))
        rev = f"{name}-{_template_hash(sts['spec']['template'])}"
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

        self.store.set_field("apps/statefulsets", ns, name, "status", status)

    def reconcile_ds(self: Cluster, ns: str, name: str) -> None:
        ds = self.store.get("apps/daemonsets", ns, name)
        if ds is None:
            return
        spec = ds["spec"]["template"].get("spec") or {}
        nodes = [n["metadata"]["name"] for n in self.eligible_nodes(spec, ignore_conditions=True)]
        pods = self.pods_of(ds)
        active = [p for p in pods if "deletionTimestamp" not in p["metadata"]]
        have = {p["spec"].get("nodeName") for p in active}
        for node in nodes:
            if node not in have:
                gen = name + "-"
                pname = gen + hname(f"{ds['metadata']['uid']}/{next(self._names)}", 5)
                self.spawn_pod(ds, "apps/daemonsets", pname, node_name=node, generate_name=gen)
                self.event(
                    ds,
                    "Normal",
                    "SuccessfulCreate",
                    f"Created pod: {pname}",
                    component="daemonset-controller",
                )
        active = [p for p in self.pods_of(ds) if "deletionTimestamp" not in p["metadata"]]
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

        self.store.set_field("apps/daemonsets", ns, name, "status", status)

    def endpoints_for(self: Cluster, ns: str) -> None:
        pods = [p for p in self.store.list("pods", ns) if p["status"].get("podIP")]
        for svc in self.store.list("services", ns):
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
            current = self.store.get("endpoints", ns, ep_name)
            if current is not None and current.get("subsets", []) != subsets:
                self.store.set_field("endpoints", ns, ep_name, "subsets", subsets or None)
