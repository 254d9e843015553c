"""Unknown fields of a built-in object, found with the same message table the protobuf codec uses.

The real server decodes a request into the Go struct of its kind, so a field the struct lacks is
dropped, with a warning (``fieldValidation=Warn``, the default), silently (``Ignore``), or the
request fails (``Strict``, what kubectl sends): ``strict decoding error: unknown field "x.y"``.
"""

from __future__ import annotations

from typing import Any

from .protobuf import Schema, _Message

__all__ = ["prune_unknown", "unknown_fields"]


def unknown_fields(schema: Schema, obj: dict) -> list[str] | None:
    """The paths of the fields the kind does not have (``spec.template.spec.containers[0].x``);
    None when the kind is not a built-in one."""
    msg = schema.message(obj.get("apiVersion", ""), obj.get("kind", ""))
    if msg is None:
        return None
    out: list[str] = []
    _walk(schema, obj, msg, "", out, prune=False)
    return out


def prune_unknown(schema: Schema, obj: dict) -> list[str]:
    """Drop the unknown fields in place (as decoding into the Go struct does); their paths."""
    msg = schema.message(obj.get("apiVersion", ""), obj.get("kind", ""))
    out: list[str] = []
    if msg is not None:
        _walk(schema, obj, msg, "", out, prune=True)
    return out


def _walk(
    schema: Schema, value: Any, msg: _Message, path: str, out: list[str], prune: bool
) -> None:
    if msg.special is not None or not isinstance(value, dict):
        return
    names = schema.json_fields(msg)
    for key in list(value):
        f = names.get(key)
        if f is None:
            if not path and key in ("apiVersion", "kind"):
                continue
            out.append(path + key)
            if prune:
                del value[key]
            continue
        sub = f.sub
        item = value[key]
        if sub is None or item is None:
            continue
        if f.label == "map" and isinstance(item, dict):
            for k, v in item.items():
                _walk(schema, v, sub, f"{path}{key}[{k}].", out, prune)
        elif f.label == "repeated" and isinstance(item, list):
            for i, v in enumerate(item):
                _walk(schema, v, sub, f"{path}{key}[{i}].", out, prune)
        else:
            _walk(schema, item, sub, f"{path}{key}.", out, prune)
