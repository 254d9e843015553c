"""Picking evidence for the offline planner's answers out of what the tools returned (data).

Error-looking lines among the cluster's own text (log lines, messages), the telling lines of a
pod's description for a given cause (by the field each line shows), the link between a missing
environment variable in the logs and where the pod spec says it comes from, the Services a
pod talks to, a Service's selector against a pod's labels, and GPU capacity and requests.
"""

from __future__ import annotations

import re

from opsconsole.planner.facts import (
    Finding,
    containers,
    describe_lines,
    labels_of,
    pod_events,
)
from opsconsole.planner.observations import Observation

GPU = "nvidia.com/gpu"

_EVIDENCE_RE = re.compile(
    r"(error|exception|traceback|fatal|panic|failed|refused|denied|invalid|missing|"
    r"not found|no such|cannot|can't|unable|killed|oom|back-?off|crashloop|insufficient|"
    r"unschedul|pressure|notready|not ready|unavailable|exit ?code|warning|timeout|"
    r"timed out|no endpoints|matches no|pull|pending|keyerror|valueerror|unreachable)",
    re.I,
)


def evidence_lines(lines: list[str], *, limit: int = 6, must: str | None = None) -> list[str]:
    """The lines that look like evidence, in order, deduplicated."""
    out: list[str] = []
    for raw in lines:
        line = raw.strip()
        if not line or len(line) < 4 or line.startswith(("<", "```")):
            continue
        if must and must not in line:
            continue
        if _EVIDENCE_RE.search(line) and line not in out:
            out.append(line[:300])
            if len(out) >= limit:
                break
    return out


# --- describe_pod ----------------------------------------------------------------------------

#: the fields of a description that prove each cause (limits for OOM, requests for scheduling
#: and GPUs, the probe for readiness, the image for pulls)
_DESCRIBE_BY_CAUSE = {
    "oom": ("Limits", "Exit Code"),
    "crashloop": ("Last State", "Exit Code"),
    "error": ("Last State", "Exit Code"),
    "unschedulable": ("Requests", "Node"),
    "gpu": ("Requests", "Limits", "Node-Selectors", "Tolerations", "Node"),
    "readiness": ("Readiness", "Conditions"),
    "liveness": ("Liveness",),
    "image": ("Image",),
    "unavailable": ("Conditions",),
    "node": ("Node",),
    "healthy": ("Node", "Requests", "Limits"),
    "endpoints": ("Labels",),
}


def describe_evidence(
    obs: Observation, cause_key: str | None, *, limit: int = 8, skip: tuple[str, ...] = ()
) -> list[str]:
    """The telling lines of a ``describe_pod`` result for the given cause, best first.

    First the lines that prove the cause, then the container state, reasons and exit codes,
    the pod status, a non-zero restart count, the last two Warning events, and last the
    messages. ``skip``: fields left out.
    """
    extra = _DESCRIBE_BY_CAUSE.get(cause_key or "", ())
    specific: list[str] = []
    state: list[str] = []
    messages: list[str] = []
    for row in describe_lines(obs):
        key, value, text = row.get("key", ""), row.get("value", ""), row["text"]
        if key in ("Events", "event") or key in skip:
            continue
        if key in extra:
            specific.append(text)
        elif key == "State" and value != "Running":
            state.append(text)
        elif key == "Last State" and "Terminated" in value:
            state.append(text)
        elif key in ("Reason", "Exit Code", "Status"):
            state.append(text)
        elif key == "Restart Count" and value != "0":
            state.append(text)
        elif key == "Message":
            messages.append(text)
    events = [str(e.get("line") or "") for e in pod_events(obs) if e.get("type") == "Warning"]
    out: list[str] = []
    for shown in specific + state + events[-2:] + messages:
        if shown not in out:
            out.append(shown[:300])
    return out[:limit]


def field_lines(obs: Observation, *keys: str) -> list[str]:
    """The description's lines that show one of ``keys`` (e.g. "Node", "Limits")."""
    return [line["text"] for line in describe_lines(obs) if line.get("key") in keys]


def field_value(obs: Observation, key: str) -> str | None:
    return next((line.get("value") for line in describe_lines(obs) if line.get("key") == key), None)


# --- environment variables ----------------------------------------------------------------

_MISSING_VAR_RES = (
    re.compile(r"KeyError: '([A-Z][A-Z0-9_]{2,})'"),
    re.compile(r"(?:environment variable|env var|env)\s+['\"]?([A-Z][A-Z0-9_]{2,})['\"]?", re.I),
    re.compile(
        r"['\"]?([A-Z][A-Z0-9_]{2,})['\"]?\s+(?:is not set|not set|is missing|missing|"
        r"is required|required)"
    ),
)


def missing_variable(line: str | None) -> str | None:
    """The environment variable a log line says is missing (``KeyError: 'X'`` ...)."""
    if not line:
        return None
    for rx in _MISSING_VAR_RES:
        m = rx.search(line)
        if m:
            return m.group(1)
    return None


def env_source(obs: Observation, var: str) -> tuple[str, str, str, str] | None:
    """(line, kind, name, key) when the described pod takes ``var`` from a ConfigMap or a
    Secret (kind: configmap | secret)."""
    for c in containers(obs):
        for e in c.get("env") or []:
            if not isinstance(e, dict) or e.get("name") != var:
                continue
            if e.get("from") in ("configmap", "secret") and e.get("source") and e.get("key"):
                return str(e["text"]), str(e["from"]), str(e["source"]), str(e["key"])
    return None


def spec_strings(obs: Observation) -> list[str]:
    """The strings of a described pod's spec that can name other services: env values,
    commands and arguments."""
    out: list[str] = []
    for c in containers(obs):
        out += [str(e.get("value")) for e in c.get("env") or [] if isinstance(e, dict)]
        out += [str(x) for x in (c.get("command") or []) + (c.get("args") or [])]
    return [s for s in out if s and s != "None"]


# --- services ---------------------------------------------------------------------------

_SVC_HOST_RE = re.compile(
    r"\b([a-z0-9](?:[a-z0-9-]*[a-z0-9])?)\.([a-z0-9](?:[a-z0-9-]*[a-z0-9])?)\.svc\b"
)


def service_hosts(lines: list[str]) -> list[tuple[str, str]]:
    """(namespace, service) for every ``name.namespace.svc`` host named in the lines."""
    out: list[tuple[str, str]] = []
    for line in lines:
        if ".svc" not in line:
            continue
        for m in _SVC_HOST_RE.finditer(line):
            key = (m.group(2), m.group(1))
            if key not in out:
                out.append(key)
    return out


def selector_mismatch(finding: Finding, described: Observation) -> tuple[str, str] | None:
    """(selector, the pod's conflicting label) when a label of the Service's selector has
    another value on the described pod."""
    wanted = finding.facts.get("selector")
    if not isinstance(wanted, dict) or not wanted:
        return None
    labels = labels_of(described)
    for k, v in wanted.items():
        if k in labels and labels[k] != str(v):
            selector = ",".join(f"{key}={val}" for key, val in wanted.items())
            return selector, f"{k}={labels[k]}"
    return None


# --- GPUs -----------------------------------------------------------------------------------


def gpu_nodes(nodes: Observation) -> list[tuple[str, str]]:
    """(node name, its row) for the nodes of a ``get_nodes`` result with GPU capacity."""
    out = []
    for item in nodes.items:
        gpus = item.get("gpu")
        if isinstance(gpus, int) and gpus > 0:
            out.append((str(item.get("name")), str(item.get("line") or "")))
    return out


def gpu_capacity(nodes: Observation) -> int:
    return sum(g for i in nodes.items if isinstance(g := i.get("gpu"), int) and g > 0)


def pods_on_nodes(pods: Observation, nodes: set[str]) -> list[tuple[str, str, str, str]]:
    """(namespace, pod, node, status) for the pods of a ``get_k8s_pods`` result on ``nodes``."""
    namespace = str(pods.args.get("namespace", ""))
    return [
        (namespace, str(i.get("name")), str(i.get("node")), str(i.get("status")))
        for i in pods.items
        if i.get("node") in nodes
    ]


def gpu_request(described: Observation) -> int:
    """The GPUs a described pod requests (its containers' requests, else their limits)."""
    for key in ("requests", "limits"):
        found = [
            int(v)
            for c in containers(described)
            if isinstance(c.get(key), dict) and str(v := c[key].get(GPU, "")).isdigit()
        ]
        if found:
            return sum(found)
    return 0
