"""The OpenAPI documents a Kubernetes API server publishes, built from the schemas of the served
version shipped by the ``kubernetes-validate`` package (nothing is written by hand but the paths).

- ``/openapi/v2``: one Swagger 2.0 document, every definition of the version and the paths of the
  served resources.
- ``/openapi/v3``: an index of group-versions, each pointing at ``/openapi/v3/<gv>?hash=<sha512>``,
  an OpenAPI 3.0 document with that group-version's paths and the schemas they reach.

kubectl reads them for ``apply`` (the strategic-merge patch metadata, ``x-kubernetes-patch-*``),
``explain``, and to learn that the server validates fields itself (``fieldValidation`` on each
PATCH operation), so it sends ``fieldValidation=Strict`` instead of validating client-side.

kubernetes-validate turned the Swagger definitions into JSON Schema (``$defs`` refs, ``null`` in
every type, ``enum`` pins on ``kind``/``apiVersion``, Quantity and IntOrString as ``oneOf``); the
conversion back is mechanical and lossless for what clients read.
"""

from __future__ import annotations

import copy
import hashlib
import json
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

Obj = dict[str, Any]

#: the schema directory of kubernetes-validate for a "major.minor" version
SCHEMA_DIR = "kubernetes-json-schema/v{version}.0-local"
JSON_TYPES = ("application/json", "application/yaml", "application/vnd.kubernetes.protobuf")
PATCH_TYPES = (
    "application/apply-patch+yaml",
    "application/json-patch+json",
    "application/merge-patch+json",
    "application/strategic-merge-patch+json",
)
QUANTITY = "io.k8s.apimachinery.pkg.api.resource.Quantity"
INT_OR_STRING = "io.k8s.apimachinery.pkg.util.intstr.IntOrString"
_DESCRIPTIONS = {
    QUANTITY: (
        "Quantity is a fixed-point representation of a number. It provides convenient "
        "marshaling/unmarshaling in JSON and YAML, in addition to String() and AsInt64() "
        "accessors."
    ),
    INT_OR_STRING: (
        "IntOrString is a type that can hold an int32 or a string.  When used in JSON or YAML "
        "marshalling and unmarshalling, it produces or consumes the inner type.  This allows "
        "you to have, for example, a JSON field that can accept a name or number."
    ),
}
#: the two Go types with custom JSON, as each version of the spec writes them (v3 keeps the
#: oneOf that kubernetes-validate carries; v2 says string with a format)
_PRIMITIVES_V2: dict[str, Obj] = {
    QUANTITY: {"description": _DESCRIPTIONS[QUANTITY], "type": "string"},
    INT_OR_STRING: {
        "description": _DESCRIPTIONS[INT_OR_STRING],
        "format": "int-or-string",
        "type": "string",
    },
}
_PRIMITIVES_V3: dict[str, Obj] = {
    QUANTITY: {
        "description": _DESCRIPTIONS[QUANTITY],
        "oneOf": [{"type": "string"}, {"type": "number"}],
    },
    INT_OR_STRING: {
        "description": _DESCRIPTIONS[INT_OR_STRING],
        "oneOf": [{"type": "integer"}, {"type": "string"}],
    },
}


@dataclass(frozen=True)
class Served:
    """One resource the server serves, as the documents need it."""

    group: str
    version: str
    plural: str
    kind: str
    namespaced: bool
    verbs: tuple[str, ...]
    subresources: tuple[tuple[str, str, str, str], ...] = ()  # (name, group, version, kind)

    @property
    def gv(self) -> str:
        return f"{self.group}/{self.version}" if self.group else self.version

    @property
    def prefix(self) -> str:
        return f"/apis/{self.group}/{self.version}" if self.group else f"/api/{self.version}"


@dataclass
class Documents:
    v2: bytes
    v3: dict[str, bytes]  # "api/v1", "apis/apps/v1" -> document
    v3_hashes: dict[str, str]
    v3_index: bytes = field(default=b"")
    _v2_protobuf: bytes | None = None

    def v2_protobuf(self) -> bytes:
        """The v2 document as gnostic's protobuf (what kubectl asks for), made on first use."""
        with _lock:
            if self._v2_protobuf is None:
                from .gnostic import encode_document

                self._v2_protobuf = encode_document(json.loads(self.v2))
            return self._v2_protobuf


def schema_dir(version: str) -> Path:
    """kubernetes-validate's schemas of ``version``, or of the nearest version it ships."""
    import kubernetes_validate

    root = Path(kubernetes_validate.__file__).parent
    path = root / SCHEMA_DIR.format(version=version)
    if path.is_dir():
        return path

    def minor(p: Path) -> int:
        return int(p.name.split(".")[1])

    want = int(version.split(".")[1])
    shipped = sorted(
        root.glob("kubernetes-json-schema/v1.*.0-local"), key=lambda p: abs(minor(p) - want)
    )
    if not shipped:
        raise FileNotFoundError(f"kubernetes-validate ships no schemas near v{version}")
    return shipped[0]


def load_definitions(version: str) -> dict[str, Obj]:
    """The Swagger definitions of Kubernetes ``version`` ("1.31"), back from kubernetes-validate's
    JSON Schema form; refs are left as the bare definition names (``$ref`` -> ``NAME``)."""
    raw = json.loads((schema_dir(version) / "_definitions.json").read_text())["$defs"]
    return {name: _clean(d, top=True) for name, d in raw.items()}


def _clean(node: Any, top: bool = False) -> Any:
    if isinstance(node, list):
        return [_clean(v) for v in node]
    if not isinstance(node, dict):
        return node
    out: Obj = {}
    for k, v in node.items():
        if k == "type" and isinstance(v, list):
            types = [t for t in v if t != "null"]
            if len(types) == 1:
                out[k] = types[0]
            elif types:
                out[k] = types
        elif k == "$ref" and isinstance(v, str):
            out[k] = v.rsplit("/", 1)[-1]
        elif k == "properties" and top and isinstance(v, dict):
            props = {}
            for name, prop in v.items():
                prop = _clean(prop)
                if name in ("kind", "apiVersion") and isinstance(prop, dict):
                    prop.pop("enum", None)  # added by kubernetes-validate, not in the real spec
                props[name] = prop
            out[k] = props
        else:
            out[k] = _clean(v)
    return out


def _refs(node: Any, out: set[str]) -> None:
    if isinstance(node, dict):
        ref = node.get("$ref")
        if isinstance(ref, str):
            out.add(ref)
        for v in node.values():
            _refs(v, out)
    elif isinstance(node, list):
        for v in node:
            _refs(v, out)


def _closure(defs: dict[str, Obj], roots: set[str]) -> set[str]:
    seen: set[str] = set()
    todo = [r for r in roots if r in defs]
    while todo:
        name = todo.pop()
        if name in seen:
            continue
        seen.add(name)
        found: set[str] = set()
        _refs(defs[name], found)
        todo.extend(f for f in found if f in defs and f not in seen)
    return seen


def _with_refs(node: Any, prefix: str, v3: bool) -> Any:
    """Point bare refs at ``prefix``; in v3 a ref with siblings is wrapped in allOf, as the real
    server writes it."""
    if isinstance(node, list):
        return [_with_refs(v, prefix, v3) for v in node]
    if not isinstance(node, dict):
        return node
    out: Obj = {}
    for k, v in node.items():
        if k == "properties" and isinstance(v, dict):  # names here, not keywords ("$ref" is one)
            out[k] = {name: _with_refs(p, prefix, v3) for name, p in v.items()}
        elif k != "$ref":
            out[k] = _with_refs(v, prefix, v3)
    ref = node.get("$ref")
    if not isinstance(ref, str):
        return out
    if v3 and out:
        return {"allOf": [{"$ref": prefix + ref}], **out}
    return {"$ref": prefix + ref, **out}


def _definition_name(defs: dict[str, Obj], group: str, version: str, kind: str) -> str | None:
    for name, d in defs.items():
        for gvk in d.get("x-kubernetes-group-version-kind") or ():
            if (gvk.get("group"), gvk.get("version"), gvk.get("kind")) == (group, version, kind):
                return name
    return None


# --- paths -------------------------------------------------------------------------------------
def _param(name: str, where: str, desc: str, *, required: bool = False, v3: bool) -> Obj:
    p: Obj = {"name": name, "in": where, "description": desc, "uniqueItems": True}
    if required:
        p["required"] = True
    typ = "boolean" if name == "force" else "string"
    if v3:
        p["schema"] = {"type": typ}
    else:
        p["type"] = typ
    return p


def _write_params(v3: bool, patch: bool = False) -> list[Obj]:
    params = [
        _param(
            "dryRun",
            "query",
            "When present, indicates that modifications should not be persisted.",
            v3=v3,
        ),
        _param(
            "fieldManager",
            "query",
            "fieldManager is a name associated with the actor or entity making these changes.",
            v3=v3,
        ),
        _param(
            "fieldValidation",
            "query",
            "fieldValidation instructs the server on how to handle objects in the request "
            "(POST/PUT/PATCH) containing unknown or duplicate fields: Ignore, Warn or Strict.",
            v3=v3,
        ),
    ]
    if patch:
        params.append(_param("force", "query", 'Force is going to "force" Apply requests.', v3=v3))
    return params


def _operation(
    action: str,
    served: Served,
    kind_ref: str | None,
    gvk: Obj,
    op_id: str,
    v3: bool,
    prefix: str,
    body_ref: str | None = None,
) -> Obj:
    op: Obj = {
        "description": f"{action} {served.kind}",
        "operationId": op_id,
        "tags": [served.gv.replace(".", "_").replace("/", "_")],
        "x-kubernetes-action": action,
        "x-kubernetes-group-version-kind": gvk,
    }
    params: list[Obj] = []
    if action in ("post", "put", "patch"):
        params = _write_params(v3, patch=action == "patch")
    if action == "list":
        params = [
            _param(
                "labelSelector",
                "query",
                "A selector to restrict the list of returned objects by their labels.",
                v3=v3,
            ),
            _param(
                "fieldSelector",
                "query",
                "A selector to restrict the list of returned objects by their fields.",
                v3=v3,
            ),
            _param("watch", "query", "Watch for changes to the described resources.", v3=v3),
        ]
    if params:
        op["parameters"] = params
    schema_ref = {"$ref": prefix + kind_ref} if kind_ref else {"type": "object"}
    body = {"$ref": prefix + body_ref} if body_ref else schema_ref
    if v3:
        if action in ("post", "put"):
            op["requestBody"] = {"content": {"*/*": {"schema": body}}, "required": True}
        elif action == "patch":
            op["requestBody"] = {
                "content": {t: {"schema": body} for t in PATCH_TYPES},
                "required": True,
            }
        op["responses"] = {
            "200": {
                "description": "OK",
                "content": {t: {"schema": schema_ref} for t in JSON_TYPES},
            },
            "401": {"description": "Unauthorized"},
        }
        if action == "post":
            op["responses"]["201"] = {
                "description": "Created",
                "content": {t: {"schema": schema_ref} for t in JSON_TYPES},
            }
    else:
        op["consumes"] = list(PATCH_TYPES) if action == "patch" else ["*/*"]
        op["produces"] = list(JSON_TYPES)
        op["schemes"] = ["https"]
        if action in ("post", "put", "patch"):
            op.setdefault("parameters", []).insert(
                0, {"name": "body", "in": "body", "required": True, "schema": body}
            )
        op["responses"] = {
            "200": {"description": "OK", "schema": schema_ref},
            "401": {"description": "Unauthorized"},
        }
    return op


def _paths(defs: dict[str, Obj], served: list[Served], v3: bool, prefix: str) -> Obj:
    paths: Obj = {}
    for s in served:
        gvk = {"group": s.group, "kind": s.kind, "version": s.version}
        kind_ref = _definition_name(defs, s.group, s.version, s.kind)
        list_ref = _definition_name(defs, s.group, s.version, s.kind + "List")
        base = s.prefix + ("/namespaces/{namespace}" if s.namespaced else "")
        op_base = s.gv.title().replace(".", "").replace("/", "") + s.kind
        path_params = []
        if s.namespaced:
            path_params.append(
                _param("namespace", "path", "object name and auth scope", required=True, v3=v3)
            )
        collection: Obj = {"parameters": path_params} if path_params else {}
        if "list" in s.verbs:
            collection["get"] = _operation("list", s, list_ref, gvk, "list" + op_base, v3, prefix)
        if "create" in s.verbs:
            collection["post"] = _operation(
                "post", s, kind_ref, gvk, "create" + op_base, v3, prefix
            )
        if len(collection) > bool(path_params):
            paths[f"{base}/{s.plural}"] = collection
        if s.namespaced and "list" in s.verbs:
            paths[f"{s.prefix}/{s.plural}"] = {
                "get": _operation(
                    "list", s, list_ref, gvk, f"list{op_base}ForAllNamespaces", v3, prefix
                )
            }
        if "get" not in s.verbs:
            continue
        name_param = _param("name", "path", f"name of the {s.kind}", required=True, v3=v3)
        item: Obj = {"parameters": [name_param, *path_params]}
        item["get"] = _operation("get", s, kind_ref, gvk, "read" + op_base, v3, prefix)
        if "update" in s.verbs:
            item["put"] = _operation("put", s, kind_ref, gvk, "replace" + op_base, v3, prefix)
        if "patch" in s.verbs:
            item["patch"] = _operation(
                "patch",
                s,
                kind_ref,
                gvk,
                "patch" + op_base,
                v3,
                prefix,
                body_ref="io.k8s.apimachinery.pkg.apis.meta.v1.Patch",
            )
        if "delete" in s.verbs:
            item["delete"] = _operation("delete", s, kind_ref, gvk, "delete" + op_base, v3, prefix)
        paths[f"{base}/{s.plural}/{{name}}"] = item
        for sub, group, version, kind in s.subresources:
            sub_gvk = {"group": group, "kind": kind, "version": version}
            sub_ref = _definition_name(defs, group, version, kind)
            sub_item: Obj = {"parameters": [name_param, *path_params]}
            sub_item["get"] = _operation(
                "get", s, sub_ref, sub_gvk, f"read{op_base}{sub.title()}", v3, prefix
            )
            sub_item["put"] = _operation(
                "put", s, sub_ref, sub_gvk, f"replace{op_base}{sub.title()}", v3, prefix
            )
            sub_item["patch"] = _operation(
                "patch",
                s,
                sub_ref,
                sub_gvk,
                f"patch{op_base}{sub.title()}",
                v3,
                prefix,
                body_ref="io.k8s.apimachinery.pkg.apis.meta.v1.Patch",
            )
            paths[f"{base}/{s.plural}/{{name}}/{sub}"] = sub_item
    return paths


# --- the documents -----------------------------------------------------------------------------
def _dumps(doc: Obj) -> bytes:
    return json.dumps(doc, separators=(",", ":"), sort_keys=True).encode()


def custom_definitions(served: Served, schema: Obj) -> dict[str, Obj]:
    """A custom resource's definitions as the API server publishes them: named by its reversed
    group (``com.example.stable.v1.CronTab``), ``apiVersion``/``kind``/``metadata`` added to its
    ``openAPIV3Schema``, and a ``…List`` beside it (refs bare, as :func:`load_definitions`)."""
    name = ".".join([*reversed(served.group.split(".")), served.version, served.kind])
    gvk = {"group": served.group, "version": served.version, "kind": served.kind}
    body = copy.deepcopy(schema) if schema else {"type": "object"}
    props = body.setdefault("properties", {})
    props.setdefault("apiVersion", {"type": "string", "description": _API_VERSION_DOC})
    props.setdefault("kind", {"type": "string", "description": _KIND_DOC})
    props["metadata"] = {"$ref": "io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta"}
    body["x-kubernetes-group-version-kind"] = [gvk]
    items = {"type": "array", "items": {"$ref": name}}
    listing = {
        "description": f"{served.kind}List is a list of {served.kind}",
        "type": "object",
        "required": ["items"],
        "properties": {
            "apiVersion": {"type": "string", "description": _API_VERSION_DOC},
            "items": items,
            "kind": {"type": "string", "description": _KIND_DOC},
            "metadata": {"$ref": "io.k8s.apimachinery.pkg.apis.meta.v1.ListMeta"},
        },
        "x-kubernetes-group-version-kind": [{**gvk, "kind": served.kind + "List"}],
    }
    return {name: body, name + "List": listing}


_API_VERSION_DOC = "APIVersion defines the versioned schema of this representation of an object."
_KIND_DOC = "Kind is a string value representing the REST resource this object represents."


def build(version: str, served: list[Served], custom: dict[str, Obj] | None = None) -> Documents:
    """All documents for Kubernetes ``version`` ("1.31") serving ``served``; ``custom`` holds
    the definitions of the custom resources among them (:func:`custom_definitions`)."""
    defs = {**load_definitions(version), **(custom or {})}
    info = {"title": "Kubernetes", "version": f"v{version}.2"}
    v2 = {
        "swagger": "2.0",
        "info": info,
        "paths": _paths(defs, served, v3=False, prefix="#/definitions/"),
        "definitions": {
            n: _with_refs(_PRIMITIVES_V2.get(n, d), "#/definitions/", False)
            for n, d in defs.items()
        },
    }
    by_gv: dict[str, list[Served]] = {}
    for s in served:
        by_gv.setdefault(s.gv, []).append(s)
    v3: dict[str, bytes] = {}
    hashes: dict[str, str] = {}
    for gv, group in by_gv.items():
        group_name, _, ver = gv.rpartition("/")
        roots = {
            n
            for n, d in defs.items()
            for g in d.get("x-kubernetes-group-version-kind") or ()
            if (g.get("group"), g.get("version")) == (group_name, ver)
        }
        paths = _paths(defs, group, v3=True, prefix="#/components/schemas/")
        _refs(paths, roots)
        roots = {r.rsplit("/", 1)[-1] for r in roots}
        roots |= {
            "io.k8s.apimachinery.pkg.apis.meta.v1.Status",
            "io.k8s.apimachinery.pkg.apis.meta.v1.DeleteOptions",
            "io.k8s.apimachinery.pkg.apis.meta.v1.Patch",
            "io.k8s.apimachinery.pkg.apis.meta.v1.WatchEvent",
        }
        names = _closure(defs, roots)
        doc = {
            "openapi": "3.0.0",
            "info": info,
            "paths": paths,
            "components": {
                "schemas": {
                    n: _with_refs(_PRIMITIVES_V3.get(n, defs[n]), "#/components/schemas/", True)
                    for n in sorted(names)
                }
            },
        }
        key = f"apis/{gv}" if group_name else f"api/{gv}"
        v3[key] = _dumps(doc)
        hashes[key] = hashlib.sha512(v3[key]).hexdigest().upper()
    index = {
        "paths": {
            key: {"serverRelativeURL": f"/openapi/v3/{key}?hash={h}"}
            for key, h in sorted(hashes.items())
        }
    }
    return Documents(v2=_dumps(v2), v3=v3, v3_hashes=hashes, v3_index=_dumps(index))


_cache: dict[tuple, Documents] = {}
_lock = threading.Lock()


def documents(
    version: str, served: list[Served], custom: dict[str, Obj] | None = None
) -> Documents:
    """:func:`build`, once per (version, served, custom definitions) in the process."""
    key = (version, tuple(served), json.dumps(custom, sort_keys=True) if custom else "")
    with _lock:
        docs = _cache.get(key)
        if docs is None:
            if len(_cache) > 32:  # CRDs come and go: keep the recent documents only
                _cache.pop(next(iter(_cache)))
            docs = _cache[key] = build(version, served, custom)
        return docs
