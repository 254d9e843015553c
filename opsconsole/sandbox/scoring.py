"""The default scheduler's spreading and preferences for one pod: the PodTopologySpread filter
(``whenUnsatisfiable: DoNotSchedule``) and the scores that choose among the nodes that pass
every filter (preferred node affinity, preferred pod affinity and anti-affinity,
``ScheduleAnyway`` spread constraints)."""

from __future__ import annotations

from .selectors import node_term_ok, selector_matches
from .store import Obj

SPREAD = "node(s) didn't match pod topology spread constraints"
SPREAD_MISSING = "node(s) didn't match pod topology spread constraints (missing required label)"

Placed = list[tuple[Obj, dict[str, str]]]  # (pod, labels of its node)


def wants_placed_pods(spec: Obj) -> bool:
    """Whether this pod's spreading or preferences look at the pods already placed."""
    aff = spec.get("affinity") or {}
    return bool(
        spec.get("topologySpreadConstraints")
        or (aff.get("podAffinity") or {}).get("preferredDuringSchedulingIgnoredDuringExecution")
        or (aff.get("podAntiAffinity") or {}).get("preferredDuringSchedulingIgnoredDuringExecution")
    )


class Spread:
    """The pod's topologySpreadConstraints: matching pods (same namespace, the constraint's
    selector) counted per topology domain of the nodes that pass its node affinity."""

    def __init__(
        self,
        spec: Obj,
        ns: str,
        labels: dict[str, str],
        placed: Placed,
        domains_from: list[dict[str, str]],
    ) -> None:
        self.hard: list[tuple[Obj, dict[str, int], int]] = []
        self.soft: list[tuple[Obj, dict[str, int]]] = []
        for c in spec.get("topologySpreadConstraints") or ():
            key = c.get("topologyKey", "")
            sel = c.get("labelSelector")
            counts = {nl[key]: 0 for nl in domains_from if key in nl}
            for pod, nl in placed:
                if (
                    pod["metadata"].get("namespace") == ns
                    and key in nl
                    and nl[key] in counts
                    and sel is not None
                    and selector_matches(sel, pod["metadata"].get("labels") or {})
                ):
                    counts[nl[key]] += 1
            if c.get("whenUnsatisfiable", "DoNotSchedule") == "DoNotSchedule":
                self.hard.append(
                    (c, counts, int(sel is not None and selector_matches(sel, labels)))
                )
            else:
                self.soft.append((c, counts))

    def why_not(self, node_labels: dict[str, str]) -> list[str]:
        for c, counts, self_match in self.hard:
            value = node_labels.get(c.get("topologyKey", ""))
            if value is None:
                return [SPREAD_MISSING]
            low = min(counts.values()) if counts else 0
            if counts.get(value, 0) + self_match - low > int(c.get("maxSkew", 1)):
                return [SPREAD]
        return []

    def penalty(self, node_labels: dict[str, str]) -> int:
        """The soft constraints' count of matching pods in the node's domains (lower wins)."""
        return sum(
            counts.get(node_labels.get(c.get("topologyKey", ""), ""), 0) for c, counts in self.soft
        )


def preference(
    spec: Obj, ns: str, node_labels: dict[str, str], node_name: str, placed: Placed
) -> int:
    """The weights of the pod's preferred terms that this node satisfies (anti-affinity
    subtracts): higher wins."""
    aff = spec.get("affinity") or {}
    score = 0
    for t in (aff.get("nodeAffinity") or {}).get(
        "preferredDuringSchedulingIgnoredDuringExecution"
    ) or ():
        if node_term_ok(t.get("preference") or {}, node_labels, node_name):
            score += int(t.get("weight", 0))
    for kind, sign in (("podAffinity", 1), ("podAntiAffinity", -1)):
        for t in (aff.get(kind) or {}).get("preferredDuringSchedulingIgnoredDuringExecution") or ():
            term = t.get("podAffinityTerm") or {}
            key, sel = term.get("topologyKey", ""), term.get("labelSelector")
            if key not in node_labels or sel is None:  # a term without a selector matches none
                continue
            namespaces = term.get("namespaces") or [ns]
            if any(
                nl.get(key) == node_labels[key]
                and pod["metadata"].get("namespace") in namespaces
                and selector_matches(sel, pod["metadata"].get("labels") or {})
                for pod, nl in placed
            ):
                score += sign * int(t.get("weight", 0))
    return score
