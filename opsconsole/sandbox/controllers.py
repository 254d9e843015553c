"""The controller manager of the simulated cluster: which workloads need reconciling, pods created
for their owners, and cascading deletion.

Everything runs synchronously under the store lock: a pod change marks its owner dirty and
:meth:`Controllers.flush` reconciles (creates replacements, removes extras) and recomputes status,
ReplicaSet first, then the Deployment that owns it. The kinds' own logic lives in their
controllers (:mod:`.deployments`, :mod:`.controllers_sets`, :mod:`.endpoints`).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from .jobs import exit_code_of
from .meta import node_ip, owner_ref
from .pods import COMPLETES, PodRT, huid, pod_from_template, render_status
from .store import ADDED, DELETED, Obj, iso

if TYPE_CHECKING:
    from .cluster import Cluster

RKEY = {
    "ReplicaSet": "apps/replicasets",
    "Deployment": "apps/deployments",
    "StatefulSet": "apps/statefulsets",
    "DaemonSet": "apps/daemonsets",
    "Job": "batch/jobs",
    "CronJob": "batch/cronjobs",
    "PersistentVolumeClaim": "persistentvolumeclaims",
    "HorizontalPodAutoscaler": "autoscaling/horizontalpodautoscalers",
    "Service": "services",
}
KIND = {v: k for k, v in RKEY.items()}
_WORKLOADS = ("Deployment", "ReplicaSet", "StatefulSet", "DaemonSet", "Job", "CronJob")
START_DELAY = 2.0  # simulated seconds from pod creation to running containers


def _frees_room(etype: str, old: Obj | None, new: Obj) -> bool:
    if etype == DELETED:
        return True
    phase = (new.get("status") or {}).get("phase")
    return phase in ("Succeeded", "Failed") and (old or {}).get("status", {}).get("phase") != phase


class Controllers:
    def __init__(self, cluster: Cluster) -> None:
        self.c = cluster
        self.owned: dict[str, set[tuple[str, str]]] = {}  # owner uid -> pod keys
        self.dirty: set[tuple[str, str, str]] = set()  # (kind, namespace, name) to reconcile
        self.flushing = False
        cluster.store.listeners.append(self.on_change)

    def on_change(self, rkey: str, etype: str, old: Obj | None, new: Obj) -> None:
        """A pod changed: its owners (and the namespace's Endpoints) need a look."""
        if rkey == "nodes" or (rkey == "pods" and _frees_room(etype, old, new)):
            self.c.scheduler.soon()  # room may have appeared for a waiting pod
        if rkey != "pods":
            return
        md = new["metadata"]
        key = (md["namespace"], md["name"])
        for ref in md.get("ownerReferences") or ():
            if etype == ADDED:
                self.owned.setdefault(ref["uid"], set()).add(key)
            elif etype == DELETED:
                self.owned.get(ref["uid"], set()).discard(key)
            self.dirty.add((ref["kind"], md["namespace"], ref["name"]))
        if (
            old is None
            or etype == DELETED
            or old["status"] != new["status"]
            or old["metadata"].get("labels") != md.get("labels")
        ):
            self.dirty.add(("Endpoints", md["namespace"], ""))

    def reconcile_all(self) -> None:
        for rkey in (
            "apps/deployments",
            "apps/statefulsets",
            "apps/daemonsets",
            "batch/jobs",
            "batch/cronjobs",
            "persistentvolumeclaims",
            "autoscaling/horizontalpodautoscalers",
        ):
            for obj in self.c.store.list(rkey):
                md = obj["metadata"]
                self.dirty.add((obj["kind"], md["namespace"], md["name"]))
        for obj in self.c.store.list("apps/replicasets"):
            md = obj["metadata"]
            self.dirty.add(("ReplicaSet", md["namespace"], md["name"]))
        self.flush()

    def flush(self) -> None:
        if self.c.building or self.flushing:
            return
        self.flushing = True
        try:
            self._flush()
        finally:
            self.flushing = False

    def _flush(self) -> None:
        rounds = 0
        while self.dirty and rounds < 20:
            rounds += 1
            batch = sorted(self.dirty, key=lambda k: (k[0] != "ReplicaSet", k[0] == "Endpoints"))
            self.dirty.clear()
            handlers = self.handlers()
            for kind, ns, name in batch:
                handler = handlers.get(kind)
                if handler is None or self._being_deleted(kind, ns, name):
                    continue
                handler(ns, name)

    def _being_deleted(self, kind: str, ns: str, name: str) -> bool:
        """A workload whose deletion waits for its dependents (foreground) makes no new ones."""
        if kind not in _WORKLOADS:
            return False
        obj = self.c.store.get(RKEY[kind], ns, name)
        return obj is not None and "deletionTimestamp" in obj["metadata"]

    def handlers(self) -> dict[str, Callable[[str, str], None]]:
        """kind -> the controller that reconciles (namespace, name) of it."""
        c = self.c

        def endpoints(ns: str, _name: str) -> None:
            c.endpoints.sync(ns)

        return {
            "Endpoints": endpoints,
            "Service": endpoints,
            "ReplicaSet": c.deployments.reconcile_rs,
            "Deployment": c.deployments.status,
            "StatefulSet": c.statefulsets.reconcile,
            "DaemonSet": c.daemonsets.reconcile,
            "Job": c.jobs.reconcile,
            "CronJob": c.cronjobs.reconcile,
            "PersistentVolumeClaim": c.volumes.reconcile_claim,
            "HorizontalPodAutoscaler": c.autoscalers.reconcile,
        }

    def pods_of(self, owner: Obj) -> list[Obj]:
        keys = self.owned.get(owner["metadata"]["uid"], set())
        pods = [self.c.store.get("pods", ns, n) for ns, n in sorted(keys)]
        return [p for p in pods if p is not None]

    def workload_of(self, pod_owner: Obj, owner_rkey: str) -> tuple[str, str, str]:
        md = pod_owner["metadata"]
        parents = {"apps/replicasets": "Deployment", "batch/jobs": "CronJob"}
        if owner_rkey in parents:
            for ref in md.get("ownerReferences") or ():
                if ref["kind"] == parents[owner_rkey]:
                    return (RKEY[ref["kind"]], md["namespace"], ref["name"])
        return (owner_rkey, md["namespace"], md["name"])

    def spawn_pod(
        self,
        owner: Obj,
        owner_rkey: str,
        name: str,
        *,
        node_name: str | None = None,
        extra_labels: dict[str, str] | None = None,
        generate_name: str | None = None,
        volumes: list[Obj] | None = None,
    ) -> Obj:
        """Create a new pod (ContainerCreating; running after START_DELAY); ``volumes`` are
        added to the template's (a StatefulSet's claims)."""
        wl = self.workload_of(owner, owner_rkey)
        behaviour, fault_container, params = self.c.behaviours.get(wl, ("healthy", "", {}))
        template = owner["spec"]["template"]
        if not fault_applies(behaviour, fault_container, params, template):
            behaviour, params = "healthy", {}
        if owner_rkey == "batch/jobs" and behaviour in ("healthy", COMPLETES):
            behaviour = COMPLETES  # a Job's pods run to completion
            params = {"exit_code": exit_code_of(template), **params}
        ns = owner["metadata"]["namespace"]
        uid = huid(f"{ns}/{name}/{self.c.now()}/{next(self.c.names)}")
        node: Obj | None = None
        if behaviour != "pending":
            if node_name:
                node = self.c.store.get("nodes", "", node_name)
            else:
                labels = dict((template.get("metadata") or {}).get("labels") or {})
                labels.update(extra_labels or {})
                node, why = self.c.scheduler.schedule(template.get("spec") or {}, ns, labels)
            if node is None:  # the scheduler keeps it waiting, then what it would have done
                params = dict(params, message=why or "0/0 nodes are available.", _then=behaviour)
                behaviour = "pending"
        pod = pod_from_template(
            template,
            name=name,
            namespace=ns,
            uid=uid,
            created=iso(self.c.now()),
            owner=owner_ref(owner),
            node=node["metadata"]["name"] if node else "",
            extra_labels=extra_labels,
            generate_name=generate_name,
        )
        if volumes:
            pod["spec"]["volumes"] = [*volumes, *pod["spec"]["volumes"]]
        rt = PodRT(
            behaviour=behaviour,
            fault_container=fault_container or template["spec"]["containers"][0]["name"],
            params=dict(params),
            node=node["metadata"]["name"] if node else "",
            started=self.c.now(),
            creating=behaviour != "pending",
            sub="running",
            owner=wl,
        )
        if node is not None:
            rt.ip = self.c.allocate_ip(node)
            rt.params["_host_ip"] = node_ip(node)
        self.c.make_logs(pod, rt, self.c.profiles.get(wl, {}))
        pod["status"] = render_status(pod, rt)
        self.c.rts[(ns, name)] = rt
        self.c.store.create("pods", pod)
        if "_then" in rt.params:
            self.c.scheduler.waiting[(ns, name)] = rt
        if node is not None:
            self.c.event(
                pod,
                "Normal",
                "Scheduled",
                f"Successfully assigned {ns}/{name} to {rt.node}",
                component="default-scheduler",
            )
            self.c.after(START_DELAY, lambda: self.c.start_containers(ns, name, rt))
        else:
            self.c.kubelet.arm(ns, name, rt)
        return pod

    def spec_changed(self, rkey: str, ns: str, name: str) -> None:
        """An object was created or its spec changed: the controller of its kind looks."""
        if rkey == "apps/deployments":
            self.c.deployments.rollout(ns, name)
            return
        if rkey in ("persistentvolumes", "storage.k8s.io/storageclasses"):
            self.c.volumes.pending_claims()
        kind = KIND.get(rkey)
        if kind:
            self.dirty.add((kind, ns, name))
        self.flush()

    def cascade_delete(self, obj: Obj) -> None:
        uid = obj["metadata"]["uid"]
        ns = obj["metadata"].get("namespace", "")
        if obj["kind"] == "Service":
            self.c.endpoints.deleted(obj)
        if obj["kind"] == "CronJob":
            for job in self.c.store.list("batch/jobs", ns):
                if any(r["uid"] == uid for r in job["metadata"].get("ownerReferences") or ()):
                    self.c.store.delete("batch/jobs", ns, job["metadata"]["name"])
                    self.cascade_delete(job)
        if obj["kind"] == "Deployment":
            for rs in self.c.deployments.replicasets_of(obj):
                self.c.store.delete("apps/replicasets", ns, rs["metadata"]["name"])
                for p in self.pods_of(rs):
                    self.c.delete_pod(ns, p["metadata"]["name"], None)
        for pkey in list(self.owned.get(uid, ())):
            if self.c.store.get("pods", *pkey) is not None:
                self.c.delete_pod(pkey[0], pkey[1], None)


#: what each scenario fault is caused by in the fault container: a template that changed it
#: (another image, other resources) no longer has the fault, as a fix would remove it
_CAUSED_BY = {"imagepull": ("image",), "oomkilled": ("resources",), "pending": ("resources",)}


def fault_applies(behaviour: str, container: str, params: dict[str, Any], template: Obj) -> bool:
    """Whether a scenario fault still holds for a pod of ``template``."""
    declared = params.get("_declared")
    fields = _CAUSED_BY.get(behaviour)
    if not isinstance(declared, dict) or not fields:
        return True
    for c in (template.get("spec") or {}).get("containers") or ():
        if c.get("name") == container:
            return all(
                (c.get(f) or ({} if f == "resources" else None)) == declared[f] for f in fields
            )
    return True
