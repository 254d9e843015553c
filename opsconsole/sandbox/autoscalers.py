"""The horizontal pod autoscaler (autoscaling/v2): every 15 simulated seconds each HPA reads
its target's pod metrics (:mod:`.metrics`), computes the replica count the real algorithm does
(``ceil(pods * current / target)``, a 10% tolerance, scale-up at most to ``max(2 * current, 4)``),
clamps it to ``[minReplicas, maxReplicas]``, scales the target and writes ``status``
(current/desired replicas, current metrics, lastScaleTime) with the conditions ``AbleToScale``,
``ScalingActive`` and ``ScalingLimited``. The scale-down stabilization window is not simulated.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

from .endpoints import pod_ready
from .metrics import container_usage, cpu_millis, mem_bytes
from .store import Obj, iso

if TYPE_CHECKING:
    from .cluster import Cluster

RKEY = "autoscaling/horizontalpodautoscalers"
TARGETS = {
    "Deployment": "apps/deployments",
    "StatefulSet": "apps/statefulsets",
    "ReplicaSet": "apps/replicasets",
}
SYNC_PERIOD = 15.0
TOLERANCE = 0.1
COMPONENT = "horizontal-pod-autoscaler"


class MissingRequest(Exception):
    """A target's container has no request for the resource a Utilization target needs."""


class Autoscalers:
    def __init__(self, cluster: Cluster) -> None:
        self.c = cluster
        self.armed: dict[tuple[str, str], str] = {}

    def reconcile(self, ns: str, name: str) -> None:
        hpa = self.c.store.get(RKEY, ns, name)
        if hpa is None:
            self.armed.pop((ns, name), None)
            return
        uid = hpa["metadata"]["uid"]
        if self.armed.get((ns, name)) != uid:
            self.armed[(ns, name)] = uid
            self.tick(ns, name, uid)

    def tick(self, ns: str, name: str, uid: str) -> None:
        hpa = self.c.store.get(RKEY, ns, name)
        if hpa is None or hpa["metadata"]["uid"] != uid:
            return
        self.sync(hpa)
        self.c.after(SYNC_PERIOD, lambda: self.tick(ns, name, uid), min_real=0.05)

    def utilization(
        self, pods: list[Obj], resource: str, target: Obj
    ) -> tuple[float, float, Obj] | None:
        """(current, target, currentMetric) for a Resource metric over the ready pods."""
        used = requested = 0.0
        n = 0
        now = self.c.now()
        for p in pods:
            for cdef in p["spec"]["containers"]:
                cpu, mem = container_usage(self.c, p, cdef, now)
                req = ((cdef.get("resources") or {}).get("requests") or {}).get(resource)
                if resource == "cpu":
                    used += cpu
                    requested += cpu_millis(req) if req else 0.0
                else:
                    used += mem
                    requested += mem_bytes(req) if req else 0.0
            n += 1
        if not n:
            return None
        avg = used / n
        value = f"{int(avg)}m" if resource == "cpu" else f"{int(avg)}"
        if target.get("type", "Utilization") == "Utilization":
            if not requested:
                first = pods[0]
                raise MissingRequest(
                    f"missing request for {resource} in container "
                    f"{first['spec']['containers'][0]['name']} of Pod {first['metadata']['name']}"
                )
            pct = 100.0 * used / requested
            metric = {"averageUtilization": int(round(pct)), "averageValue": value}
            return pct, float(target.get("averageUtilization", 80)), metric
        want = target.get("averageValue") or target.get("value") or "0"
        want_v = cpu_millis(want) if resource == "cpu" else mem_bytes(want)
        return avg, want_v or 1.0, {"averageValue": value}

    def sync(self, hpa: Obj) -> None:
        c = self.c
        md, spec = hpa["metadata"], hpa.get("spec") or {}
        ns = md["namespace"]
        ref = spec.get("scaleTargetRef") or {}
        rkey = TARGETS.get(ref.get("kind", ""))
        target = c.store.get(rkey, ns, ref.get("name", "")) if rkey else None
        now = iso(c.now())
        old = hpa.get("status") or {}
        old_conds = {x["type"]: x for x in old.get("conditions") or ()}

        def cond(ctype: str, ok: bool, reason: str, message: str) -> Obj:
            status = "True" if ok else "False"
            prev = old_conds.get(ctype)
            same = prev is not None and prev["status"] == status
            return {
                "type": ctype,
                "status": status,
                "lastTransitionTime": prev["lastTransitionTime"] if same else now,
                "reason": reason,
                "message": message,
            }

        lo, hi = int(spec.get("minReplicas", 1)), int(spec.get("maxReplicas", 1))
        if target is None or rkey is None:
            kind = (ref.get("kind") or "").lower()
            status = {
                "currentReplicas": old.get("currentReplicas", 0),
                "desiredReplicas": old.get("desiredReplicas", 0),
                "conditions": [
                    cond(
                        "AbleToScale",
                        False,
                        "FailedGetScale",
                        f"the HPA controller was unable to get the target's current scale: "
                        f'{kind}s.apps "{ref.get("name", "")}" not found',
                    )
                ],
            }
            self._write(hpa, status)
            return
        current = int(target["spec"].get("replicas", 1))
        sel = (target["spec"].get("selector") or {}).get("matchLabels") or {}
        pods = [
            p
            for p in c.store.list("pods", ns)
            if sel
            and all((p["metadata"].get("labels") or {}).get(k) == v for k, v in sel.items())
            and pod_ready(p)
        ]
        metrics = spec.get("metrics") or [
            {
                "type": "Resource",
                "resource": {
                    "name": "cpu",
                    "target": {"averageUtilization": 80, "type": "Utilization"},
                },
            }
        ]
        desired = None
        current_metrics = []
        reason_text = ""
        failure = ""
        for m in metrics:
            if m.get("type") != "Resource":
                continue
            res = m["resource"]["name"]
            try:
                got = self.utilization(pods, res, m["resource"].get("target") or {})
            except MissingRequest as e:
                failure = (
                    "the HPA was unable to compute the replica count: failed to get "
                    f"{res} utilization: {e}"
                )
                continue
            if got is None:
                failure = (
                    f"the HPA was unable to compute the replica count: failed to get {res} "
                    "utilization: did not receive metrics for targeted pods (pods might be unready)"
                )
                continue
            cur, want, metric = got
            current_metrics.append(
                {"type": "Resource", "resource": {"name": res, "current": metric}}
            )
            ratio = cur / want if want else 1.0
            proposal = current if abs(ratio - 1.0) <= TOLERANCE else math.ceil(len(pods) * ratio)
            if desired is None or proposal > desired:
                desired = proposal
                what = f"{res} resource utilization (percentage of request)"
                reason_text = f"{what} {'above' if ratio > 1 else 'below'} target"
        conditions = []
        if desired is None:
            conditions.append(
                cond(
                    "AbleToScale",
                    True,
                    "SucceededGetScale",
                    "the HPA controller was able to get the target's current scale",
                )
            )
            conditions.append(
                cond(
                    "ScalingActive",
                    False,
                    "FailedGetResourceMetric",
                    failure or "the HPA was unable to compute the replica count",
                )
            )
            status = {
                "currentReplicas": current,
                "desiredReplicas": old.get("desiredReplicas", current),
                "conditions": conditions,
            }
            if failure:
                c.event(hpa, "Warning", "FailedGetResourceMetric", failure, component=COMPONENT)
            self._write(hpa, status)
            return
        desired = min(desired, max(2 * current, 4))
        limited = ""
        if desired > hi:
            desired, limited = hi, "TooManyReplicas"
        elif desired < lo:
            desired, limited = lo, "TooFewReplicas"
            reason_text = "Current number of replicas below Spec's minReplicas"
        status: Obj = {
            "currentReplicas": current,
            "desiredReplicas": desired,
            "currentMetrics": current_metrics,
        }
        if old.get("lastScaleTime"):
            status["lastScaleTime"] = old["lastScaleTime"]
        if desired != current:

            def scale(o: Obj) -> None:
                o["spec"]["replicas"] = desired

            c.store.update(rkey, ns, ref["name"], scale)
            c.event(
                hpa,
                "Normal",
                "SuccessfulRescale",
                f"New size: {desired}; reason: {reason_text}",
                component=COMPONENT,
            )
            status["lastScaleTime"] = now
            conditions.append(
                cond(
                    "AbleToScale",
                    True,
                    "SucceededRescale",
                    f"the HPA controller was able to update the target scale to {desired}",
                )
            )
        else:
            conditions.append(
                cond(
                    "AbleToScale", True, "ReadyForNewScale", "recommended size matches current size"
                )
            )
        conditions.append(
            cond(
                "ScalingActive",
                True,
                "ValidMetricFound",
                "the HPA was able to successfully calculate a replica count from cpu resource "
                "utilization (percentage of request)",
            )
        )
        if limited == "TooManyReplicas":
            conditions.append(
                cond(
                    "ScalingLimited",
                    True,
                    limited,
                    "the desired replica count is more than the maximum replica count",
                )
            )
        elif limited == "TooFewReplicas":
            conditions.append(
                cond(
                    "ScalingLimited",
                    True,
                    limited,
                    "the desired replica count is less than the minimum replica count",
                )
            )
        else:
            conditions.append(
                cond(
                    "ScalingLimited",
                    False,
                    "DesiredWithinRange",
                    "the desired count is within the acceptable range",
                )
            )
        status["conditions"] = conditions
        self._write(hpa, status)
        if desired != current:
            c.controllers.spec_changed(rkey, ns, ref["name"])

    def _write(self, hpa: Obj, status: Obj) -> None:
        md = hpa["metadata"]
        if hpa.get("status") != status:
            self.c.store.set_field(RKEY, md["namespace"], md["name"], "status", status)
