"""StatefulSet and DaemonSet controllers."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

from .endpoints import pod_ready
from .meta import template_hash
from .pods import hname, huid
from .store import Obj, iso

if TYPE_CHECKING:
    from .cluster import Cluster


class StatefulSets:
    def __init__(self, cluster: Cluster) -> None:
        self.c = cluster

    def claims(self, sts: Obj, i: int) -> list[Obj]:
        """The claims of ordinal ``i`` (``<template>-<set>-<i>``), created when missing (and
        kept when the pod or the set goes, as the default Retain policy does); the pod volumes
        that mount them."""
        c = self.c
        md = sts["metadata"]
        ns, name = md["namespace"], md["name"]
        volumes = []
        sel = (sts["spec"].get("selector") or {}).get("matchLabels") or {}
        for t in sts["spec"].get("volumeClaimTemplates") or ():
            tname = t["metadata"]["name"]
            claim = f"{tname}-{name}-{i}"
            volumes.append({"name": tname, "persistentVolumeClaim": {"claimName": claim}})
            if c.store.get("persistentvolumeclaims", ns, claim) is not None:
                continue
            pvc: Obj = {
                "apiVersion": "v1",
                "kind": "PersistentVolumeClaim",
                "metadata": {
                    "name": claim,
                    "namespace": ns,
                    "uid": huid(f"pvc/{ns}/{claim}/{md['uid']}"),
                    "creationTimestamp": iso(c.now()),
                    "labels": {**((t.get("metadata") or {}).get("labels") or {}), **sel},
                },
                "spec": json.loads(json.dumps(t.get("spec") or {})),
            }
            c.volumes.admit(pvc)
            c.store.create("persistentvolumeclaims", pvc)
            c.event(
                sts,
                "Normal",
                "SuccessfulCreate",
                f"create Claim {claim} Pod {name}-{i} in StatefulSet {name} success",
                component="statefulset-controller",
            )
            c.volumes.reconcile_claim(ns, claim)
        return volumes

    def reconcile(self, ns: str, name: str) -> None:
        sts = self.c.store.get("apps/statefulsets", ns, name)
        if sts is None:
            return
        want = int(sts["spec"].get("replicas", 1))
        pods = {p["metadata"]["name"]: p for p in self.c.controllers.pods_of(sts)}
        for i in range(want):
            pname = f"{name}-{i}"
            if pname not in pods and self.c.store.get("pods", ns, pname) is None:
                volumes = self.claims(sts, i)
                self.c.controllers.spawn_pod(
                    sts,
                    "apps/statefulsets",
                    pname,
                    extra_labels={
                        "statefulset.kubernetes.io/pod-name": pname,
                        "apps.kubernetes.io/pod-index": str(i),
                    },
                    volumes=volumes,
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


def sts_defaults(sts: Obj) -> None:
    """What the API server fills in on a created StatefulSet."""
    spec = sts.setdefault("spec", {})
    spec.setdefault("replicas", 1)
    spec.setdefault("podManagementPolicy", "OrderedReady")
    spec.setdefault("updateStrategy", {"type": "RollingUpdate"})
    if spec["updateStrategy"].get("type", "RollingUpdate") == "RollingUpdate":
        spec["updateStrategy"].setdefault("type", "RollingUpdate")
        spec["updateStrategy"].setdefault("rollingUpdate", {}).setdefault("partition", 0)
    spec.setdefault("revisionHistoryLimit", 10)
    spec.setdefault(
        "persistentVolumeClaimRetentionPolicy", {"whenDeleted": "Retain", "whenScaled": "Retain"}
    )
    for t in spec.get("volumeClaimTemplates") or ():
        t.setdefault("apiVersion", "v1")
        t.setdefault("kind", "PersistentVolumeClaim")
        t.setdefault("spec", {}).setdefault("volumeMode", "Filesystem")
        t.setdefault("status", {"phase": "Pending"})


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
