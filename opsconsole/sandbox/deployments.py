"""ReplicaSet and Deployment controllers: replicas kept, rolling updates with revisions."""

from __future__ import annotations

import bisect
import json
from typing import TYPE_CHECKING, Any

from .endpoints import pod_ready
from .meta import owner_ref, template_hash
from .pods import hname, huid
from .store import Obj, iso

if TYPE_CHECKING:
    from .cluster import Cluster


REVISION = "deployment.kubernetes.io/revision"
CHANGE_CAUSE = "kubernetes.io/change-cause"


def _revision(rs: Obj) -> int:
    return int((rs["metadata"].get("annotations") or {}).get(REVISION, "0"))


def _pruned(value: Any) -> Any:
    """``value`` without nulls and empty maps/lists (how two encodings of a template differ)."""
    if isinstance(value, dict):
        out = {k: _pruned(v) for k, v in value.items()}
        return {k: v for k, v in out.items() if v not in (None, {}, [])}
    if isinstance(value, list):
        return [_pruned(v) for v in value]
    return value


def _unhashed(template: Obj) -> Obj:
    """A ReplicaSet's pod template without its pod-template-hash label."""
    t = json.loads(json.dumps(template))
    (t.get("metadata") or {}).get("labels", {}).pop("pod-template-hash", None)
    return t


def deployment_defaults(dep: Obj) -> None:
    """What the API server fills in on a created Deployment."""
    spec = dep.setdefault("spec", {})
    spec.setdefault("replicas", 1)
    spec.setdefault(
        "strategy",
        {"type": "RollingUpdate", "rollingUpdate": {"maxUnavailable": "25%", "maxSurge": "25%"}},
    )
    spec.setdefault("revisionHistoryLimit", 10)
    spec.setdefault("progressDeadlineSeconds", 600)


class Deployments:
    def __init__(self, cluster: Cluster) -> None:
        self.c = cluster

    def reconcile_rs(self, ns: str, name: str) -> None:
        rs = self.c.store.get("apps/replicasets", ns, name)
        if rs is None:
            return
        pods = self.c.controllers.pods_of(rs)
        active = [p for p in pods if "deletionTimestamp" not in p["metadata"]]
        want = int(rs["spec"].get("replicas", 1))
        if len(active) < want:
            gen = rs["metadata"]["name"] + "-"
            for _ in range(want - len(active)):
                pname = gen + hname(f"{rs['metadata']['uid']}/{next(self.c.names)}", 5)
                self.c.controllers.spawn_pod(rs, "apps/replicasets", pname, generate_name=gen)
                self.c.event(
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
                self.c.delete_pod(ns, p["metadata"]["name"], None)
                self.c.event(
                    rs,
                    "Normal",
                    "SuccessfulDelete",
                    f"Deleted pod: {p['metadata']['name']}",
                    component="replicaset-controller",
                )
        self.rs_status(ns, name)

    def rs_status(self, ns: str, name: str) -> None:
        rs = self.c.store.get("apps/replicasets", ns, name)
        if rs is None:
            return
        active = [
            p for p in self.c.controllers.pods_of(rs) if "deletionTimestamp" not in p["metadata"]
        ]
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

        self.c.store.set_field("apps/replicasets", ns, name, "status", status)
        for ref in rs["metadata"].get("ownerReferences") or ():
            if ref["kind"] == "Deployment":
                self.c.controllers.dirty.add(("Deployment", ns, ref["name"]))

    def replicasets_of(self, dep: Obj) -> list[Obj]:
        uid = dep["metadata"]["uid"]
        ns, prefix = dep["metadata"]["namespace"], dep["metadata"]["name"] + "-"
        keys = self.c.store.keys("apps/replicasets")
        i = bisect.bisect_left(keys, (ns, prefix))
        out = []
        while i < len(keys) and keys[i][0] == ns and keys[i][1].startswith(prefix):
            rs = self.c.store.objects["apps/replicasets"][keys[i]]
            if any(r["uid"] == uid for r in rs["metadata"].get("ownerReferences") or ()):
                out.append(rs)
            i += 1
        return out

    def status(self, ns: str, name: str) -> None:
        dep = self.c.store.get("apps/deployments", ns, name)
        if dep is None:
            return
        if not self.c.building:
            self.advance_rollout(ns, name)
            dep = self.c.store.get("apps/deployments", ns, name) or dep
        h = template_hash(dep["spec"]["template"])
        total = updated = ready = 0
        new_rs = ""
        for rs in self.replicasets_of(dep):
            active = [
                p
                for p in self.c.controllers.pods_of(rs)
                if "deletionTimestamp" not in p["metadata"]
            ]
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
        now = iso(self.c.now())

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

        stuck = self.c.behaviours.get(("apps/deployments", ns, name), ("healthy",))[0] in (
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

        self.c.store.set_field("apps/deployments", ns, name, "status", status)

    def rollout(self, ns: str, name: str) -> None:
        """The Deployment's spec changed: make sure a ReplicaSet carries its template, then let
        :meth:`advance_rollout` move replicas over (maxSurge 25%, maxUnavailable 25%)."""
        dep = self.c.store.get("apps/deployments", ns, name)
        if dep is None:
            return
        h = template_hash(dep["spec"]["template"])
        rss = self.replicasets_of(dep)
        current = next(
            (r for r in rss if r["metadata"]["labels"].get("pod-template-hash") == h), None
        )
        if current is None:  # the template of an older ReplicaSet, as `rollout undo` sends it?
            want = _pruned(dep["spec"]["template"])
            for r in rss:
                if _pruned(_unhashed(r["spec"]["template"])) == want:
                    template = _unhashed(r["spec"]["template"])

                    def restore(o: Obj, template: Obj = template) -> None:
                        o["spec"]["template"] = template

                    dep = self.c.store.update("apps/deployments", ns, name, restore) or dep
                    h = template_hash(dep["spec"]["template"])
                    current = r
                    break
        top = max((_revision(r) for r in rss), default=0)
        cause = (dep["metadata"].get("annotations") or {}).get(CHANGE_CAUSE)
        if current is None:
            current = self.new_replicaset(dep, h, 0, top + 1)
        elif _revision(current) < top or (
            cause and (current["metadata"].get("annotations") or {}).get(CHANGE_CAUSE) != cause
        ):
            # back to an older template (rollout undo): its ReplicaSet becomes the newest
            # revision; the Deployment's change-cause goes to its current ReplicaSet
            newest = max(top + 1 if _revision(current) < top else _revision(current), 1)

            def bump(o: Obj) -> None:
                ann = o["metadata"].setdefault("annotations", {})
                ann[REVISION] = str(newest)
                if cause:
                    ann[CHANGE_CAUSE] = cause

            current = (
                self.c.store.update("apps/replicasets", ns, current["metadata"]["name"], bump)
                or current
            )
        rev = str(_revision(current) or 1)

        def annotate(o: Obj) -> None:
            o["metadata"].setdefault("annotations", {})[REVISION] = rev

        self.c.store.update("apps/deployments", ns, name, annotate)
        self.advance_rollout(ns, name)
        self.c.controllers.dirty.add(("Deployment", ns, name))
        self.c.controllers.flush()

    def scale_rs(self, dep: Obj, rs: Obj, replicas: int) -> None:
        old = int(rs["spec"].get("replicas", 0))
        if old == replicas:
            return
        verb = "up" if replicas > old else "down"
        self.c.event(
            dep,
            "Normal",
            "ScalingReplicaSet",
            f"Scaled {verb} replica set {rs['metadata']['name']} from {old} to {replicas}",
            component="deployment-controller",
        )

        def scale(o: Obj) -> None:
            o["spec"]["replicas"] = replicas

        self.c.store.update(
            "apps/replicasets", rs["metadata"]["namespace"], rs["metadata"]["name"], scale
        )
        self.c.controllers.dirty.add(
            ("ReplicaSet", rs["metadata"]["namespace"], rs["metadata"]["name"])
        )

    def advance_rollout(self, ns: str, name: str) -> None:
        """One step of the deployment controller's rolling update."""
        dep = self.c.store.get("apps/deployments", ns, name)
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
            self.scale_rs(dep, new, want)
            return
        surge = max(1, -(-want // 4))
        min_available = want - want // 4
        old_total = sum(int(r["spec"].get("replicas", 0)) for r in olds)
        target_new = max(n_new, min(want, want + surge - old_total))
        self.scale_rs(dep, new, target_new)

        def ready(rs: Obj) -> int:
            return sum(1 for p in self.c.controllers.pods_of(rs) if pod_ready(p))

        new_ready = ready(new)
        old_ready = sum(ready(r) for r in olds)
        old_unready = max(0, old_total - old_ready)
        drop = min(old_total, old_unready + max(0, new_ready + old_ready - min_available))
        for rs in olds:
            if drop <= 0:
                break
            cur = int(rs["spec"].get("replicas", 0))
            k = min(drop, cur)
            self.scale_rs(dep, rs, cur - k)
            drop -= k

    def new_replicaset(
        self,
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
                "creationTimestamp": created or iso(self.c.now()),
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
        cause = (md.get("annotations") or {}).get(CHANGE_CAUSE)
        if cause:
            rs["metadata"]["annotations"][CHANGE_CAUSE] = cause
        if initial:
            return self.c.store.put_initial("apps/replicasets", rs)
        return self.c.store.create("apps/replicasets", rs)
