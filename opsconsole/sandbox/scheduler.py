"""Placing pods on nodes: the default scheduler's filters (resources, selectors, affinity, taints,
volumes, spreading) and its choice among the nodes that pass (see :mod:`.scoring`)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .meta import node_ip
from .metrics import cpu_millis, mem_bytes
from .pods import PodRT
from .scoring import SPREAD, Spread, preference, wants_placed_pods
from .selectors import node_term_ok, selector_matches
from .store import Obj

START_DELAY = 2.0  # simulated seconds from being placed to running containers

if TYPE_CHECKING:
    from .cluster import Cluster


def tolerates(tolerations: list[Obj], taint: Obj) -> bool:
    for t in tolerations:
        if t.get("effect") and t["effect"] != taint.get("effect"):
            continue
        if t.get("operator") == "Exists" and (not t.get("key") or t["key"] == taint["key"]):
            return True
        if t.get("key") == taint["key"] and t.get("value", "") == taint.get("value", ""):
            return True
    return False


class Scheduler:
    def __init__(self, cluster: Cluster) -> None:
        self.c = cluster
        #: pods the scheduler could not place yet (a scenario's Pending pods are not here)
        self.waiting: dict[tuple[str, str], PodRT] = {}
        self._retry_armed = False
        self.anti_seen = False  # a pod with required anti-affinity was ever scheduled

    # --- retries --------------------------------------------------------------------------
    def soon(self) -> None:
        """Something that frees room happened: try the waiting pods once the change settles."""
        if self.waiting and not self._retry_armed:
            self._retry_armed = True
            self.c.after(0.0, self.retry)

    def retry(self) -> None:
        self._retry_armed = False
        for (ns, name), rt in list(self.waiting.items()):
            self.retry_one(ns, name, rt)

    def retry_one(self, ns: str, name: str, rt: PodRT) -> bool:
        """Place a waiting pod if a node fits now (Scheduled, then its containers start)."""
        c = self.c
        pod = c.store.get("pods", ns, name)
        if pod is None or c.rts.get((ns, name)) is not rt or "_then" not in rt.params:
            self.waiting.pop((ns, name), None)
            return False
        if "deletionTimestamp" in pod["metadata"]:
            return False
        node, why = self.schedule(pod["spec"], ns, pod["metadata"].get("labels") or {})
        if node is None:
            rt.params["message"] = why
            return False
        self.waiting.pop((ns, name), None)
        node_name = node["metadata"]["name"]
        rt.behaviour = rt.params.pop("_then")
        rt.node, rt.creating, rt.started = node_name, True, c.now()
        rt.ip = c.allocate_ip(node)
        rt.params["_host_ip"] = node_ip(node)

        def bind(p: Obj) -> None:
            p["spec"]["nodeName"] = node_name

        c.store.update("pods", ns, name, bind)
        c.refresh_pod(ns, name)
        c.event(
            pod,
            "Normal",
            "Scheduled",
            f"Successfully assigned {ns}/{name} to {node_name}",
            component="default-scheduler",
        )
        c.after(START_DELAY, lambda: c.start_containers(ns, name, rt))
        return True

    def eligible_nodes(self, spec: Obj, *, ignore_conditions: bool = False) -> list[Obj]:
        out = []
        selector = spec.get("nodeSelector") or {}
        tolerations = spec.get("tolerations") or []
        for node in self.c.store.list("nodes"):
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

    def schedule(
        self, spec: Obj, namespace: str = "default", labels: dict[str, str] | None = None
    ) -> tuple[Obj | None, str]:
        """(the node a pod with ``spec`` goes to, "") or (None, the FailedScheduling message).

        The default scheduler's filters in its order: NodeUnschedulable, TaintToleration (NoSchedule
        and NoExecute), NodeAffinity (nodeSelector and required node affinity), NodeResourcesFit
        (requests against allocatable minus the requests of the pods already on the node),
        InterPodAffinity (required pod affinity and anti-affinity by topologyKey, and the
        anti-affinity of the pods already placed), PodTopologySpread (DoNotSchedule constraints).
        Among the nodes that pass, the best by preferred node affinity and pod (anti-)affinity
        weights, then ScheduleAnyway spreading, then the fewest pods."""
        nodes = self.c.store.list("nodes")
        unbound = self.claims_problem(spec, namespace)
        if unbound:
            return None, fit_error(len(nodes), {}, 0, unbound)
        if _required(spec, "podAntiAffinity"):
            self.anti_seen = True  # from now on, placed pods' anti-affinity is looked at
        pod_affinity = PodAffinity(
            self.c,
            spec,
            namespace,
            labels or {},
            nodes,
            existing=self.anti_seen or wants_placed_pods(spec),
        )
        spread = Spread(
            spec,
            namespace,
            labels or {},
            pod_affinity.placed,
            [n["metadata"].get("labels") or {} for n in self.eligible_for_spread(spec, nodes)],
        )
        requests = pod_requests(spec)
        used = self.requested_by_node() if requests else {}
        tolerations = spec.get("tolerations") or []
        reasons: dict[str, int] = {}
        resource_failures = 0
        fits = []
        volumes = self.bound_volumes(spec, namespace)
        for node in nodes:
            why = self.filter(node, spec, tolerations, requests, used)
            if not why:
                why = volume_conflict(volumes, node)
            if not why:
                why = pod_affinity.why_not(node)
            if not why:
                why = spread.why_not(node["metadata"].get("labels") or {})
            if not why:
                fits.append(node)
                continue
            for r in why:
                reasons[r] = reasons.get(r, 0) + 1
            if why[0].startswith("Insufficient") or why[0] in PREEMPTIBLE:
                resource_failures += 1
        if fits:
            load: dict[str, int] = {}
            for rt in self.c.rts.values():
                load[rt.node] = load.get(rt.node, 0) + 1

            def rank(n: Obj) -> tuple[int, int, int, str]:
                name, nl = n["metadata"]["name"], n["metadata"].get("labels") or {}
                return (
                    -preference(spec, namespace, nl, name, pod_affinity.placed),
                    spread.penalty(nl),
                    load.get(name, 0),
                    name,
                )

            return min(fits, key=rank), ""
        return None, fit_error(len(nodes), reasons, resource_failures)

    @staticmethod
    def eligible_for_spread(spec: Obj, nodes: list[Obj]) -> list[Obj]:
        """The nodes whose domains count for spreading: those that pass the pod's nodeSelector
        and required node affinity (``nodeAffinityPolicy: Honor``; taints are ignored)."""
        sel = spec.get("nodeSelector") or {}
        return [
            n
            for n in nodes
            if all((n["metadata"].get("labels") or {}).get(k) == v for k, v in sel.items())
            and affinity_ok(spec, n)
        ]

    def claims_problem(self, spec: Obj, namespace: str) -> str:
        """The VolumeBinding plugin's PreFilter: a claim the pod mounts that does not exist or
        is not bound yet (an immediate-binding class) keeps it off every node."""
        for vol in spec.get("volumes") or ():
            claim = (vol.get("persistentVolumeClaim") or {}).get("claimName")
            if not claim:
                continue
            pvc = self.c.store.get("persistentvolumeclaims", namespace, claim)
            if pvc is None:
                return f'persistentvolumeclaim "{claim}" not found'
            if (pvc.get("status") or {}).get("phase") == "Bound":
                continue
            cls = (pvc.get("spec") or {}).get("storageClassName") or ""
            sc = self.c.store.get("storage.k8s.io/storageclasses", "", cls) if cls else None
            if sc is None or sc.get("volumeBindingMode", "Immediate") == "Immediate":
                return "pod has unbound immediate PersistentVolumeClaims"
        return ""

    def bound_volumes(self, spec: Obj, namespace: str) -> list[Obj]:
        """The PersistentVolumes bound to the claims the pod mounts."""
        out = []
        for vol in spec.get("volumes") or ():
            claim = (vol.get("persistentVolumeClaim") or {}).get("claimName")
            pvc = self.c.store.get("persistentvolumeclaims", namespace, claim) if claim else None
            name = ((pvc or {}).get("spec") or {}).get("volumeName")
            pv = self.c.store.get("persistentvolumes", "", name) if name else None
            if pv is not None:
                out.append(pv)
        return out

    def filter(
        self,
        node: Obj,
        spec: Obj,
        tolerations: list[Obj],
        requests: dict[str, float],
        used: dict[str, dict[str, float]],
    ) -> list[str]:
        """Why ``node`` cannot take the pod (empty: it can), in the scheduler's words."""
        if node["spec"].get("unschedulable"):
            return ["node(s) were unschedulable"]
        for t in node["spec"].get("taints") or []:
            if t.get("effect") in ("NoSchedule", "NoExecute") and not tolerates(tolerations, t):
                return [f"node(s) had untolerated taint {{{t['key']}: {t.get('value', '')}}}"]
        labels = node["metadata"].get("labels") or {}
        if any(labels.get(k) != v for k, v in (spec.get("nodeSelector") or {}).items()):
            return [AFFINITY]
        if not affinity_ok(spec, node):
            return [AFFINITY]
        if not requests:
            return []
        alloc = (
            node.get("status", {}).get("allocatable")
            or node.get("status", {}).get("capacity")
            or {}
        )
        have = used.get(node["metadata"]["name"], {})
        out = []
        for res in sorted(requests):
            free = quantity(res, alloc.get(res, "0")) - have.get(res, 0.0)
            if requests[res] > free:
                out.append(f"Insufficient {res}")
        return out

    def requested_by_node(self) -> dict[str, dict[str, float]]:
        """Sum of the requests of the (non-terminal) pods on each node."""
        out: dict[str, dict[str, float]] = {}
        for pod in self.c.store.list("pods"):
            node = pod["spec"].get("nodeName")
            if not node or (pod.get("status") or {}).get("phase") in ("Succeeded", "Failed"):
                continue
            acc = out.setdefault(node, {})
            for res, v in pod_requests(pod["spec"]).items():
                acc[res] = acc.get(res, 0.0) + v
        return out


ZONE_LABELS = (
    "topology.kubernetes.io/zone",
    "topology.kubernetes.io/region",
    "failure-domain.beta.kubernetes.io/zone",
    "failure-domain.beta.kubernetes.io/region",
)


def volume_conflict(volumes: list[Obj], node: Obj) -> list[str]:
    """VolumeBinding's and VolumeZone's filters: a bound volume's required node affinity, and
    its zone or region labels, against the node's labels."""
    labels = node["metadata"].get("labels") or {}
    for pv in volumes:
        required = ((pv.get("spec") or {}).get("nodeAffinity") or {}).get("required")
        if required:
            as_pod = {"affinity": {"nodeAffinity": {REQUIRED: required}}}
            if not affinity_ok(as_pod, node):
                return ["node(s) had volume node affinity conflict"]
    for pv in volumes:
        pv_labels = pv["metadata"].get("labels") or {}
        for key in ZONE_LABELS:
            if key in pv_labels and labels.get(key) not in pv_labels[key].split("__"):
                return ["node(s) had no available volume zone"]
    return []


REQUIRED = "requiredDuringSchedulingIgnoredDuringExecution"
AFFINITY = "node(s) didn't match Pod's node affinity/selector"
POD_AFFINITY = "node(s) didn't match pod affinity rules"
POD_ANTI_AFFINITY = "node(s) didn't match pod anti-affinity rules"
EXISTING_ANTI_AFFINITY = "node(s) didn't satisfy existing pods anti-affinity rules"
#: failures that evicting pods could cure (the postscript says no victims were found)
PREEMPTIBLE = (POD_ANTI_AFFINITY, EXISTING_ANTI_AFFINITY, SPREAD)


def _term_selects(term: Obj, labels: dict[str, str]) -> bool:
    """An affinity term's labelSelector (a term without one matches no pod)."""
    sel = term.get("labelSelector")
    return sel is not None and selector_matches(sel, labels)


def _required(spec: Obj, kind: str) -> list[Obj]:
    return list(
        ((spec.get("affinity") or {}).get(kind) or {}).get(
            "requiredDuringSchedulingIgnoredDuringExecution"
        )
        or []
    )


class PodAffinity:
    """The InterPodAffinity filter for one pod: its required (anti-)affinity terms against the
    placed pods' topology domains (``topologyKey`` label of their nodes), and the placed pods'
    own anti-affinity against it."""

    def __init__(
        self,
        c: Cluster,
        spec: Obj,
        ns: str,
        labels: dict[str, str],
        nodes: list[Obj],
        *,
        existing: bool,
    ) -> None:
        self.ns, self.labels = ns, labels
        self.affinity = _required(spec, "podAffinity")
        self.anti = _required(spec, "podAntiAffinity")
        self.node_labels = {n["metadata"]["name"]: n["metadata"].get("labels") or {} for n in nodes}
        self.placed: list[tuple[Obj, dict[str, str]]] = []
        if not (self.affinity or self.anti or existing):
            return  # nothing to look at: no scan of the pods
        for pod in c.store.list("pods"):
            node = pod["spec"].get("nodeName")
            if not node or "deletionTimestamp" in pod["metadata"]:
                continue
            if (pod.get("status") or {}).get("phase") in ("Succeeded", "Failed"):
                continue
            self.placed.append((pod, self.node_labels.get(node, {})))

    def _matching(self, term: Obj) -> list[tuple[Obj, dict[str, str]]]:
        namespaces = term.get("namespaces") or ([] if term.get("namespaceSelector") else [self.ns])
        return [
            (p, nl)
            for p, nl in self.placed
            if (not namespaces or p["metadata"].get("namespace") in namespaces)
            and _term_selects(term, p["metadata"].get("labels") or {})
        ]

    def why_not(self, node: Obj) -> list[str]:
        labels = node["metadata"].get("labels") or {}
        for term in self.affinity:
            key = term.get("topologyKey", "")
            matching = self._matching(term)
            if key not in labels:
                return [POD_AFFINITY]
            if not matching and _term_selects(term, self.labels):
                continue  # the first pod of a group that wants to be together
            if not any(nl.get(key) == labels[key] for _, nl in matching):
                return [POD_AFFINITY]
        for term in self.anti:
            key = term.get("topologyKey", "")
            if key in labels and any(nl.get(key) == labels[key] for _, nl in self._matching(term)):
                return [POD_ANTI_AFFINITY]
        for pod, nl in self.placed:
            for term in _required(pod["spec"], "podAntiAffinity"):
                key = term.get("topologyKey", "")
                namespaces = term.get("namespaces") or [pod["metadata"].get("namespace")]
                if (
                    self.ns in namespaces
                    and _term_selects(term, self.labels)
                    and key in labels
                    and nl.get(key) == labels[key]
                ):
                    return [EXISTING_ANTI_AFFINITY]
        return []


def quantity(resource: str, value: Any) -> float:
    if resource == "cpu":
        return cpu_millis(value)
    return mem_bytes(value)


def pod_requests(spec: Obj) -> dict[str, float]:
    """The pod's requests (a limit stands for a missing request, as the API server defaults)."""
    out: dict[str, float] = {}
    for c in spec.get("containers") or ():
        res = c.get("resources") or {}
        req = {**(res.get("limits") or {}), **(res.get("requests") or {})}
        for k, v in req.items():
            out[k] = out.get(k, 0.0) + quantity(k, v)
    return {k: v for k, v in out.items() if v > 0}


def affinity_ok(spec: Obj, node: Obj) -> bool:
    """requiredDuringSchedulingIgnoredDuringExecution: any term, each with all its expressions."""
    required = ((spec.get("affinity") or {}).get("nodeAffinity") or {}).get(
        "requiredDuringSchedulingIgnoredDuringExecution"
    ) or {}
    terms = required.get("nodeSelectorTerms") or []
    if not terms:
        return True
    labels = node["metadata"].get("labels") or {}
    return any(node_term_ok(t, labels, node["metadata"]["name"]) for t in terms)


def fit_error(total: int, reasons: dict[str, int], resource_failures: int, pre: str = "") -> str:
    """The scheduler's FitError text, with its preemption postscript; ``pre``: a PreFilter's
    reason, which holds for every node."""
    if total == 0:
        return "no nodes available to schedule pods"
    parts = [pre] if pre else sorted(f"{n} {r}" for r, n in reasons.items())
    msg = f"0/{total} nodes are available: {', '.join(parts)}."
    post = []
    if resource_failures:
        post.append(f"{resource_failures} No preemption victims found for incoming pod")
    if total - resource_failures:
        post.append(f"{total - resource_failures} Preemption is not helpful for scheduling")
    return f"{msg} preemption: 0/{total} nodes are available: {', '.join(sorted(post))}."
