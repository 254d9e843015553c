"""PATCH bodies: JSON merge patch (RFC 7386), strategic merge patch (the common subset: lists
merged by their Kubernetes merge key, ``$patch: delete``), and JSON patch (RFC 6902)."""

from __future__ import annotations

import copy
from typing import Any

MERGE_KEYS = {
    "containers": "name",
    "initContainers": "name",
    "ephemeralContainers": "name",
    "env": "name",
    "volumes": "name",
    "volumeMounts": "mountPath",
    "ports": "containerPort",
    "imagePullSecrets": "name",
    "conditions": "type",
    "hostAliases": "ip",
}


class PatchError(ValueError):
    pass


def merge_key(field: str, item: Any) -> str | None:
    """The strategic-merge key of an item of list ``field`` (None: the list is replaced whole):
    a container's ``ports`` merge by ``containerPort``, a Service's by ``port``."""
    if field == "ports" and isinstance(item, dict):
        return "containerPort" if "containerPort" in item else "port"
    return MERGE_KEYS.get(field)


def merge_patch(target: Any, patch: Any) -> Any:
    if not isinstance(patch, dict):
        return copy.deepcopy(patch)
    out = dict(target) if isinstance(target, dict) else {}
    for k, v in patch.items():
        if v is None:
            out.pop(k, None)
        else:
            out[k] = merge_patch(out.get(k), v)
    return out


def strategic_merge_patch(target: Any, patch: Any, field: str = "") -> Any:
    if isinstance(patch, dict):
        if patch.get("$patch") == "replace":
            return {k: v for k, v in patch.items() if k != "$patch"}
        out = dict(target) if isinstance(target, dict) else {}
        for k, v in patch.items():
            if k.startswith("$") or k.startswith("$setElementOrder"):
                continue
            if v is None:
                out.pop(k, None)
            else:
                out[k] = strategic_merge_patch(out.get(k), v, k)
        return out
    if isinstance(patch, list) and field in MERGE_KEYS and isinstance(target, list):
        out_list = [copy.deepcopy(x) for x in target]
        for item in patch:
            key = merge_key(field, item)
            if not isinstance(item, dict) or key is None or key not in item:
                out_list.append(copy.deepcopy(item))
                continue
            idx = next(
                (
                    i
                    for i, x in enumerate(out_list)
                    if isinstance(x, dict) and x.get(key) == item[key]
                ),
                None,
            )
            if item.get("$patch") == "delete":
                if idx is not None:
                    out_list.pop(idx)
            elif idx is None:
                out_list.append({k: v for k, v in item.items() if k != "$patch"})
            else:
                out_list[idx] = strategic_merge_patch(out_list[idx], item, field)
        return out_list
    return copy.deepcopy(patch)


def _ptr(path: str) -> list[str]:
    if path == "":
        return []
    if not path.startswith("/"):
        raise PatchError(f"invalid JSON pointer {path!r}")
    return [p.replace("~1", "/").replace("~0", "~") for p in path[1:].split("/")]


def _parent(doc: Any, parts: list[str]) -> tuple[Any, str]:
    cur = doc
    for p in parts[:-1]:
        if isinstance(cur, list):
            cur = cur[int(p)]
        elif isinstance(cur, dict) and p in cur:
            cur = cur[p]
        else:
            raise PatchError(f"path not found: /{'/'.join(parts)}")
    return cur, parts[-1]


def json_patch(doc: Any, ops: list[dict[str, Any]]) -> Any:
    doc = copy.deepcopy(doc)
    for op in ops:
        kind, parts = op.get("op"), _ptr(op.get("path", ""))
        if kind in ("add", "replace", "test") and "value" not in op:
            raise PatchError(f"{kind} operation without a value")
        if not parts:
            if kind in ("add", "replace"):
                doc = copy.deepcopy(op["value"])
                continue
            raise PatchError("unsupported operation on the document root")
        if kind in ("move", "copy"):
            src_parent, src_key = _parent(doc, _ptr(op["from"]))
            value = (
                src_parent[int(src_key)] if isinstance(src_parent, list) else src_parent[src_key]
            )
            if kind == "move":
                if isinstance(src_parent, list):
                    src_parent.pop(int(src_key))
                else:
                    del src_parent[src_key]
            kind, op = "add", {"value": copy.deepcopy(value)}
        parent, key = _parent(doc, parts)
        try:
            if kind == "add":
                if isinstance(parent, list):
                    parent.insert(len(parent) if key == "-" else int(key), op["value"])
                else:
                    parent[key] = op["value"]
            elif kind == "remove":
                if isinstance(parent, list):
                    parent.pop(int(key))
                else:
                    del parent[key]
            elif kind == "replace":
                if isinstance(parent, list):
                    parent[int(key)] = op["value"]
                else:
                    if key not in parent:
                        raise KeyError(key)
                    parent[key] = op["value"]
            elif kind == "test":
                cur = parent[int(key)] if isinstance(parent, list) else parent.get(key)
                if cur != op["value"]:
                    raise PatchError(f"test failed at {op['path']}")
            else:
                raise PatchError(f"unknown op {kind!r}")
        except (KeyError, IndexError, ValueError) as exc:
            if isinstance(exc, PatchError):
                raise
            raise PatchError(f"path not found: {op.get('path')}") from None
    return doc


def apply_patch(content_type: str, target: Any, body: Any) -> Any:
    ct = content_type.split(";")[0].strip()
    if ct == "application/merge-patch+json":
        return merge_patch(target, body)
    if ct == "application/strategic-merge-patch+json":
        return strategic_merge_patch(target, body)
    if ct == "application/json-patch+json":
        if not isinstance(body, list):
            raise PatchError("a JSON patch must be a list of operations")
        return json_patch(target, body)
    raise PatchError(f"unsupported patch type {ct!r}")
