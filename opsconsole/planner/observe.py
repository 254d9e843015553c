"""Reading observations for the offline planner: the text the tools returned.

Pure functions over the OpenAI-format transcript: which tool calls were made after the latest
user message and what they returned, the names (namespaces, pods, deployments, nodes) seen in
any observation, the analyzers' ``FINDING`` lines, and the lines worth quoting as evidence.
Root causes are recognised by keyword into a small set of categories.
"""

from __future__ import annotations

import functools
import json
import re
from dataclasses import dataclass, field
from typing import Any

from opsconsole.planner.intents import Known

_NAME = r"[a-z0-9](?:[a-z0-9.-]{0,251}[a-z0-9])?"


@dataclass(frozen=True)
class Observation:
    call_id: str
    name: str
    args: dict[str, Any]
    content: str


@dataclass(frozen=True)
class Finding:
    severity: str
    reason: str
    kind: str  # pod | node | deployment | service | ...
    namespace: str | None
    name: str
    evidence: str
    line: str
    fields: dict[str, str] = field(default_factory=dict)
    suggestion: str = ""

    @property
    def ref(self) -> str:
        return f"{self.namespace}/{self.name}" if self.namespace else self.name


@dataclass
class Transcript:
    task: str
    #: observations after the latest user message, in call order
    current: list[Observation]
    #: observations from earlier turns of the conversation
    earlier: list[Observation]
    #: assistant messages after the latest user message (= steps already taken)
    steps: int
    #: tool calls made anywhere in the conversation (for unique call ids)
    total_calls: int
    #: the default namespace the system prompt names, if any
    default_namespace: str | None = None
    #: the kube context the system prompt names, if any
    context: str | None = None

    @property
    def all(self) -> list[Observation]:
        return self.earlier + self.current


def content_text(content: Any) -> str:
    """Message content as text (strings, or a list of ``{"type": "text"}`` parts)."""
    if content is None:
        return ""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        parts = []
        for part in content:
            if isinstance(part, dict):
                parts.append(str(part.get("text", "")))
            else:
                parts.append(str(part))
        return "\n".join(parts)
    return str(content)


def read_transcript(messages: list[dict[str, Any]]) -> Transcript:
    last_user = -1
    for i, msg in enumerate(messages):
        if msg.get("role") == "user":
            last_user = i
    results: dict[str, str] = {}
    for msg in messages:
        if msg.get("role") == "tool" and msg.get("tool_call_id"):
            results[str(msg["tool_call_id"])] = content_text(msg.get("content"))
    current: list[Observation] = []
    earlier: list[Observation] = []
    steps = 0
    total = 0
    for i, msg in enumerate(messages):
        if msg.get("role") != "assistant":
            continue
        if i > last_user:
            steps += 1
        for call in msg.get("tool_calls") or []:
            total += 1
            fn = call.get("function") or {}
            try:
                args = json.loads(fn.get("arguments") or "{}")
            except (TypeError, ValueError):
                args = {}
            if not isinstance(args, dict):
                args = {}
            obs = Observation(
                call_id=str(call.get("id", "")),
                name=str(fn.get("name", "")),
                args=args,
                content=results.get(str(call.get("id", "")), ""),
            )
            (current if i > last_user else earlier).append(obs)
    task = content_text(messages[last_user].get("content")) if last_user >= 0 else ""
    default_ns = context = None
    for msg in messages:
        if msg.get("role") == "system":
            text = content_text(msg.get("content"))
            m = _DEFAULT_NS_RE.search(text)
            if m:
                default_ns = m.group(1)
            m = _CONTEXT_RE.search(text)
            if m and m.group(1) != "-":
                context = m.group(1)
    return Transcript(
        task=task,
        current=current,
        earlier=earlier,
        steps=steps,
        total_calls=total,
        default_namespace=default_ns,
        context=context,
    )


_DEFAULT_NS_RE = re.compile(rf"(?:default namespace|默认命名空间)\s*[:：]\s*({_NAME})")
_CONTEXT_RE = re.compile(r"(?:cluster context|集群上下文)\s*[:：]\s*([^\s;；,，]+)")


# --- errors --------------------------------------------------------------------------------

_FORBIDDEN_RE = re.compile(r"\bis forbidden\b|\bforbidden:|cannot (?:get|list|watch) resource")
_ERROR_HEADS = (
    "error",
    "tool error",
    '{"error"',
    '{"status"',
    "forbidden",
    "cluster unreachable",
    "cluster did not answer",
    "not found",
    "no cluster",
    "invalid kubeconfig",
    "refused",
    "invalid",
    "unknown tool",
    "api error",
    "api server error",
    "internal error",
    "timeout",
    "timed out",
    "namespace is required",
    "unknown argument",
    "credentials expired",
    "kubernetes request failed",
)
#: the tools' error lines that mean the cluster cannot be talked to at all
_CONNECTIVITY = (
    ("unreachable", ("cluster unreachable", "cluster did not answer", "connection refused")),
    ("no_cluster", ("no cluster configured", "invalid kubeconfig")),
    ("auth", ("credentials expired",)),
)


def is_error_text(content: str) -> bool:
    """A tool output that is an error message rather than data (the tools' error lines)."""
    head = content.lstrip()[:200].lower()
    first = head.split("\n", 1)[0]
    return bool(_FORBIDDEN_RE.search(first)) or head.startswith(_ERROR_HEADS)


def is_forbidden(line: str) -> bool:
    return bool(_FORBIDDEN_RE.search(line.lower()))


def connectivity_error(content: str) -> str | None:
    """ "unreachable", "no_cluster" or "auth" when the output says the cluster cannot be used."""
    if not is_error_text(content):
        return None
    first = content.strip().split("\n", 1)[0].lower()
    for kind, words in _CONNECTIVITY:
        if any(w in first for w in words):
            return kind
    return None


# --- findings ------------------------------------------------------------------------------

_FINDING_RE = re.compile(r"FINDING\b(?P<body>.*)$")
_KV_RE = re.compile(r"(\w[\w.-]*)=(\"[^\"]*\"|\S+)")


def parse_findings(text: str) -> list[Finding]:
    """``FINDING severity=... reason=... pod=ns/name evidence: ...`` lines in a tool output."""
    return list(_parse_findings(text)) if "FINDING" in text else []


@functools.lru_cache(maxsize=128)
def _parse_findings(text: str) -> tuple[Finding, ...]:
    out: list[Finding] = []
    for raw in text.splitlines():
        line = raw.strip()
        m = _FINDING_RE.search(line)
        if not m:
            continue
        body = m.group("body")
        evidence = suggestion = ""
        if "evidence:" in body:
            body, evidence = body.split("evidence:", 1)
        if "| suggestion:" in evidence:
            evidence, suggestion = evidence.split("| suggestion:", 1)
        fields = {k.lower(): v.strip('"') for k, v in _KV_RE.findall(body)}
        kind, ns, name = "pod", None, ""
        for key in ("pod", "deployment", "node", "service", "svc", "object", "target", "resource"):
            if key in fields:
                ref = fields[key]
                kind = {"svc": "service"}.get(key, key)
                if "/" in ref:
                    parts = ref.split("/")
                    if len(parts) == 3:  # kind/ns/name or ns/kind/name
                        kind, ns, name = parts[0].lower(), parts[1], parts[2]
                    else:
                        ns, name = parts[-2], parts[-1]
                else:
                    name = ref
                break
        ns = fields.get("namespace", fields.get("ns", ns))
        out.append(
            Finding(
                severity=fields.get("severity", ""),
                reason=fields.get("reason", ""),
                kind=kind,
                namespace=ns,
                name=name,
                evidence=evidence.strip(),
                line=line,
                fields=fields,
                suggestion=suggestion.strip(),
            )
        )
    return tuple(out)


def all_findings(observations: list[Observation]) -> list[Finding]:
    seen: set[str] = set()
    out: list[Finding] = []
    for obs in observations:
        for f in parse_findings(obs.content):
            if f.line not in seen:
                seen.add(f.line)
                out.append(f)
    return out


# --- names ---------------------------------------------------------------------------------

_HEADER_WORDS = frozenset(
    "name namespace ns pod pods status ready restarts age node nodes deployment deployments "
    "total showing omitted finding findings warning normal type reason message events".split()
)
_ROW_RE = re.compile(rf"^\s*(?:[-*•]\s*)?(?:({_NAME})/)?({_NAME})(?=\s|:|$)")
_NS_HEADER_RE = re.compile(rf"(?:namespace|ns)[\s=:]+[\"']?({_NAME})", re.I)


def _namespace_of(obs: Observation) -> str | None:
    ns = obs.args.get("namespace")
    return str(ns) if isinstance(ns, str) and ns and ns not in ("all", "*") else None


def row_names(text: str) -> list[tuple[str | None, str]]:
    """(namespace or None, name) for lines that start with a resource name, as tables do."""
    return list(_row_names(text))


@functools.lru_cache(maxsize=128)
def _row_names(text: str) -> tuple[tuple[str | None, str], ...]:
    out: list[tuple[str | None, str]] = []
    for line in text.splitlines():
        if not line.strip() or line.lstrip().startswith(("FINDING", "#", "[", "...")):
            continue
        m = _ROW_RE.match(line)
        if not m:
            continue
        ns, name = m.group(1), m.group(2)
        if name in _HEADER_WORDS or name.isdigit() or len(name) < 2:
            continue
        out.append((ns, name))
    return tuple(out)


def known_names(observations: list[Observation]) -> Known:
    namespaces: set[str] = set()
    pods: set[tuple[str, str]] = set()
    deployments: set[tuple[str, str]] = set()
    nodes: set[str] = set()
    for obs in observations:
        ns = _namespace_of(obs)
        if ns:
            namespaces.add(ns)
        if is_error_text(obs.content):
            continue
        rows = row_names(obs.content)
        if obs.name in ("get_k8s_pods", "find_unhealthy_pods"):
            for rns, name in rows:
                if rns or ns:
                    pods.add((rns or ns or "", name))
                    namespaces.add(rns or ns or "")
        elif obs.name == "get_deployments":
            for rns, name in rows:
                if rns or ns:
                    deployments.add((rns or ns or "", name))
                    namespaces.add(rns or ns or "")
        elif obs.name == "get_nodes":
            for _rns, name in rows:
                nodes.add(name)
        elif obs.name in ("describe_pod", "get_pod_logs") and ns and obs.args.get("pod_name"):
            pods.add((ns, str(obs.args["pod_name"])))
        for f in parse_findings(obs.content):
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
