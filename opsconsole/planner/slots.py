"""What a request names: the namespace, the target (pod, deployment, node or service) and its
kind, a line count, "previous" logs, all namespaces.

Pure functions over the lower-cased request. Names are Kubernetes-style ASCII tokens that are
not common words (``[words] stop`` in ``intents.toml``); names the planner has already seen in
earlier observations (:class:`Known`) help tell a namespace from a pod or deployment name.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from opsconsole.planner.vocabulary import vocabulary

#: a Kubernetes-style name (lower-cased text); dots allowed inside
NAME = r"[a-z0-9](?:[a-z0-9.-]{0,251}[a-z0-9])?"
_NAME_RE = re.compile(rf"(?<![a-z0-9._/-]){NAME}(?![a-z0-9_-])")


@dataclass(frozen=True)
class Known:
    """Names seen in earlier observations of this conversation."""

    namespaces: frozenset[str] = frozenset()
    #: (namespace, pod name)
    pods: frozenset[tuple[str, str]] = frozenset()
    #: (namespace, deployment name)
    deployments: frozenset[tuple[str, str]] = frozenset()
    nodes: frozenset[str] = frozenset()


_NS_PATTERNS = [
    re.compile(rf"(?<![a-z0-9-])(?:--namespace|-n)[=\s]+({NAME})"),
    re.compile(rf"\bin\s+(?:the\s+)?({NAME})\s+(?:namespace|ns)\b"),
    re.compile(rf"({NAME})[\"'“”]?\s*(?:命名空间|名字空间|名称空间)"),
    re.compile(rf"(?:命名空间|名字空间|名称空间)\s*[\"'“”:：]?\s*({NAME})"),
    re.compile(rf"(?<![a-z0-9-])({NAME})[\"'”]?\s+(?:namespace|ns)\b"),
    re.compile(rf"(?<![a-z0-9-])(?:namespace|ns)(?:[\s=:：]+|\s*[\"'“]\s*)({NAME})"),
]
_NS_SLASH_RE = re.compile(rf"(?<![a-z0-9./:-])({NAME})/({NAME})(?![a-z0-9/-])")
_ZH_IN_RE = re.compile(
    rf"(?:在\s*)?({NAME})\s*(?:里面的|里的|中的|下的|内的|里面|里|中|下面的|下)\s*(?:的\s*)?"
    rf"(?:pod\s*|deployment\s*|服务\s*|应用\s*)?({NAME})?"
)
_ZH_OF_RE = re.compile(rf"({NAME})\s*的\s*(?:pod\s*|deployment\s*|服务\s*|应用\s*)?({NAME})")
_EN_IN_RE = re.compile(rf"\b(?:in|from|of)\s+(?:the\s+)?({NAME})\b(?!\s*/)")
_TARGET_KIND_RE = [
    ("pod", re.compile(rf"\bpods?\s+[\"'`]?({NAME})")),
    ("deployment", re.compile(rf"\b(?:deployment|deploy|deployments)\s+[\"'`]?({NAME})")),
    ("node", re.compile(rf"\bnodes?\s+[\"'`]?({NAME})")),
    ("service", re.compile(rf"\b(?:service|svc)\s+[\"'`]?({NAME})")),
    ("pod", re.compile(rf"({NAME})\s*(?:这个|那个)?\s*pod")),
    ("deployment", re.compile(rf"({NAME})\s*(?:这个|那个)?\s*(?:deployment|部署)")),
    ("node", re.compile(rf"({NAME})\s*(?:这个|那个)?\s*(?:节点|node)")),
    ("service", re.compile(rf"({NAME})\s*(?:这个|那个)?\s*(?:服务|service|svc)")),
    ("node", re.compile(rf"(?:节点)\s*[\"'`]?({NAME})")),
    ("service", re.compile(rf"(?:服务)\s*[\"'`]?({NAME})")),
]
_LINES_RE = re.compile(
    r"(?:last|tail|最后|最近|后)\s*(\d{1,5})\s*(?:lines?|行|条)?|(\d{1,5})\s*(?:lines|行)"
)


def is_name(token: str | None) -> bool:
    return (
        token is not None
        and token != ""
        and token not in vocabulary().stopwords
        and not token.isdigit()
    )


def candidate_names(text: str) -> list[str]:
    """ASCII Kubernetes-style names in the text that are not common words, in order."""
    out: list[str] = []
    for m in _NAME_RE.finditer(text):
        tok = m.group(0).strip(".")
        if is_name(tok) and tok not in out and len(tok) > 1:
            out.append(tok)
    return out


def extract_namespace(text: str, known: Known | None = None) -> str | None:
    """An explicitly named namespace, or a token that is a known namespace."""
    t = text.lower()
    for pat in _NS_PATTERNS:
        for m in pat.finditer(t):
            tok = m.group(1)
            if is_name(tok):
                return tok
    slash = _NS_SLASH_RE.search(t)
    if slash and is_name(slash.group(1)):
        return slash.group(1)
    known = known or Known()
    for tok in candidate_names(t):
        if tok in known.namespaces:
            return tok
    for rx in (_ZH_IN_RE, _ZH_OF_RE):
        for m in rx.finditer(t):
            first, second = m.group(1), m.group(2)
            if rx is _ZH_IN_RE and second is not None and not is_name(second):
                second = None  # "shop 里 crashloop 的 pod": shop is still the namespace
            if is_name(first) and (second is None or is_name(second)):
                if second is None and rx is _ZH_OF_RE:
                    continue
                if (
                    second is not None
                    or known.namespaces == frozenset()
                    or first in known.namespaces
                ):
                    return first
    for m in _EN_IN_RE.finditer(t):
        tok = m.group(1)
        if is_name(tok) and (not known.namespaces or tok in known.namespaces):
            # "logs of api-1 in shop": the token after "in" is a namespace; "of" only if known
            prefix = t[m.start() : m.start() + 3]
            if prefix.startswith("in") or tok in known.namespaces:
                return tok
    return None


def extract_target(text: str, namespace: str | None) -> tuple[str | None, str | None]:
    """The pod / deployment / node / service the text names, and its kind when said."""
    t = text.lower()
    m = _NS_SLASH_RE.search(t)
    if m and is_name(m.group(2)):
        return m.group(2), None
    for kind, rx in _TARGET_KIND_RE:
        for m in rx.finditer(t):
            tok = m.group(1)
            if is_name(tok) and tok != namespace:
                return tok, kind
    for tok in candidate_names(t):
        if tok != namespace:
            return tok, None
    return None, None


def extract_lines(text: str) -> int | None:
    m = _LINES_RE.search(text.lower())
    if not m:
        return None
    n = int(m.group(1) or m.group(2))
    return n if 1 <= n <= 5000 else None


def all_namespaces(text: str) -> bool:
    return vocabulary().all_namespaces.matches(text.lower())


def wants_previous(text: str) -> bool:
    """The logs of the container before its last restart ("previous", "上一次", "-p ")."""
    t = text.lower()
    return any(w in t for w in vocabulary().previous)


def pod_state(text: str) -> str | None:
    """The pod state a request selects pods by ("the crashlooping pods"), if it names one."""
    t = text.lower()
    return next((name for name, s in vocabulary().states.items() if s.words.matches(t)), None)
