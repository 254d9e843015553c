"""Field ownership and server-side apply (``metadata.managedFields``, ``FieldsV1``).

Each write records which manager set which fields: an Update (create, PUT, a merge / JSON /
strategic patch) takes over the fields it changed; an Apply (PATCH
``application/apply-patch+yaml``) owns exactly the fields of its configuration. An Apply that
would change a field another manager owns is a conflict (409 with the real message) unless forced,
when the field moves to the applier; a field the applier owned and no longer sends is removed
unless someone else owns it. Lists with a merge key (containers by name, ...) are merged item by
item, other lists are atomic. As the real server does, fields ``kubectl-client-side-apply`` owns
that are in the object's last-applied configuration go to an applier without a conflict (the
move from ``kubectl apply`` to ``kubectl apply --server-side``).
"""

from __future__ import annotations

import copy
import json
import time
from typing import Any

from .apitypes import ApiError
from .patch import merge_key
from .store import Obj, iso

Path = tuple[tuple[str, str], ...]  # (("f", "spec"), ("k", '{"name":"web"}'), ("f", "image"))
CLIENT_SIDE_APPLY = "kubectl-client-side-apply"
LAST_APPLIED = "kubectl.kubernetes.io/last-applied-configuration"
_IGNORED_META = {
    "name",
    "namespace",
    "uid",
    "resourceVersion",
    "generation",
    "creationTimestamp",
    "deletionTimestamp",
    "deletionGracePeriodSeconds",
    "managedFields",
    "selfLink",
}


def _item_key(field: str, item: Any) -> str | None:
    if not isinstance(item, dict):
        return None
    key = merge_key(field, item)
    if key is None or key not in item:
        return None
    return json.dumps({key: item[key]}, separators=(",", ":"))


def paths(obj: Obj, status: bool = False) -> set[Path]:
    """The leaf fields of ``obj`` (and its keyed list items), as ownership tracks them."""
    out: set[Path] = set()
    for k, v in obj.items():
        if k in ("apiVersion", "kind") or (k == "status" and not status):
            continue
        if k == "metadata" and isinstance(v, dict):
            meta = {mk: mv for mk, mv in v.items() if mk not in _IGNORED_META}
            _walk(meta, (("f", "metadata"),), out)
            continue
        _walk_value(k, v, (("f", k),), out)
    return out


def _walk(node: Obj, prefix: Path, out: set[Path]) -> None:
    for k, v in node.items():
        _walk_value(k, v, (*prefix, ("f", k)), out)


def _walk_value(field: str, v: Any, p: Path, out: set[Path]) -> None:
    if isinstance(v, dict) and v:
        _walk(v, p, out)
    elif isinstance(v, list) and v and all(_item_key(field, i) for i in v):
        for item in v:
            ip = (*p, ("k", _item_key(field, item) or ""))
            out.add(ip)
            _walk(item, ip, out)
    else:
        out.add(p)


def value_at(obj: Any, path: Path) -> tuple[bool, Any]:
    cur = obj
    for i, (kind, key) in enumerate(path):
        if kind == "f":
            if not isinstance(cur, dict) or key not in cur:
                return False, None
            cur = cur[key]
        else:
            field = path[i - 1][1]
            items = cur if isinstance(cur, list) else []
            cur = next((x for x in items if _item_key(field, x) == key), None)
            if cur is None:
                return False, None
    return True, cur


def _remove(obj: Any, path: Path) -> None:
    found, parent = value_at(obj, path[:-1]) if len(path) > 1 else (True, obj)
    if not found:
        return
    kind, key = path[-1]
    if kind == "f" and isinstance(parent, dict):
        parent.pop(key, None)
    elif kind == "k" and isinstance(parent, list):
        field = path[-2][1]
        parent[:] = [x for x in parent if _item_key(field, x) != key]


def path_string(path: Path) -> str:
    out = ""
    for kind, key in path:
        if kind == "f":
            out += "." + key
        else:
            ((k, v),) = json.loads(key).items()
            out += f"[{k}={json.dumps(v)}]"
    return out


def encode(ps: set[Path]) -> Obj:
    root: Obj = {}
    for p in ps:
        node = root
        for kind, key in p:
            node = node.setdefault(f"{kind}:{key}", {})
        if p and p[-1][0] == "k":
            node.setdefault(".", {})
    return root


def decode(fields: Obj, prefix: Path = ()) -> set[Path]:
    out: set[Path] = set()
    for k, sub in fields.items():
        if k == ".":
            out.add(prefix)
            continue
        kind, _, key = k.partition(":")
        p = (*prefix, (kind, key))
        if sub:
            out |= decode(sub, p)
        else:
            out.add(p)
    return out


def merge(live: Any, applied: Any, field: str = "") -> Any:
    """``applied`` over ``live``: maps deep, keyed lists item by item, the rest replaced."""
    if isinstance(applied, dict) and isinstance(live, dict):
        out = dict(live)
        for k, v in applied.items():
            out[k] = merge(live.get(k), v, k)
        return out
    if (
        isinstance(applied, list)
        and isinstance(live, list)
        and applied
        and all(_item_key(field, i) for i in applied)
        and all(_item_key(field, i) for i in live)
    ):
        out_list = [copy.deepcopy(x) for x in live]
        for item in applied:
            key = _item_key(field, item)
            idx = next((i for i, x in enumerate(out_list) if _item_key(field, x) == key), None)
            if idx is None:
                out_list.append(copy.deepcopy(item))
            else:
                out_list[idx] = merge(out_list[idx], item, field)
        return out_list
    return copy.deepcopy(applied)


def _entry_id(e: Obj) -> tuple[str, str, str]:
    return (e.get("manager", ""), e.get("operation", ""), e.get("subresource", ""))


def _entries(obj: Obj) -> list[Obj]:
    return [dict(e) for e in (obj.get("metadata") or {}).get("managedFields") or []]


def _owned(e: Obj) -> set[Path]:
    return decode(e.get("fieldsV1") or {})


def _store(obj: Obj, entries: list[Obj]) -> None:
    kept = [e for e in entries if e.get("fieldsV1")]
    md = obj.setdefault("metadata", {})
    if kept:
        md["managedFields"] = kept
    else:
        md.pop("managedFields", None)


def _entry(manager: str, op: str, api_version: str, ps: set[Path], sub: str = "") -> Obj:
    e: Obj = {
        "manager": manager,
        "operation": op,
        "apiVersion": api_version,
        "time": iso(time.time()),
        "fieldsType": "FieldsV1",
        "fieldsV1": encode(ps),
    }
    if sub:
        e["subresource"] = sub
    return e


def record_update(old: Obj | None, new: Obj, manager: str, api_version: str, sub: str = "") -> None:
    """An Update by ``manager``: it owns what it changed; others lose it (in place on ``new``)."""
    base = old or {}
    given = (new.get("metadata") or {}).get("managedFields")
    entries = (
        _entries(new)
        if given is not None and given != ((base.get("metadata") or {}).get("managedFields"))
        else _entries(base)
    )
    if given is not None and given == [] and old is not None:
        entries = []
    new_paths = paths(new, status=sub == "status")
    old_paths = paths(base, status=sub == "status") if old is not None else set()
    changed = {p for p in new_paths if value_at(base, p) != value_at(new, p)}
    gone = old_paths - new_paths
    me = (manager, "Update", sub)
    mine: set[Path] = set()
    for e in entries:
        if _entry_id(e) == me:
            mine = _owned(e)
    out: list[Obj] = []
    for e in entries:
        if _entry_id(e) == me:
            continue
        owned = _owned(e) - changed - gone
        out.append(dict(e, fieldsV1=encode(owned)) if owned else dict(e, fieldsV1={}))
    mine = (mine - gone) | changed
    if mine:
        out.append(_entry(manager, "Update", api_version, mine, sub))
    _store(new, out)


def _manager_text(e: Obj) -> str:
    text = json.dumps(e.get("manager", ""))
    if e.get("subresource"):
        text += f' with subresource "{e["subresource"]}"'
    if e.get("operation") == "Update":
        text += f" using {e.get('apiVersion', '')}"
    return text


def conflict_error(conflicts: list[tuple[Obj, Path]]) -> ApiError:
    causes = [
        {
            "reason": "FieldManagerConflict",
            "message": f"conflict with {_manager_text(e)}",
            "field": path_string(p),
        }
        for e, p in conflicts
    ]
    if len(conflicts) == 1:
        e, p = conflicts[0]
        message = (
            f"Apply failed with 1 conflict: conflict with {_manager_text(e)}: {path_string(p)}"
        )
    else:
        by: dict[str, list[str]] = {}
        for e, p in conflicts:
            by.setdefault(_manager_text(e), []).append(path_string(p))
        lines = []
        for m in sorted(by):
            lines.append(f"conflicts with {m}:")
            lines += [f"- {p}" for p in sorted(by[m])]
        message = f"Apply failed with {len(conflicts)} conflicts: " + "\n".join(lines)
    return ApiError(409, "Conflict", message, {"causes": causes})


def apply(live: Obj | None, applied: Obj, manager: str, force: bool, api_version: str) -> Obj:
    """The object after ``manager`` applies ``applied`` to ``live`` (None: a create)."""
    base = copy.deepcopy(live) if live is not None else {}
    entries = _entries(base)
    want = paths(applied)
    me = (manager, "Apply", "")
    conflicts: list[tuple[Obj, Path]] = []
    last_applied = _last_applied(base)
    taken: set[Path] = set()
    for e in entries:
        if _entry_id(e) == me:
            continue
        for p in sorted(_owned(e) & want):
            if p[-1][0] == "f" and value_at(base, p) != value_at(applied, p):
                if _entry_id(e) == (CLIENT_SIDE_APPLY, "Update", "") and p in last_applied:
                    taken.add(p)  # the server's upgrade from client-side apply: no conflict
                else:
                    conflicts.append((e, p))
    if conflicts and not force:
        raise conflict_error(conflicts)
    lost = {p for _, p in conflicts} | taken
    previous: set[Path] = set()
    others: set[Path] = set()
    out: list[Obj] = []
    for e in entries:
        owned = _owned(e)
        if _entry_id(e) == me:
            previous = owned
            continue
        owned -= lost
        others |= owned
        out.append(dict(e, fieldsV1=encode(owned)))
    merged = merge(base, {k: v for k, v in applied.items() if k != "status"})
    for p in sorted(previous - want, key=len, reverse=True):
        if not any(o[: len(p)] == p for o in others):
            _remove(merged, p)
    out.append(_entry(manager, "Apply", api_version, want))
    _store(merged, out)
    return merged


def _last_applied(obj: Obj) -> set[Path]:
    text = ((obj.get("metadata") or {}).get("annotations") or {}).get(LAST_APPLIED)
    try:
        config = json.loads(text) if text else None
    except ValueError:
        return set()
    return paths(config) if isinstance(config, dict) else set()


def manager_of(query: dict[str, str], headers: Any) -> str:
    """``fieldManager``, else the client's name from its User-Agent (as the server derives it)."""
    name = query.get("fieldManager")
    if name:
        return name
    agent = (headers.get("User-Agent") or "") if headers is not None else ""
    return agent.split("/", 1)[0] or "unknown"


__all__ = ["apply", "conflict_error", "decode", "encode", "manager_of", "record_update"]
