"""Label selectors (=, ==, !=, in, notin, exists, !exists) and field selectors (=, ==, !=)."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

Obj = dict[str, Any]
Pred = Callable[[Obj], bool]


class SelectorError(ValueError):
    pass


def _split_top(expr: str) -> list[str]:
    parts, depth, cur = [], 0, []
    for ch in expr:
        if ch == "(":
            depth += 1
        elif ch == ")":
            depth -= 1
        if ch == "," and depth == 0:
            parts.append("".join(cur))
            cur = []
        else:
            cur.append(ch)
    parts.append("".join(cur))
    return [p.strip() for p in parts if p.strip()]


_SET = re.compile(r"^([A-Za-z0-9_./-]+)\s+(in|notin)\s+\((.*)\)$")
_EQ = re.compile(r"^([A-Za-z0-9_./-]+)\s*(==|!=|=)\s*([A-Za-z0-9_.-]*)$")
_KEY = re.compile(r"^(!?)([A-Za-z0-9_./-]+)$")


def label_requirements(expr: str) -> list[Callable[[dict[str, str]], bool]]:
    reqs: list[Callable[[dict[str, str]], bool]] = []
    for part in _split_top(expr):
        m = _SET.match(part)
        if m:
            key, op, vals = m.group(1), m.group(2), {v.strip() for v in m.group(3).split(",")}
            if op == "in":
                reqs.append(lambda lb, k=key, vs=vals: lb.get(k) in vs)
            else:
                reqs.append(lambda lb, k=key, vs=vals: lb.get(k) not in vs)
            continue
        m = _EQ.match(part)
        if m:
            key, op, val = m.groups()
            if op == "!=":
                reqs.append(lambda lb, k=key, v=val: lb.get(k) != v)
            else:
                reqs.append(lambda lb, k=key, v=val: lb.get(k) == v)
            continue
        m = _KEY.match(part)
        if m:
            neg, key = m.groups()
            if neg:
                reqs.append(lambda lb, k=key: k not in lb)
            else:
                reqs.append(lambda lb, k=key: k in lb)
            continue
        raise SelectorError(f"unable to parse requirement: {part!r}")
    return reqs


def expr_ok(expr: Obj, value: str | None) -> bool:
    """One ``matchExpressions`` requirement (also a node selector term's, with Gt and Lt)
    against the label's value (None: no such label)."""
    op, values = expr.get("operator"), expr.get("values") or []
    if op == "In":
        return value is not None and value in values
    if op == "NotIn":
        return value is None or value not in values
    if op == "Exists":
        return value is not None
    if op == "DoesNotExist":
        return value is None
    if op in ("Gt", "Lt") and value is not None and values:
        try:
            a, b = int(value), int(values[0])
        except ValueError:
            return False
        return a > b if op == "Gt" else a < b
    return False


def selector_matches(sel: Obj, labels: dict[str, str]) -> bool:
    """A LabelSelector object (``matchLabels`` and ``matchExpressions``; empty selects all)."""
    if any(labels.get(k) != v for k, v in (sel.get("matchLabels") or {}).items()):
        return False
    return all(expr_ok(e, labels.get(e.get("key", ""))) for e in sel.get("matchExpressions") or ())


def node_term_ok(term: Obj, labels: dict[str, str], node_name: str) -> bool:
    """A NodeSelectorTerm: all its expressions on the node's labels and fields (an empty term
    matches no node)."""
    exprs = [(e, labels.get(e.get("key", ""))) for e in term.get("matchExpressions") or ()]
    fields = {"metadata.name": node_name}
    exprs += [(e, fields.get(e.get("key", ""))) for e in term.get("matchFields") or ()]
    return bool(exprs) and all(expr_ok(e, v) for e, v in exprs)


def label_selector(expr: str | None) -> Pred | None:
    if not expr:
        return None
    reqs = label_requirements(expr)

    def pred(obj: Obj) -> bool:
        labels = obj["metadata"].get("labels") or {}
        return all(r(labels) for r in reqs)

    return pred


def _field_value(obj: Obj, path: str) -> str:
    cur: Any = obj
    for part in path.split("."):
        if not isinstance(cur, dict):
            return ""
        cur = cur.get(part)
        if cur is None:
            return ""
    if isinstance(cur, bool):
        return "true" if cur else "false"
    return str(cur)


#: field selectors a real apiserver accepts, per resource key (others -> 400)
FIELD_LABELS: dict[str, set[str]] = {
    "pods": {
        "spec.nodeName",
        "spec.restartPolicy",
        "spec.schedulerName",
        "spec.serviceAccountName",
        "spec.hostNetwork",
        "status.phase",
        "status.podIP",
        "status.nominatedNodeName",
    },
    "events": {
        "involvedObject.kind",
        "involvedObject.namespace",
        "involvedObject.name",
        "involvedObject.uid",
        "involvedObject.apiVersion",
        "involvedObject.resourceVersion",
        "involvedObject.fieldPath",
        "reason",
        "reportingComponent",
        "source",
        "type",
    },
    "secrets": {"type"},
    "namespaces": {"status.phase"},
    "nodes": {"spec.unschedulable"},
    "apps/replicasets": {"status.replicas"},
}


def field_selector(expr: str | None, rkey: str) -> Pred | None:
    if not expr:
        return None
    reqs: list[tuple[str, bool, str]] = []
    allowed = FIELD_LABELS.get(rkey, set()) | {"metadata.name", "metadata.namespace"}
    for part in _split_top(expr):
        m = re.match(r"^([A-Za-z0-9_.]+)\s*(==|!=|=)\s*(.*)$", part)
        if not m:
            raise SelectorError(f"invalid selector: {part!r}; can't understand {part!r}")
        path, op, val = m.groups()
        if path not in allowed:
            raise SelectorError(f"field label not supported: {path}")
        if path == "source":
            path = "source.component"
        reqs.append((path, op == "!=", val))

    def pred(obj: Obj) -> bool:
        for path, neg, val in reqs:
            if (_field_value(obj, path) == val) == neg:
                return False
        return True

    return pred


def combine(*preds: Pred | None) -> Pred:
    active = [p for p in preds if p is not None]
    if not active:
        return lambda obj: True
    if len(active) == 1:
        return active[0]
    return lambda obj: all(p(obj) for p in active)


def selector_string(match_labels: dict[str, str]) -> str:
    return ",".join(f"{k}={v}" for k, v in sorted(match_labels.items()))
