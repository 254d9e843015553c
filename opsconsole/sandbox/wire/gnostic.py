"""The Swagger 2.0 document in the protobuf form kubectl asks ``/openapi/v2`` for
(``application/com.github.proto-openapi.spec.v2@v1.0+protobuf``): gnostic's ``openapi.v2.Document``.

Field numbers from google/gnostic, openapiv2/OpenAPIv2.proto (commit
96635ff3a800e184f8b2f7bf9b3b765d0fa071cd, Apache-2.0). Only the encoding direction is needed, and
only the parts a Kubernetes document uses: info, paths (operations, parameters, responses) and
definitions (schemas with their ``x-`` extensions, whose values gnostic keeps as YAML text).
"""

from __future__ import annotations

import json
import struct
from typing import Any

from .protobuf import _varint

MEDIA_TYPE = "application/com.github.proto-openapi.spec.v2@v1.0+protobuf"  # what clients ask
#: what the server answers with ("@" is no token character: Go's mime parser rejects it)
RESPONSE_TYPE = "application/com.github.proto-openapi.spec.v2.v1.0+protobuf"

Obj = dict[str, Any]

# message -> JSON key -> (field number, kind); kinds: s string, b bool, i int64, d double,
# S repeated string, Y an Any (YAML text), YS repeated Any, or a message writer below
_SCHEMA_SCALARS: dict[str, tuple[int, str]] = {
    "$ref": (1, "s"),
    "format": (2, "s"),
    "title": (3, "s"),
    "description": (4, "s"),
    "default": (5, "Y"),
    "multipleOf": (6, "d"),
    "maximum": (7, "d"),
    "exclusiveMaximum": (8, "b"),
    "minimum": (9, "d"),
    "exclusiveMinimum": (10, "b"),
    "maxLength": (11, "i"),
    "minLength": (12, "i"),
    "pattern": (13, "s"),
    "maxItems": (14, "i"),
    "minItems": (15, "i"),
    "uniqueItems": (16, "b"),
    "maxProperties": (17, "i"),
    "minProperties": (18, "i"),
    "required": (19, "S"),
    "enum": (20, "YS"),
    "discriminator": (26, "s"),
    "readOnly": (27, "b"),
    "example": (30, "Y"),
}
_SCHEMA_VENDOR = 31
# the non-body parameter sub-schemas differ in their numbering (query has allowEmptyValue)
_QUERY = {"required": 1, "in": 2, "description": 3, "name": 4, "type": 6, "format": 7}
_QUERY_UNIQUE, _QUERY_VENDOR = 20, 23
_PATH = {"required": 1, "in": 2, "description": 3, "name": 4, "type": 5, "format": 6}
_PATH_UNIQUE, _PATH_VENDOR = 19, 22
_OPERATIONS = {"get": 2, "put": 3, "post": 4, "delete": 5, "options": 6, "head": 7, "patch": 8}


def _field(no: int, payload: bytes) -> bytes:
    return _varint((no << 3) | 2) + _varint(len(payload)) + payload


def _str(no: int, value: Any) -> bytes:
    return _field(no, str(value).encode())


def _scalar(no: int, kind: str, value: Any) -> bytes:
    if kind == "s":
        return _str(no, value)
    if kind == "b":
        return _varint(no << 3) + (b"\x01" if value else b"\x00")
    if kind == "i":
        return _varint(no << 3) + _varint(int(value))
    if kind == "d":
        return _varint((no << 3) | 1) + struct.pack("<d", float(value))
    if kind == "S":
        return b"".join(_str(no, v) for v in value)
    if kind == "Y":
        return _field(no, _any(value))
    if kind == "YS":
        return b"".join(_field(no, _any(v)) for v in value)
    raise ValueError(kind)


def _any(value: Any) -> bytes:
    """gnostic's Any: the value as YAML text (JSON is YAML) in field 2."""
    return _str(2, json.dumps(value, separators=(",", ":")))


def _vendor(no: int, node: Obj) -> bytes:
    return b"".join(
        _field(no, _str(1, k) + _field(2, _any(v))) for k, v in node.items() if k.startswith("x-")
    )


def schema(node: Obj) -> bytes:
    out = bytearray()
    for key, (no, kind) in _SCHEMA_SCALARS.items():
        if key in node and node[key] is not None:
            out += _scalar(no, kind, node[key])
    extra = node.get("additionalProperties")
    if isinstance(extra, bool):
        out += _field(21, _scalar(2, "b", extra))
    elif isinstance(extra, dict):
        out += _field(21, _field(1, schema(extra)))
    typ = node.get("type")
    if typ is not None:
        out += _field(22, _scalar(1, "S", typ if isinstance(typ, list) else [typ]))
    items = node.get("items")
    if isinstance(items, dict):
        items = [items]
    if isinstance(items, list):
        out += _field(23, b"".join(_field(1, schema(i)) for i in items))
    for sub in node.get("allOf") or ():
        out += _field(24, schema(sub))
    props = node.get("properties")
    if isinstance(props, dict):
        out += _field(
            25, b"".join(_field(1, _str(1, k) + _field(2, schema(v))) for k, v in props.items())
        )
    out += _vendor(_SCHEMA_VENDOR, node)
    return bytes(out)


def _parameter(p: Obj) -> bytes:
    if "$ref" in p:
        return _field(2, _str(1, p["$ref"]))  # ParametersItem.json_reference
    if p.get("in") == "body":
        body = _str(1, p.get("description", "")) + _str(2, p.get("name", "body")) + _str(3, "body")
        if p.get("required"):
            body += _scalar(4, "b", True)
        if isinstance(p.get("schema"), dict):
            body += _field(5, schema(p["schema"]))
        return _field(1, _field(1, body))  # ParametersItem.parameter.body_parameter
    numbers, unique, vendor, which = (
        (_PATH, _PATH_UNIQUE, _PATH_VENDOR, 4)
        if p.get("in") == "path"
        else (_QUERY, _QUERY_UNIQUE, _QUERY_VENDOR, 3)
    )
    sub = bytearray()
    for key, no in numbers.items():
        if key in p:
            sub += _scalar(no, "b" if key == "required" else "s", p[key])
    if p.get("uniqueItems"):
        sub += _scalar(unique, "b", True)
    sub += _vendor(vendor, p)
    return _field(1, _field(2, _field(which, bytes(sub))))  # parameter.non_body_parameter.<in>


def _operation(op: Obj) -> bytes:
    out = bytearray(_scalar(1, "S", op.get("tags") or ()))
    if op.get("description"):
        out += _str(3, op["description"])
    if op.get("operationId"):
        out += _str(5, op["operationId"])
    out += _scalar(6, "S", op.get("produces") or ())
    out += _scalar(7, "S", op.get("consumes") or ())
    for p in op.get("parameters") or ():
        out += _field(8, _parameter(p))
    responses = bytearray()
    for code, resp in (op.get("responses") or {}).items():
        r = _str(1, resp.get("description", ""))
        if isinstance(resp.get("schema"), dict):
            r += _field(2, _field(1, schema(resp["schema"])))
        responses += _field(1, _str(1, code) + _field(2, _field(1, r)))
    out += _field(9, bytes(responses))
    out += _scalar(10, "S", op.get("schemes") or ())
    out += _vendor(13, op)
    return bytes(out)


def _path_item(item: Obj) -> bytes:
    out = bytearray()
    for verb, no in _OPERATIONS.items():
        if isinstance(item.get(verb), dict):
            out += _field(no, _operation(item[verb]))
    for p in item.get("parameters") or ():
        out += _field(9, _parameter(p))
    out += _vendor(10, item)
    return bytes(out)


def encode_document(doc: Obj) -> bytes:
    """A Swagger 2.0 document (as JSON) -> gnostic's openapi.v2.Document bytes."""
    info = doc.get("info") or {}
    out = bytearray(_str(1, doc.get("swagger", "2.0")))
    out += _field(2, _str(1, info.get("title", "")) + _str(2, info.get("version", "")))
    paths = b"".join(
        _field(2, _str(1, name) + _field(2, _path_item(item)))
        for name, item in (doc.get("paths") or {}).items()
    )
    out += _field(8, paths)
    defs = b"".join(
        _field(1, _str(1, name) + _field(2, schema(d)))
        for name, d in (doc.get("definitions") or {}).items()
    )
    out += _field(9, defs)
    return bytes(out)
