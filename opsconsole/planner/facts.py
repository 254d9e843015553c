"""What the tools said, read from their data (:mod:`opsconsole.k8s.tools` documents it).

Pure functions over :class:`~opsconsole.planner.observations.Observation`: the analyzers'
findings, the names seen (namespaces, pods, deployments, nodes), the rows of listings, the
lines of a pod's logs and of its description, and whether a failure means the cluster cannot
be used at all (by its error code). Nothing here reads a tool's text.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from opsconsole.planner.observations import Observation
from opsconsole.planner.slots import Known

#: error codes that mean the cluster cannot be talked to at all, by the kind of answer
CONNECTIVITY = {
    "unreachable": "unreachable",
    "cluster_timeout": "unreachable",
    "no_cluster": "no_cluster",
    "auth": "auth",
}
#: the listings whose rows are pods, and the tools whose data has findings
POD_LISTINGS = ("get_k8s_pods",)
SCANS = ("find_unhealthy_pods", "find_security_issues")


@dataclass(frozen=True)
class Finding:
    severity: str
    reason: str
    kind: str  # pod | node | deployment | service | ...
    namespace: str | None
    name: str
    #: the evidence, one line ("e1; e2")
    evidence: str
    #: the finding as the tool shows it
    line: str
    suggestion: str = ""
    #: the finding without its suggestion, as the tool shows it: what to quote as evidence
    quote: str = ""
    #: structured details (a Service's ``selector``)
    facts: dict[str, Any] = field(default_factory=dict)

    @property
    def ref(self) -> str:
        return f"{self.namespace}/{self.name}" if self.namespace else self.name


def finding_of(d: dict[str, Any]) -> Finding:
    """A finding from the data of ``find_unhealthy_pods`` / ``find_security_issues``."""
    evidence = d.get("evidence") or []
    if isinstance(evidence, list):
        text = "; ".join(str(e).replace("\n", " ") for e in evidence) or "-"
    else:
        text = str(evidence)
    facts = d.get("facts")
    return Finding(
        severity=str(d.get("severity") or ""),
        reason=str(d.get("reason") or ""),
        kind=str(d.get("kind") or "pod"),
        namespace=str(d["namespace"]) if d.get("namespace") else None,
        name=str(d.get("name") or ""),
        evidence=text,
        line=str(d.get("line") or ""),
        suggestion=str(d.get("suggestion") or ""),
        quote=str(d.get("quote") or d.get("line") or ""),
        facts=facts if isinstance(facts, dict) else {},
    )


def findings_in(obs: Observation) -> list[Finding]:
    raw = obs.data.get("findings")
    if obs.failed or not isinstance(raw, list):
        return []
    return [finding_of(d) for d in raw if isinstance(d, dict)]


def all_findings(observations: list[Observation]) -> list[Finding]:
    """The findings of every scan, each once (the same finding seen again is dropped)."""
    seen: set[tuple[str, ...]] = set()
    out: list[Finding] = []
    for obs in observations:
        for f in findings_in(obs):
            key = (f.line,) if f.line else (f.kind, f.ref, f.reason, f.evidence)
            if key not in seen:
                seen.add(key)
                out.append(f)
    return out


def connectivity_error(obs: Observation) -> str | None:
    """ "unreachable", "no_cluster" or "auth" when the call failed because the cluster cannot
    be used at all."""
    return CONNECTIVITY.get(obs.error_code or "") if obs.failed else None


def is_forbidden(obs: Observation) -> bool:
    return obs.error_code == "forbidden"


# --- names ---------------------------------------------------------------------------------


def _namespace_of(obs: Observation) -> str | None:
    ns = obs.args.get("namespace")
    return str(ns) if isinstance(ns, str) and ns and ns not in ("all", "*") else None


def known_names(observations: list[Observation]) -> Known:
    namespaces: set[str] = set()
    pods: set[tuple[str, str]] = set()
    deployments: set[tuple[str, str]] = set()
    nodes: set[str] = set()
    for obs in observations:
        ns = _namespace_of(obs)
        if ns:
            namespaces.add(ns)
        if obs.failed:
            continue
        for item in obs.items:
            name, item_ns = str(item.get("name") or ""), str(item.get("namespace") or ns or "")
            if not name:
                continue
            if obs.name in POD_LISTINGS and item_ns:
                pods.add((item_ns, name))
                namespaces.add(item_ns)
            elif obs.name == "get_deployments" and item_ns:
                deployments.add((item_ns, name))
                namespaces.add(item_ns)
            elif obs.name == "get_nodes":
                nodes.add(name)
        if obs.name in ("describe_pod", "get_pod_logs") and ns and obs.args.get("pod_name"):
            pods.add((ns, str(obs.args["pod_name"])))
        for f in findings_in(obs):
            if f.kind == "pod" and f.namespace:
                pods.add((f.namespace, f.name))
            elif f.kind == "deployment" and f.namespace:
                deployments.add((f.namespace, f.name))
            elif f.kind == "node":
                nodes.add(f.name)
            if f.namespace:
                namespaces.add(f.namespace)
    namespaces.discard("")
    return Known(
        namespaces=frozenset(namespaces),
        pods=frozenset(pods),
        deployments=frozenset(deployments),
        nodes=frozenset(nodes),
    )


def match_pods(target: str, known: Known, namespace: str | None = None) -> list[tuple[str, str]]:
    """Pods whose name is ``target``, or starts with ``target-``, or contains it; best first."""
    pods = sorted(p for p in known.pods if namespace is None or p[0] == namespace)
    exact = [p for p in pods if p[1] == target]
    if exact:
        return exact
    prefix = [p for p in pods if p[1].startswith(target + "-")]
    if prefix:
        return prefix
    return [p for p in pods if target in p[1]]


# --- listings ------------------------------------------------------------------------------


def all_namespaces(obs: Observation) -> bool:
    """The listing covers every namespace (its rows then show ``ns/name``)."""
    return not obs.data.get("namespace")


def shown_name(obs: Observation, item: dict[str, Any]) -> str:
    """A row's name as the listing shows it: ``ns/name`` in an all-namespace listing."""
    name = str(item.get("name") or "")
    ns = item.get("namespace")
    if ns and obs.name != "get_nodes" and all_namespaces(obs):
        return f"{ns}/{name}"
    return name


def pod_row(obs: Observation, pod: str) -> dict[str, Any] | None:
    """The row of ``pod`` in a pod listing, if it has one."""
    return next((i for i in obs.items if i.get("name") == pod), None)


def lines_of(obs: Observation) -> list[str]:
    """How the observation reads to a person, line by line, from its data: a listing's
    summary, column header and rows; a scan's summary and findings; a change's message; a
    pod's log lines or description."""
    d = obs.data
    out: list[str] = [str(d["summary"])] if d.get("summary") else []
    if d.get("empty") and not obs.items and not d.get("findings"):
        return out + [str(d["empty"])]
    if obs.items:
        if d.get("columns"):
            out.append(str(d["columns"]))
        return out + [str(i.get("line") or "") for i in obs.items]
    if obs.name in SCANS:
        return out + [f.line for f in findings_in(obs)]
    if "message" in d:
        return str(d["message"]).splitlines()
    if obs.name == "describe_pod":
        return [line["text"] for line in describe_lines(obs)]
    if obs.name == "get_pod_logs":
        return [line for _, line in log_body(obs)]
    return out


# --- a pod's logs and description -----------------------------------------------------------


def log_body(obs: Observation) -> list[tuple[bool, str]]:
    """(previous?, line) for the log lines of a ``get_pod_logs`` result; a container that
    never started has the tool's message instead."""
    d = obs.data
    if d.get("no_logs"):
        return [(False, str(d.get("message") or ""))]
    out = [(False, str(line)) for line in d.get("current") or []]
    out += [(True, str(line)) for line in d.get("previous") or []]
    return out


def log_notes(obs: Observation, *kinds: str) -> list[str]:
    """The notes of a log read (``previous``: the restart it follows, ``truncated``,
    ``previous_unavailable``), in order; only ``kinds`` when given."""
    notes = obs.data.get("notes") or []
    return [
        str(n.get("text") or "")
        for n in notes
        if isinstance(n, dict) and (not kinds or n.get("kind") in kinds)
    ]


def describe_lines(obs: Observation) -> list[dict[str, str]]:
    """The lines of a ``describe_pod`` result: ``{"key", "value", "text"}`` in order."""
    lines = obs.data.get("lines") or []
    return [line for line in lines if isinstance(line, dict) and "text" in line]


def containers(obs: Observation) -> list[dict[str, Any]]:
    rows = obs.data.get("containers") or []
    return [c for c in rows if isinstance(c, dict)]


def pod_events(obs: Observation) -> list[dict[str, Any]]:
    rows = obs.data.get("events") if obs.name == "describe_pod" else None
    return [e for e in rows or [] if isinstance(e, dict)]


def labels_of(obs: Observation) -> dict[str, str]:
    labels = obs.data.get("labels")
    return {str(k): str(v) for k, v in labels.items()} if isinstance(labels, dict) else {}


# --- failures and names ---------------------------------------------------------------


def error_text(obs: Observation) -> str:
    """Why the call failed, as its error says (or its status when it says nothing)."""
    return obs.error.strip() or obs.status


def deployment_of(pod: str) -> str:
    """``api-7d9f8c6b5-x2k4q`` -> ``api`` (the usual ReplicaSet pod naming); else the name."""
    parts = pod.split("-")
    if len(parts) >= 3 and len(parts[-1]) == 5 and 6 <= len(parts[-2]) <= 10:
        return "-".join(parts[:-2])
    return pod
