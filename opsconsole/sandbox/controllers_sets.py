"""StatefulSet and DaemonSet controllers."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

from . import revisions
from .endpoints import pod_ready
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
        update, _ = revisions.current(self.c, sts)
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
                        revisions.LABEL: update,
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
        of = {p["metadata"]["name"]: revisions.of_pod(self.c, sts, p, False) for p in active}
        self.roll(sts, active, of, update)
        updated = sum(1 for r in of.values() if r == update)
        old = [r for r in of.values() if r != update]
        current = old[0] if old else update
        status: Obj = {
            "observedGeneration": sts["metadata"].get("generation", 1),
            "replicas": len(active),
            "currentReplicas": len(active) - updated if old else len(active),
            "updatedReplicas": updated,
            "currentRevision": current,
            "updateRevision": update,
            "collisionCount": 0,
            "availableReplicas": ready,
        }
        if ready:
            status["readyReplicas"] = ready

        self.c.store.set_field("apps/statefulsets", ns, name, "status", status)

    def roll(self, sts: Obj, active: list[Obj], of: dict[str, str], update: str) -> None:
        """RollingUpdate: once every pod is ready, the highest ordinal at or above the partition
        still on an old revision is deleted (it comes back from the new template)."""
        strategy = sts["spec"].get("updateStrategy") or {}
        if strategy.get("type", "RollingUpdate") != "RollingUpdate":
            return  # OnDelete: a pod takes the new template when someone deletes it
        want = int(sts["spec"].get("replicas", 1))
        if len(active) < want or not all(pod_ready(p) for p in active):
            return
        partition = int((strategy.get("rollingUpdate") or {}).get("partition", 0))
        md = sts["metadata"]
        stale = sorted(
            (int(n.rsplit("-", 1)[1]), n)
            for n, r in of.items()
            if r != update
            and n.rsplit("-", 1)[-1].isdigit()
            and int(n.rsplit("-", 1)[1]) >= partition
        )
        if stale:
            pname = stale[-1][1]
            self.c.delete_pod(md["namespace"], pname, None)
            self.c.event(
                sts,
                "Normal",
                "SuccessfulDelete",
                f"delete Pod {pname} in StatefulSet {md['name']} successful",
                component="statefulset-controller",
            )


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
        update, h = revisions.current(self.c, ds)
        pods = self.c.controllers.pods_of(ds)
        active = [p for p in pods if "deletionTimestamp" not in p["metadata"]]
        terminating = {p["spec"].get("nodeName") for p in pods if p not in active}
        have = {p["spec"].get("nodeName") for p in active}
        for node in nodes:
            if node not in have and node not in terminating:
                gen = name + "-"
                pname = gen + hname(f"{ds['metadata']['uid']}/{next(self.c.names)}", 5)
                self.c.controllers.spawn_pod(
                    ds,
                    "apps/daemonsets",
                    pname,
                    node_name=node,
                    generate_name=gen,
                    extra_labels={revisions.LABEL: h},
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
        stale = [p for p in active if revisions.of_pod(self.c, ds, p, True) != update]
        strategy = ds["spec"].get("updateStrategy") or {}
        if (
            stale
            and strategy.get("type", "RollingUpdate") == "RollingUpdate"
            and ready == len(active) == len(nodes)
        ):  # maxUnavailable 1: one node's pod at a time, once all are ready
            pod = stale[0]
            self.c.delete_pod(ns, pod["metadata"]["name"], None)
            self.c.event(
                ds,
                "Normal",
                "SuccessfulDelete",
                f"Deleted pod: {pod['metadata']['name']}",
                component="daemonset-controller",
            )
        status: Obj = {
            "currentNumberScheduled": len(active),
            "numberMisscheduled": 0,
            "desiredNumberScheduled": len(nodes),
            "numberReady": ready,
            "observedGeneration": ds["metadata"].get("generation", 1),
            "updatedNumberScheduled": len(active) - len(stale),
            "numberAvailable": ready,
        }
        if len(nodes) - ready > 0:
            status["numberUnavailable"] = len(nodes) - ready

        self.c.store.set_field("apps/daemonsets", ns, name, "status", status)
