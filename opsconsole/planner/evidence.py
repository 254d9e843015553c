"""Picking evidence out of tool outputs for the offline planner's answers.

Pure text functions: error-looking lines, the log lines inside ``<untrusted-log>`` blocks,
the telling lines of a ``describe_pod`` output for a given cause, and the link between a
missing environment variable in the logs and where the pod spec says it comes from.
"""

from __future__ import annotations

import re

_EVIDENCE_RE = re.compile(
    r"(error|exception|traceback|fatal|panic|failed|refused|denied|invalid|missing|"
    r"not found|no such|cannot|can't|unable|killed|oom|back-?off|crashloop|insufficient|"
    r"unschedul|pressure|notready|not ready|unavailable|exit ?code|warning|timeout|"
    r"timed out|no endpoints|matches no|pull|pending|keyerror|valueerror|unreachable)",
    re.I,
)


def evidence_lines(text: str, *, limit: int = 6, must: str | None = None) -> list[str]:
    """The lines of a tool output that look like evidence, in order, deduplicated."""
    out: list[str] = []
    for raw in text.splitlines():
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


_LOG_OPEN_RE = re.compile(r"^<untrusted-log\b(?P<attrs>[^>]*)>\s*$")
_LOG_NOTE = "(log data from the cluster"


def log_body(text: str) -> list[tuple[bool, str]]:
    """(previous?, line) for the log lines inside ``<untrusted-log ...>`` blocks.

    Outputs without such blocks (other log tools, canned tests) count as one current block.
    """
    out: list[tuple[bool, str]] = []
    inside = False
    previous = False
    saw_block = False
    for raw in text.splitlines():
        line = raw.rstrip()
        m = _LOG_OPEN_RE.match(line.strip())
        if m:
            inside, saw_block = True, True
            previous = "previous=true" in m.group("attrs")
            continue
        if line.strip() == "</untrusted-log>":
            inside = False
            continue
        if inside and not line.startswith(_LOG_NOTE) and line.strip() != "(empty)":
            out.append((previous, line))
    if not saw_block:
        out = [(False, ln.rstrip()) for ln in text.splitlines() if ln.strip()]
    return out


# --- describe_pod ----------------------------------------------------------------------------

_DESCRIBE_ALWAYS = ("Status:", "Reason:", "Exit Code:", "Message:")
_DESCRIBE_BY_CAUSE = {
    "oom": ("Limits:", "Exit Code:"),
    "crashloop": ("Last State:", "Exit Code:"),
    "error": ("Last State:", "Exit Code:"),
    "unschedulable": ("Requests:", "Node:"),
    "gpu": ("Requests:", "Limits:", "Node-Selectors:", "Tolerations:", "Node:"),
    "readiness": ("Readiness:", "Conditions:"),
    "liveness": ("Liveness:",),
    "image": ("Image:",),
    "unavailable": ("Conditions:",),
    "node": ("Node:",),
    "healthy": ("Node:", "Requests:", "Limits:"),
    "endpoints": ("Labels:",),
}


def describe_evidence(text: str, cause_key: str | None, *, limit: int = 8) -> list[str]:
    """The telling lines of a ``describe_pod`` output for the given cause, best first.

    First the lines that prove the cause (limits for OOM, requests for scheduling and GPUs,
    the probe for readiness, the image for pulls), then the container state, reasons and exit
    codes, the pod status, a non-zero restart count, Warning events, and last the messages.
    """
    extra = _DESCRIBE_BY_CAUSE.get(cause_key or "", ())
    specific: list[str] = []
    state: list[str] = []
    events: list[str] = []
    messages: list[str] = []
    in_events = False
    for raw in text.splitlines():
        line = raw.strip()
        if not line:
            continue
        if line.startswith("Events"):
            in_events = True
            continue
        if in_events:
            if line.startswith("Warning"):
                events.append(line)
            continue
        if extra and line.startswith(extra):
            specific.append(line)
        elif line.startswith("State:") and not line.endswith("Running"):
            state.append(line)
        elif line.startswith("Last State:") and "Terminated" in line:
            state.append(line)
        elif line.startswith(("Reason:", "Exit Code:", "Status:")):
            state.append(line)
        elif line.startswith("Restart Count:") and line != "Restart Count: 0":
            state.append(line)
        elif line.startswith("Message:"):
            messages.append(line)
    out: list[str] = []
    for line in specific + state + events[-2:] + messages:
        if line not in out:
            out.append(line[:300])
    return out[:limit]


# --- environment variables ----------------------------------------------------------------

_MISSING_VAR_RES = (
    re.compile(r"KeyError: '([A-Z][A-Z0-9_]{2,})'"),
    re.compile(r"(?:environment variable|env var|env)\s+['\"]?([A-Z][A-Z0-9_]{2,})['\"]?", re.I),
    re.compile(
        r"['\"]?([A-Z][A-Z0-9_]{2,})['\"]?\s+(?:is not set|not set|is missing|missing|"
        r"is required|required)"
    ),
)
_ENV_FROM_RE = re.compile(
    r"^([A-Z][A-Z0-9_]*) \(from (configmap|secret) ([a-z0-9.-]+), key ([A-Za-z0-9._-]+)\)"
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


def env_source(describe_text: str, var: str) -> tuple[str, str, str, str] | None:
    """(line, kind, name, key) when the pod spec takes ``var`` from a ConfigMap or Secret."""
    for raw in describe_text.splitlines():
        line = raw.strip()
        m = _ENV_FROM_RE.match(line)
        if m and m.group(1) == var:
            return line, m.group(2), m.group(3), m.group(4)
    return None


# --- services ---------------------------------------------------------------------------

_SVC_HOST_RE = re.compile(
    r"\b([a-z0-9](?:[a-z0-9-]*[a-z0-9])?)\.([a-z0-9](?:[a-z0-9-]*[a-z0-9])?)\.svc\b"
)
_SELECTOR_RE = re.compile(r"selector (\S+) matches no pod")


def service_hosts(text: str) -> list[tuple[str, str]]:
    """(namespace, service) for every ``name.namespace.svc`` host named in the text."""
    out: list[tuple[str, str]] = []
    if ".svc" not in text:
        return out
    lines = "\n".join(ln for ln in text.splitlines() if ".svc" in ln)
    for m in _SVC_HOST_RE.finditer(lines):
        key = (m.group(2), m.group(1))
        if key not in out:
            out.append(key)
    return out


def selector_mismatch(evidence: str, describe_text: str) -> tuple[str, str] | None:
    """(selector, the pod's conflicting label) when a selector's key has another value."""
    m = _SELECTOR_RE.search(evidence)
    if not m:
        return None
    selector = m.group(1)
    wanted = dict(p.split("=", 1) for p in selector.split(",") if "=" in p)
    for raw in describe_text.splitlines():
        line = raw.strip()
        if not line.startswith("Labels:"):
            continue
        labels = dict(
            p.strip().split("=", 1) for p in line[len("Labels:") :].split(",") if "=" in p
        )
        for k, v in wanted.items():
            if k in labels and labels[k] != v:
                return selector, f"{k}={labels[k]}"
    return None


# --- GPUs -----------------------------------------------------------------------------------

_GPU_RE = re.compile(r"nvidia\.com/gpu=(\d+)")


def gpu_nodes(nodes_text: str) -> list[tuple[str, str]]:
    """(node name, its row) for the nodes of a ``get_nodes`` output with GPU capacity."""
    out = []
    for line in nodes_text.splitlines()[2:]:
        cols = re.split(r"\s{2,}", line.strip())
        if len(cols) >= 8 and cols[7].isdigit() and int(cols[7]) > 0:
            out.append((cols[0], line.strip()))
    return out


def pods_on_nodes(
    namespace: str, pods_text: str, nodes: set[str]
) -> list[tuple[str, str, str, str]]:
    """(namespace, pod, node, status) for the rows of a ``get_k8s_pods`` output on ``nodes``."""
    out = []
    for line in pods_text.splitlines()[2:]:
        cols = re.split(r"\s{2,}", line.strip())
        if len(cols) >= 5 and cols[4] in nodes:
            out.append((namespace, cols[0], cols[4], cols[1]))
    return out


def gpu_request(describe_text: str) -> int:
    """The GPUs a described pod requests (its Requests, else its Limits lines), summed."""
    for prefix in ("Requests:", "Limits:"):
        lines = [ln for ln in describe_text.splitlines() if ln.strip().startswith(prefix)]
        found = [int(n) for ln in lines for n in _GPU_RE.findall(ln)]
        if found:
            return sum(found)
    return 0
