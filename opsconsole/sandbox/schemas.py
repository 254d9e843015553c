"""Built-in kinds checked against the Kubernetes OpenAPI schemas that ``kubernetes-validate``
ships (the served version's ``_definitions.json``), with ``jsonschema``.

The real server decodes a body into its Go struct before it validates anything, so a value of the
wrong JSON type is a 400 with the decoder's words (``Deployment in version "v1" cannot be handled
as a Deployment: json: cannot unmarshal string into Go struct field DeploymentSpec.spec.replicas
of type int32``); a missing required field is a cause of the 422 (``spec.selector: Required
value``). ``metadata`` and ``status`` are the server's own and not checked here.
"""

from __future__ import annotations

import functools
import json
import threading
from typing import Any

import jsonschema

from .apitypes import ApiError
from .validation import FieldError, schema_error
from .wire.openapi import schema_dir

Obj = dict[str, Any]
VERSION = "1.31"
_GO_TYPES = {"int32": "int32", "int64": "int64", "double": "float64", "float": "float32"}
_JSON_NAMES = {str: "string", bool: "bool", int: "number", float: "number", dict: "object"}
_lock = threading.Lock()


@functools.lru_cache(maxsize=1)
def definitions() -> dict[str, Obj]:
    return json.loads((schema_dir(VERSION) / "_definitions.json").read_text())["$defs"]


@functools.lru_cache(maxsize=1)
def _by_gvk() -> dict[tuple[str, str, str], str]:
    out: dict[tuple[str, str, str], str] = {}
    for name, d in definitions().items():
        for gvk in d.get("x-kubernetes-group-version-kind") or ():
            out.setdefault(
                (gvk.get("group", ""), gvk.get("version", ""), gvk.get("kind", "")), name
            )
    return out


@functools.lru_cache(maxsize=128)
def _validator(defname: str) -> Any:
    return jsonschema.Draft202012Validator({"$ref": f"#/$defs/{defname}", "$defs": definitions()})


def _resolve(node: Any) -> tuple[Any, str | None]:
    """A schema node with its ``$ref`` followed, and the definition it names."""
    if isinstance(node, dict) and "$ref" in node:
        name = node["$ref"].rsplit("/", 1)[-1]
        return definitions().get(name, {}), name
    return node, None


def _struct_of(defname: str, path: list[Any]) -> tuple[str, Obj, list[str]]:
    """The Go struct (definition) holding the last struct field of ``path``, the schema of the
    value at ``path`` (an array's item, a map's value: what Go was decoding into), and the
    struct fields on the way (Go's error names no index and no map key)."""
    node: Any = definitions()[defname]
    struct = holder = defname
    prop: Obj = {}
    fields: list[str] = []
    for part in path:
        if isinstance(part, int):
            prop = node.get("items", {})
        elif part in (node.get("properties") or {}):
            holder, prop = struct, node["properties"][part]
            fields.append(str(part))
        else:
            prop = node.get("additionalProperties", {})
        node, name = _resolve(prop)
        if name is not None:
            struct = name
    return holder, prop, fields


def _go_type(schema: Obj) -> str:
    fmt = schema.get("format")
    if fmt in _GO_TYPES:
        return _GO_TYPES[fmt]
    t = schema.get("type")
    if isinstance(t, list):
        t = next((x for x in t if x != "null"), "")
    if t == "boolean":
        return "bool"
    if t == "integer":
        return "int"
    if t == "number":
        return "float64"
    if t == "array":
        return "[]" + _go_type(_resolve(schema.get("items", {}))[0] or {})
    if "$ref" in schema:
        return "v1." + schema["$ref"].rsplit(".", 1)[-1]
    if t == "object":
        return "map[string]string"
    return "string"


def check(group: str, version: str, kind: str, obj: Obj) -> list[FieldError]:
    """The schema's required fields missing from ``obj`` (as field errors); a value of the
    wrong type raises the decoder's 400."""
    defname = _by_gvk().get((group, version, kind))
    if defname is None:
        return []
    body = {k: v for k, v in obj.items() if k not in ("metadata", "status")}
    with _lock:  # the validator's caches are not thread-safe while they fill
        errors = list(_validator(defname).iter_errors(body))
    out: list[FieldError] = []
    for err in sorted(errors, key=lambda e: [str(p) for p in e.absolute_path]):
        if err.validator == "type":
            path = list(err.absolute_path)
            holder, prop, fields = _struct_of(defname, path)
            names = ".".join(fields)
            got = _JSON_NAMES.get(type(err.instance), "array")
            short = holder.rsplit(".", 1)[-1]
            raise ApiError(
                400,
                "BadRequest",
                f'{kind} in version "{version}" cannot be handled as a {kind}: json: cannot '
                f"unmarshal {got} into Go struct field {short}.{names} of type "
                f"{_go_type(prop or err.schema)}",
            )
        if err.validator == "required":
            fe = schema_error(err)
            if fe not in out:
                out.append(fe)
    return out


__all__ = ["check", "definitions"]
