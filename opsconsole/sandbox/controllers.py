"""Workload controllers of the simulated cluster: ReplicaSet, Deployment, StatefulSet, DaemonSet.

They run synchronously under the store lock: a pod change marks its owner dirty and
:meth:`ControllersMixin.flush` reconciles (creates replacements, removes extras) and recomputes
status, ReplicaSet first, then the Deployment that owns it.
"""

from __future__ import annotations

import bisect
import hashlib
import json
from typing import TYPE_CHECKING, Any

from .controllers_sets import SetsMixin, pod_ready, target_port  # noqa: F401
from .pods import PodRT, hname, huid, pod_from_template, render_status
from .store import Obj, iso

if TYPE_CHECKING:
    from .cluster import Cluster

RKEY = {
    "ReplicaSet": "apps/replicasets",
    "Deployment": "apps/deployments",
    "StatefulSet": "apps/statefulsets",
    "DaemonSet": "apps/daemonsets",
}
START_DELAY = 2.0  # simulated seconds from pod creation to running containers


_HASHES: dict[int, tuple[Obj, str]] = {}


def template_hash(template: Obj) -> str:
    """pod-template-hash of a template (memoized per template object: they are immutable)."""
    hit = _HASHES.get(id(template))
    if hit is not None and hit[0] is template:
        return hit[1]
    data = json.dumps(template, sort_keys=True).encode()
    h = hname(hashlib.sha1(data).hexdigest(), 10)
    if len(_HASHES) > 20000:
        _HASHES.clear()
    _HASHES[id(template)] = (template, h)
    return h


def owner_ref(obj: Obj) -> Obj:
    return {
        "apiVersion": obj["apiVersion"],
        "kind": obj["kind"],
        "name": obj["metadata"]["name"],
        "uid": obj["metadata"]["uid"],
        "controller": True,
        "blockOwnerDeletion": True,
    }


def tolerates(tolerations: list[Obj], taint: Obj) -> bool:
    for t in tolerations:
        if t.get("effect") and t["effect"] != taint.get("effect"):
            continue
        if t.get("operator") == "Exists" and (not t.get("key") or t["key"] == taint["key"]):
            return True
        if t.get("key") == taint["key"] and t.get("value", "") == taint.get("value", ""):
            return True
    return False


class ControllersMixin(SetsMixin):
    # --- scheduling ------------------------------------------------------------------------
    def eligible_nodes(self: Cluster, spec: Obj, *, ignore_conditions: bool = False) -> list[Obj]:
        out = []
        selector = spec.get("nodeSelector") or {}
        tolerations = spec.get("tolerations") or []
        for node in self.store.list("nodes"):
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

    def pick_node(self: Cluster, spec: Obj) -> Obj | None:
        nodes = self.eligible_nodes(spec)
        if not nodes:
            return None
        load: dict[str, int] = {}
        for rt in self.rts.values():
            load[rt.node] = load.get(rt.node, 0) + 1
        return min(nodes, key=lambda n: (load.get(n["metadata"]["name"], 0), n["metadata"]["name"]))

    def workload_of(self: Cluster, pod_owner: Obj, owner_rkey: str) -> tuple[str, str, str]:
        md = pod_owner["metadata"]
        if owner_rkey == "apps/replicasets":
            for ref in md.get("ownerReferences") or ():
                if ref["kind"] == "Deployment":
                    return ("apps/deployments", md["namespace"], ref["name"])
        return (owner_rkey, md["namespace"], md["name"])

    # --- creating pods ------------------------------------------------------------------
    def spawn_pod(
        self: Cluster,
        owner: Obj,
        owner_rkey: str,
        name: str,
        *,
        node_name: str | None = None,
        extra_labels: dict[str, str] | None = None,
        generate_name: str | None = None,
    ) -> Obj:
        """Create a new pod (ContainerCreating; running after START_DELAY)."""
        wl = self.workload_of(owner, owner_rkey)
        behaviour, fault_container, params = self.behaviours.get(wl, ("healthy", "", {}))
        template = owner["spec"]["template"]
        ns = owner["metadata"]["namespace"]
        uid = huid(f"{ns}/{name}/{self.now()}/{next(self._names)}")
        node: Obj | None = None
        if behaviour != "pending":
            if node_name:
                node = self.store.get("nodes", "", node_name)
            else:
                node = self.pick_node(template.get("spec") or {})
            if node is None:
                behaviour = "pending"
                params = dict(params, message=self.no_node_message())
        pod = pod_from_template(
            template,
            name=name,
            namespace=ns,
            uid=uid,
            created=iso(self.now()),
            owner=owner_ref(owner),
            node=node["metadata"]["name"] if node else "",
            extra_labels=extra_labels,
            generate_name=generate_name,
        )
        rt = PodRT(
            behaviour=behaviour,
            fault_container=fault_container or template["spec"]["containers"][0]["name"],
            params=dict(params),
            node=node["metadata"]["name"] if node else "",
            started=self.now(),
            creating=behaviour != "pending",
            sub="running",
            owner=wl,
        )
        if node is not None:
            rt.ip = self.allocate_ip(node)
            rt.params["_host_ip"] = node_ip(node)
        self.make_logs(pod, rt, self.profiles.get(wl, {}))
        pod["status"] = render_status(pod, rt)
        self.rts[(ns, name)] = rt
        self.store.create("pods", pod)
        if node is not None:
            self.event(
                pod,
                "Normal",
                "Scheduled",
                f"Successfully assigned {ns}/{name} to {rt.node}",
                component="default-scheduler",
            )
            self.after(START_DELAY, lambda: self.start_containers(ns, name, rt))
        else:
            self.arm(ns, name, rt)
        return pod

    def no_node_message(self: Cluster) -> str:
        n = len(self.store.list("nodes"))
        return (
            f"0/{n} nodes are available: {n} Insufficient cpu. preemption: 0/{n} nodes are "
            f"available: {n} No preemption victims found for incoming pod."
        )

    # --- reconcile ----------------------------------------------------------------------
    def flush(self: Cluster) -> None:
        if self._building or self._flushing:
            return
        self._flushing = True
        try:
            self._flush()
        finally:
            self._flushing = False

    def _flush(self: Cluster) -> None:
        rounds = 0
        while self._dirty and rounds < 20:
            rounds += 1
            batch = sorted(self._dirty, key=lambda k: (k[0] != "ReplicaSet", k[0] == "Endpoints"))
            self._dirty.clear()
            for kind, ns, name in batch:
                if kind == "Endpoints":
                    self.endpoints_for(ns)
                elif kind == "ReplicaSet":
                    self.reconcile_rs(ns, name)
                elif kind == "Deployment":
                    self.deployment_status(ns, name)
                elif kind == "StatefulSet":
                    self.reconcile_sts(ns, name)
                elif kind == "DaemonSet":
                    self.reconcile_ds(ns, name)

    def pods_of(self: Cluster, owner: Obj) -> list[Obj]:
        keys = self.owned.get(owner["metadata"]["uid"], set())
        pods = [self.store.get("pods", ns, n) for ns, n in sorted(keys)]
        return [p for p in pods if p is not None]

    def reconcile_rs(self: Cluster, ns: str, name: str) -> None:
        rs = self.store.get("apps/replicasets", ns, name)
        if rs is None:
            return
        pods = self.pods_of(rs)
        active = [p for p in pods if "deletionTimestamp" not in p["metadata"]]
        want = int(rs["spec"].get("replicas", 1))
        if len(active) < want:
            gen = rs["metadata"]["name"] + "-"
            for _ in range(want - len(active)):
                pname = gen + hname(f"{rs['metadata']['uid']}/{next(self._names)}", 5)
                self.spawn_pod(rs, "apps/replicasets", pname, generate_name=gen)
                self.event(
                    rs,
                    "Normal",
                    "SuccessfulCreate",
                    f"Created pod: {pname}",
                    component="replicaset-controller",
                )
        elif len(active) > want:
            victims = sorted(
                active, key=lambda p: (pod_ready(p), p["metadata"]["creationTimestamp"])
            )
            for p in victims[: len(active) - want]:
                self.delete_pod(ns, p["metadata"]["name"], None)
                self.event(
                    rs,
                    "Normal",
                    "SuccessfulDelete",
                    f"Deleted pod: {p['metadata']['name']}",
                    component="replicaset-controller",
                )
        self.rs_status(ns, name)

    def rs_status(self: Cluster, ns: str, name: str) -> None:
        rs = self.store.get("apps/replicasets", ns, name)
        if rs is None:
            return
        active = [p for p in self.pods_of(rs) if "deletionTimestamp" not in p["metadata"]]
        ready = sum(1 for p in active if pod_ready(p))
        status: Obj = {
            "replicas": len(active),
            "fullyLabeledReplicas": len(active),
            "observedGeneration": rs["metadata"].get("generation", 1),
        }
        if ready:
            status["readyReplicas"] = ready
            status["availableReplicas"] = ready
        if not active:
            status = {"replicas": 0, "observedGeneration": status["observedGeneration"]}

        self.store.set_field("apps/replicasets", ns, name, "status", status)
        for ref in rs["metadata"].get("ownerReferences") or ():
            if ref["kind"] == "Deployment":
                self._dirty.add(("Deployment", ns, ref["name"]))

    def replicasets_of(self: Cluster, dep: Obj) -> list[Obj]:
        uid = dep["metadata"]["uid"]
        ns, prefix = dep["metadata"]["namespace"], dep["metadata"]["name"] + "-"
        keys = self.store.keys("apps/replicasets")
        i = bisect.bisect_left(keys, (ns, prefix))
        out = []
        while i < len(keys) and keys[i][0] == ns and keys[i][1].startswith(prefix):
            rs = self.store.objects["apps/replicasets"][keys[i]]
            if any(r["uid"] == uid for r in rs["metadata"].get("ownerReferences") or ()):
                out.append(rs)
            i += 1
        return out

    def deployment_status(self: Cluster, ns: str, name: str) -> None:
        dep = self.store.get("apps/deployments", ns, name)
        if dep is None:
            return
        if not self._building:
            self.advance_rollout(ns, name)
            dep = self.store.get("apps/deployments", ns, name) or dep
        h = template_hash(dep["spec"]["template"])
        total = updated = ready = 0
        new_rs = ""
        for rs in self.replicasets_of(dep):
            active = [p for p in self.pods_of(rs) if "deletionTimestamp" not in p["metadata"]]
            total += len(active)
            r = sum(1 for p in active if pod_ready(p))
            ready += r
            if rs["metadata"]["labels"].get("pod-template-hash") == h:
                updated += len(active)
                new_rs = rs["metadata"]["name"]
        want = int(dep["spec"].get("replicas", 1))
        max_unavail = want // 4
        available_ok = ready >= want - max_unavail
        gen = dep["metadata"].get("generation", 1)
        old_conditions = {c["type"]: c for c in (dep.get("status") or {}).get("conditions", [])}
        now = iso(self.now())

        def cond(ctype: str, ok: bool, reason: str, msg: str) -> Obj:
            prev = old_conditions.get(ctype)
            changed = prev is None or prev["status"] != ("True" if ok else "False")
            return {
                "type": ctype,
                "status": "True" if ok else "False",
                "lastUpdateTime": now
                if changed or (prev or {}).get("reason") != reason
                else prev["lastUpdateTime"],
                "lastTransitionTime": now if changed else prev["lastTransitionTime"],
                "reason": reason,
                "message": msg,
            }

        stuck = self.behaviours.get(("apps/deployments", ns, name), ("healthy",))[0] in (
            "crashloop",
            "oomkilled",
            "imagepull",
            "pending",
        )
        if ready >= want and updated >= want:
            prog = cond(
                "Progressing",
                True,
                "NewReplicaSetAvailable",
                f'ReplicaSet "{new_rs}" has successfully progressed.',
            )
        elif stuck:
            prog = cond(
                "Progressing",
                False,
                "ProgressDeadlineExceeded",
                f'ReplicaSet "{new_rs}" has timed out progressing.',
            )
        else:
            prog = cond(
                "Progressing", True, "ReplicaSetUpdated", f'ReplicaSet "{new_rs}" is progressing.'
            )
        avail = cond(
            "Available",
            available_ok,
            "MinimumReplicasAvailable" if available_ok else "MinimumReplicasUnavailable",
            "Deployment has minimum availability."
            if available_ok
            else "Deployment does not have minimum availability.",
        )
        status: Obj = {"observedGeneration": gen, "replicas": total, "updatedReplicas": updated}
        if ready:
            status["readyReplicas"] = ready
            status["availableReplicas"] = ready
        if want - ready > 0:
            status["unavailableReplicas"] = want - ready
        status["conditions"] = [avail, prog]

        self.store.set_field("apps/deployments", ns, name, "status", status)

    def rollout(self: Cluster, ns: str, name: str) -> None:
        """The Deployment's spec changed: make sure a ReplicaSet carries its template, then let
        :meth:`advance_rollout` move replicas over (maxSurge 25%, maxUnavailable 25%)."""
        dep = self.store.get("apps/deployments", ns, name)
        if dep is None:
            return
        h = template_hash(dep["spec"]["template"])
        rss = self.replicasets_of(dep)
        current = next(
            (r for r in rss if r["metadata"]["labels"].get("pod-template-hash") == h), None
        )
        if current is None:
            revision = 1 + max(
                (
                    int(
                        (r["metadata"].get("annotations") or {}).get(
                            "deployment.kubernetes.io/revision", "0"
                        )
                    )
                    for r in rss
                ),
                default=0,
            )
            current = self.new_replicaset(dep, h, 0, revision)
        rev = (current["metadata"].get("annotations") or {}).get(
            "deployment.kubernetes.io/revision", "1"
        )

        def annotate(o: Obj) -> None:
            o["metadata"].setdefault("annotations", {})["deployment.kubernetes.io/revision"] = rev

        self.store.update("apps/deployments", ns, name, annotate)
        self.advance_rollout(ns, name)
        self._dirty.add(("Deployment", ns, name))
        self.flush()

    def _scale_rs(self: Cluster, dep: Obj, rs: Obj, replicas: int) -> None:
        old = int(rs["spec"].get("replicas", 0))
        if old == replicas:
            return
        verb = "up" if replicas > old else "down"
        self.event(
            dep,
            "Normal",
            "ScalingReplicaSet",
            f"Scaled {verb} replica set {rs['metadata']['name']} from {old} to {replicas}",
            component="deployment-controller",
        )

        def scale(o: Obj) -> None:
            o["spec"]["replicas"] = replicas

        self.store.update(
            "apps/replicasets", rs["metadata"]["namespace"], rs["metadata"]["name"], scale
        )
        self._dirty.add(("ReplicaSet", rs["metadata"]["namespace"], rs["metadata"]["name"]))

    def advance_rollout(self: Cluster, ns: str, name: str) -> None:
        """One step of the deployment controller's rolling update."""
        dep = self.store.get("apps/deployments", ns, name)
        if dep is None:
            return
        h = template_hash(dep["spec"]["template"])
        want = int(dep["spec"].get("replicas", 1))
        rss = self.replicasets_of(dep)
        new = next((r for r in rss if r["metadata"]["labels"].get("pod-template-hash") == h), None)
        if new is None:
            return
        olds = sorted(
            (r for r in rss if r is not new and int(r["spec"].get("replicas", 0)) > 0),
            key=lambda r: r["metadata"]["creationTimestamp"],
        )
        n_new = int(new["spec"].get("replicas", 0))
        if not olds:
            self._scale_rs(dep, new, want)
            return
        surge = max(1, -(-want // 4))
        min_available = want - want // 4
        old_total = sum(int(r["spec"].get("replicas", 0)) for r in olds)
        target_new = max(n_new, min(want, want + surge - old_total))
        self._scale_rs(dep, new, target_new)

        def ready(rs: Obj) -> int:
            return sum(1 for p in self.pods_of(rs) if pod_ready(p))

        new_ready = ready(new)
        old_ready = sum(ready(r) for r in olds)
        old_unready = max(0, old_total - old_ready)
        drop = min(old_total, old_unready + max(0, new_ready + old_ready - min_available))
        for rs in olds:
            if drop <= 0:
                break
            cur = int(rs["spec"].get("replicas", 0))
            k = min(drop, cur)
            self._scale_rs(dep, rs, cur - k)
            drop -= k

    def new_replicaset(
        self: Cluster,
        dep: Obj,
        h: str,
        replicas: int,
        revision: int,
        *,
        initial: bool = False,
        created: str | None = None,
    ) -> Obj:
        md = dep["metadata"]
        template = json.loads(json.dumps(dep["spec"]["template"]))
        template.setdefault("metadata", {}).setdefault("labels", {})["pod-template-hash"] = h
        selector = json.loads(json.dumps(dep["spec"]["selector"]))
        selector.setdefault("matchLabels", {})["pod-template-hash"] = h
        rs: Obj = {
            "apiVersion": "apps/v1",
            "kind": "ReplicaSet",
            "metadata": {
                "name": f"{md['name']}-{h}",
                "namespace": md["namespace"],
                "uid": huid(f"rs/{md['namespace']}/{md['name']}/{h}"),
                "creationTimestamp": created or iso(self.now()),
                "generation": 1,
                "labels": dict(template["metadata"]["labels"]),
                "annotations": {
                    "deployment.kubernetes.io/desired-replicas": str(replicas),
                    "deployment.kubernetes.io/max-replicas": str(replicas + max(1, replicas // 4)),
                    "deployment.kubernetes.io/revision": str(revision),
                },
                "ownerReferences": [owner_ref(dep)],
            },
            "spec": {"replicas": replicas, "selector": selector, "template": template},
            "status": {"replicas": 0},
        }
        if initial:
            return self.store.put_initial("apps/replicasets", rs)
        return self.store.create("apps/replicasets", rs)

    def spec_changed(self: Cluster, rkey: str, ns: str, name: str) -> None:
        if rkey == "apps/deployments":
            self.rollout(ns, name)
            return
        kind = {v: k for k, v in RKEY.items()}.get(rkey)
        if kind:
            self._dirty.add((kind, ns, name))
            self.flush()

    def cascade_delete(self: Cluster, obj: Obj) -> None:
        uid = obj["metadata"]["uid"]
        ns = obj["metadata"].get("namespace", "")
        if obj["kind"] == "Deployment":
            for rs in self.replicasets_of(obj):
                self.store.delete("apps/replicasets", ns, rs["metadata"]["name"])
                for p in self.pods_of(rs):
                    self.delete_pod(ns, p["metadata"]["name"], None)
        for pkey in list(self.owned.get(uid, ())):
            if self.store.get("pods", *pkey) is not None:
                self.delete_pod(pkey[0], pkey[1], None)


def node_ip(node: Obj) -> str:
    for a in node.get("status", {}).get("addresses", []):
        if a["type"] == "InternalIP":
            return a["address"]
    return ""


def seed_rt(**kw: Any) -> PodRT:
    return PodRT(**kw)
