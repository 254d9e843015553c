"""Read any kind the cluster serves: list (the server's Table), get (clean YAML), describe
(kubectl-style text with events) and events of one object.

Output is written for a model and budgeted (``budget`` tokens, counted as in
:mod:`opsconsole.k8s.render`) with an explicit ``[truncated: ...]`` marker. Each function
returns ``(text, data)``: the same facts for programs. Secret values never leave this module
(S9): a Secret's ``data``/``stringData`` become ``{key: "<N bytes>"}`` whatever the policy
says, and a private key kept in any object's data map (``tls.key``, ``*.pem`` keys holding a
PEM private key) is shown by its size only (:func:`clean`). The tools redact the rest.
"""

from __future__ import annotations

import base64
import copy
import re
from typing import TYPE_CHECKING, Any

from opsconsole.k8s import render
from opsconsole.k8s.discovery import TABLE, ResourceInfo, raw_get
from opsconsole.k8s.paths import resource_path

if TYPE_CHECKING:
    from opsconsole.k8s.client import Cluster

PAGE = 500
LAST_APPLIED = "kubectl.kubernetes.io/last-applied-configuration"
#: status fields that are long and tell a model nothing about a fault
_NOISY_STATUS = ("images", "volumesInUse", "volumesAttached")
_NOISY_TIMES = ("lastHeartbeatTime", "lastProbeTime")
_PRIVATE_KEY_NAME = re.compile(r"(^|[._-])(key|private[._-]?key)(\.pem)?$|\.key$", re.I)
_PEM_PRIVATE = re.compile(r"-----BEGIN [A-Z ]*PRIVATE KEY-----")
CELL_MAX = 60


def _size(value: Any, b64: bool) -> int:
    if not isinstance(value, str):
        return 0
    if b64:
        try:
            return len(base64.b64decode(value, validate=False))
        except ValueError:
            return len(value)
    return len(value.encode())


def _is_private_key(key: str, value: Any, b64: bool) -> bool:
    if _PRIVATE_KEY_NAME.search(key):
        return True
    text = value if isinstance(value, str) else ""
    if b64 and text:
        try:
            text = base64.b64decode(text[:200] + "=" * (-len(text[:200]) % 4)).decode(
                "ascii", "replace"
            )
        except ValueError:
            text = ""
    return bool(_PEM_PRIVATE.search(text))


def secret_keys(obj: dict[str, Any]) -> dict[str, int]:
    """A Secret's keys and their decoded sizes in bytes (never the values)."""
    out = {k: _size(v, True) for k, v in (obj.get("data") or {}).items()}
    out.update({k: _size(v, False) for k, v in (obj.get("stringData") or {}).items()})
    return out


def _key_sizes(sizes: dict[str, int]) -> list[dict[str, Any]]:
    """``[{"key", "bytes"}]``: sizes keyed by a plain field, so the redactor of tool data does not
    take a size under a key named ``password`` for a secret."""
    return [{"key": k, "bytes": n} for k, n in sorted(sizes.items())]


def clean(obj: dict[str, Any], *, keep_status: bool = True) -> dict[str, Any]:
    """A copy for a model: no managedFields, last-applied annotation or noisy status; no
    Secret value, no private key anywhere in a data map (sizes instead)."""
    out = copy.deepcopy(obj)
    md = out.get("metadata") or {}
    md.pop("managedFields", None)
    md.pop("selfLink", None)
    ann = md.get("annotations")
    if isinstance(ann, dict):
        ann.pop(LAST_APPLIED, None)
        if not ann:
            md.pop("annotations", None)
    if out.get("kind") == "Secret":
        for field in ("data", "stringData"):
            vals = out.get(field)
            if isinstance(vals, dict):
                b64 = field == "data"
                out[field] = {k: f"<{_size(v, b64)} bytes>" for k, v in vals.items()}
    else:
        for field in ("data", "binaryData"):
            vals = out.get(field)
            if isinstance(vals, dict):
                b64 = field == "binaryData"
                for k, v in list(vals.items()):
                    if _is_private_key(k, v, b64):
                        vals[k] = f"<{_size(v, b64)} bytes: private key withheld>"
    status = out.get("status")
    if isinstance(status, dict):
        if not keep_status:
            out.pop("status", None)
        else:
            for f in _NOISY_STATUS:
                status.pop(f, None)
            for cond in status.get("conditions") or ():
                if isinstance(cond, dict):
                    for t in _NOISY_TIMES:
                        cond.pop(t, None)
    return out


def to_yaml(obj: Any) -> str:
    import yaml

    dumper = getattr(yaml, "CSafeDumper", yaml.SafeDumper)  # libyaml when built with it
    return str(yaml.dump(obj, Dumper=dumper, sort_keys=False, default_flow_style=False, width=120))


# --- list ---------------------------------------------------------------------------------


def _cell(value: Any) -> str:
    if value is None:
        return ""
    text = value if isinstance(value, str) else str(value)
    text = text.replace("\n", " ")
    return text if len(text) <= CELL_MAX else text[: CELL_MAX - 3] + "..."


def list_table(
    cluster: Cluster,
    res: ResourceInfo,
    namespaces: list[str | None],
    *,
    label_selector: str | None,
    field_selector: str | None,
    budget: int,
    show_namespace: bool | None = None,
) -> tuple[str, dict[str, Any]]:
    """A kubectl ``get -o wide`` table from the server's Table response, within ``budget``.

    Reads pages until the rows that fit the budget are in (the server's
    ``remainingItemCount`` gives the total without reading the rest)."""
    all_ns = res.namespaced and (namespaces == [None] if show_namespace is None else show_namespace)
    columns: list[str] = []
    rows: list[list[str]] = []
    names: list[str] = []  # each row's object name (the Name cell may say "x (default)")
    total = 0
    exact = True
    want = max(20, budget // 4)  # rows never needed beyond this many (each row >= ~5 tokens)
    query: list[tuple[str, Any]] = [("includeObject", "Metadata")]
    if label_selector:
        query.append(("labelSelector", label_selector))
    if field_selector:
        query.append(("fieldSelector", field_selector))
    for ns in namespaces if res.namespaced else [None]:
        path = resource_path(res.group, res.version, res.plural, namespace=ns)
        cont: str | None = None
        while True:
            q = [*query, ("limit", PAGE)]
            if cont:
                q.append(("continue", cont))
            doc = raw_get(cluster, path, q, accept=TABLE)
            if not columns:
                columns = [str(c.get("name", "")) for c in doc.get("columnDefinitions") or ()]
            page = doc.get("rows") or []
            for r in page:
                cells = [_cell(c) for c in r.get("cells") or ()]
                md = (r.get("object") or {}).get("metadata") or {}
                if all_ns:
                    cells.insert(0, _cell(md.get("namespace", "")))
                if len(rows) < want:
                    rows.append(cells)
                    names.append(str(md.get("name") or ""))
            total += len(page)
            meta = doc.get("metadata") or {}
            cont = meta.get("continue") or None
            if cont and len(rows) >= want:
                remaining = meta.get("remainingItemCount")
                if isinstance(remaining, int):
                    total += remaining
                else:
                    exact = False
                break
            if not cont:
                break
    if all_ns:
        columns = ["Namespace", *columns]
    return render_table(res, columns, rows, total, exact, namespaces, budget, names=names)


def render_table(
    res: ResourceInfo,
    columns: list[str],
    rows: list[list[str]],
    total: int,
    exact: bool,
    namespaces: list[str | None],
    budget: int,
    *,
    names: list[str] | None = None,
) -> tuple[str, dict[str, Any]]:
    scope = (
        "cluster-scoped"
        if not res.namespaced
        else "all namespaces"
        if namespaces == [None]
        else "namespace " + ", ".join(str(n) for n in namespaces)
    )
    count = f"{total}" if exact else f"at least {total}"
    head = [f"{res.ref} ({res.kind}, {res.api_version}) in {scope}: {count}"]
    if not rows:
        return head[0] + " (none found)", {
            "kind": res.kind,
            "resource": res.ref,
            "total": total,
            "shown": 0,
            "truncated": False,
            "columns": columns,
            "items": [],
        }
    sample = rows[:200]
    widths = [
        min(CELL_MAX, max([len(columns[i])] + [len(r[i]) for r in sample if i < len(r)]))
        for i in range(len(columns))
    ]

    def line(cells: list[str]) -> str:
        return "  ".join(c.ljust(w) for c, w in zip(cells, widths, strict=False)).rstrip()

    head.append(line([c.upper() for c in columns]))
    text, omitted = render.fit(
        head,
        (line(r) for r in rows),
        budget,
        what="rows",
        total=total,
        hint="narrow with namespace, label_selector or field_selector",
    )
    shown = total - omitted
    items = [dict(zip(columns, r, strict=False)) for r in rows[: min(shown, render.MAX_ITEMS)]]
    for item, name in zip(items, names or (), strict=False):
        if name and "Name" in item:
            item["Name"] = name  # what get_resource takes, not the printer's "x (default)"
    return text, {
        "kind": res.kind,
        "resource": res.ref,
        "namespaces": namespaces,
        "total": total,
        "total_exact": exact,
        "shown": shown,
        "truncated": omitted > 0,
        "columns": columns,
        "items": items,
    }


# --- one object ---------------------------------------------------------------------------


def get_raw(cluster: Cluster, res: ResourceInfo, namespace: str | None, name: str) -> Any:
    from opsconsole.errors import NotFound

    ns = namespace if res.namespaced else None
    path = resource_path(res.group, res.version, res.plural, namespace=ns, name=name)
    try:
        return raw_get(cluster, path)
    except NotFound:
        where = f" in namespace {ns}" if ns else ""
        raise NotFound(f"not found: {res.singular or res.plural}/{name}{where}") from None


def get_object(
    cluster: Cluster, res: ResourceInfo, namespace: str | None, name: str, budget: int
) -> tuple[str, dict[str, Any]]:
    raw = get_raw(cluster, res, namespace, name)
    obj = clean(raw)
    text = to_yaml(obj)
    clipped = render.clip_middle(text, budget)
    data: dict[str, Any] = {
        "kind": res.kind,
        "resource": res.ref,
        "namespace": namespace if res.namespaced else None,
        "name": name,
        "object": obj,
        "truncated": clipped != text,
    }
    if res.kind == "Secret":
        data["secret_keys"] = _key_sizes(secret_keys(raw))
    return clipped, data


# --- events -------------------------------------------------------------------------------


def event_lines(
    cluster: Cluster, namespace: str | None, kind: str, name: str
) -> tuple[list[str], list[dict[str, Any]]]:
    from opsconsole.k8s import queries as q

    evs = q.list_events(cluster, namespace, object_name=name, object_kind=kind)
    evs.sort(key=lambda e: e.last_seen or "", reverse=True)
    lines, data = [], []
    for e in evs:
        seen = render.age(e.last_seen) if e.last_seen else "?"
        cnt = f" (x{e.count})" if e.count > 1 else ""
        lines.append(f"{e.type:<7} {e.reason:<20} {seen:>5} ago{cnt}  {e.source}: {e.message}")
        data.append(
            {
                "type": e.type,
                "reason": e.reason,
                "message": e.message,
                "count": e.count,
                "last_seen": e.last_seen,
                "source": e.source,
                "line": lines[-1],
            }
        )
    return lines, data


def object_events(
    cluster: Cluster, res: ResourceInfo, namespace: str | None, name: str, budget: int
) -> tuple[str, dict[str, Any]]:
    ns = namespace if res.namespaced else None
    lines, data = event_lines(cluster, ns, res.kind, name)
    where = f" in {ns}" if ns else ""
    head = [f"events of {res.singular}/{name}{where}, newest first: {len(lines)}"]
    if not lines:
        head = [f"no events for {res.singular}/{name}{where} (events expire after about an hour)"]
    text, omitted = render.fit(head, lines, budget, what="events")
    return text, {
        "kind": res.kind,
        "namespace": ns,
        "name": name,
        "events": data[: render.MAX_ITEMS],
        "warnings": sum(d["type"] == "Warning" for d in data),
        "truncated": omitted > 0,
    }


# --- describe -----------------------------------------------------------------------------


def _describe_map(title: str, m: dict[str, Any] | None) -> list[str]:
    if not m:
        return [f"{title}: <none>"]
    items = sorted(m.items())
    first, rest = items[0], items[1:]
    pad = " " * (len(title) + 2)
    return [f"{title}: {first[0]}={first[1]}"] + [f"{pad}{k}={v}" for k, v in rest]


def describe_object(
    cluster: Cluster, res: ResourceInfo, namespace: str | None, name: str, budget: int
) -> tuple[str, dict[str, Any]]:
    """kubectl-describe-like text: metadata, the object's fields (Secrets: keys and sizes
    only), then its events newest first."""
    raw = get_raw(cluster, res, namespace, name)
    obj = clean(raw)
    md = obj.get("metadata") or {}
    lines = [f"Name: {md.get('name', name)}"]
    if res.namespaced:
        lines.append(f"Namespace: {md.get('namespace', namespace)}")
    lines.append(f"Kind: {res.kind} ({res.api_version})")
    lines += _describe_map("Labels", md.get("labels"))
    lines += _describe_map(
        "Annotations",
        {k: _cell(v) for k, v in (md.get("annotations") or {}).items()},
    )
    lines.append(f"Created: {md.get('creationTimestamp', '')}")
    owners = md.get("ownerReferences") or []
    if owners:
        lines.append(
            "Controlled By: " + ", ".join(f"{o.get('kind')}/{o.get('name')}" for o in owners)
        )
    sizes: dict[str, int] | None = None
    if res.kind == "Secret":
        sizes = secret_keys(raw)
        lines.append(f"Type: {obj.get('type', '')}")
        lines.append("Data (values withheld):")
        lines += [f"  {k}: {n} bytes" for k, n in sorted(sizes.items())] or ["  <none>"]
    else:
        body = {k: v for k, v in obj.items() if k not in ("apiVersion", "kind", "metadata")}
        for key, value in body.items():
            title = key[:1].upper() + key[1:]
            if isinstance(value, dict | list):
                lines.append(f"{title}:")
                lines += ["  " + ln for ln in to_yaml(value).rstrip("\n").splitlines()]
            else:
                lines.append(f"{title}: {value}")
    ev_lines, ev_data = event_lines(cluster, namespace if res.namespaced else None, res.kind, name)
    tail = ["Events (newest first):"] + (
        ["  " + e for e in ev_lines[:20]] if ev_lines else ["  <none>"]
    )
    ev_budget = render.estimate_tokens("\n".join(tail))
    ev_budget = min(ev_budget, budget // 3)
    tail_text = render.clip_middle("\n".join(tail), ev_budget) if tail else ""
    body_text = render.clip_middle("\n".join(lines), budget - render.estimate_tokens(tail_text) - 5)
    text = body_text + "\n" + tail_text
    data: dict[str, Any] = {
        "kind": res.kind,
        "resource": res.ref,
        "namespace": namespace if res.namespaced else None,
        "name": name,
        "labels": md.get("labels") or {},
        "object": obj,
        "events": ev_data[: render.MAX_ITEMS],
        "lines": lines[:1000],
        "truncated": "[truncated:" in text,
    }
    if sizes is not None:
        data["secret_keys"] = _key_sizes(sizes)
    return text, data
