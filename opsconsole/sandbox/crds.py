"""Custom resources: what a CustomResourceDefinition makes the server serve.

A CRD, once stored, adds a resource per served version to the cluster's :class:`Registry`
(discovery, ``kubectl api-resources``, short names, categories), with its ``status`` / ``scale``
subresources and ``additionalPrinterColumns``; its status says NamesAccepted and Established.
Objects of the kind are validated against the version's ``openAPIV3Schema`` (``jsonschema``),
pruned of fields the schema does not declare (unless ``x-kubernetes-preserve-unknown-fields``)
and defaulted from its ``default`` values. Deleting the CRD deletes every object of it.
"""

from __future__ import annotations

import copy
import re
import time
from typing import TYPE_CHECKING, Any

import jsonschema

from . import resources as R
from .store import DELETED, Obj, iso
from .tables import AGE, NAME, age
from .validation import (
    FieldError,
    invalid,
    invalid_error,
    required,
    schema_errors,
)

if TYPE_CHECKING:
    from .cluster import Cluster

CRD_KEY = "apiextensions.k8s.io/customresourcedefinitions"
_STATUS_VERBS = ("get", "patch", "update")
#: the patch types a custom resource takes (a strategic merge patch needs Go struct tags)
CR_PATCH_TYPES = (
    "application/json-patch+json",
    "application/merge-patch+json",
    "application/apply-patch+yaml",
)


def to_json_schema(node: Any) -> Any:
    """An OpenAPI v3 structural schema as JSON Schema: ``nullable`` and
    ``x-kubernetes-int-or-string`` spelled out, the rest as it is (``x-*`` keys are ignored by
    the validator)."""
    if isinstance(node, list):
        return [to_json_schema(v) for v in node]
    if not isinstance(node, dict):
        return node
    out: Obj = {}
    for k, v in node.items():
        if k in ("properties", "patternProperties"):
            out[k] = {name: to_json_schema(s) for name, s in v.items()}
        elif k in ("default", "example", "enum"):
            out[k] = v
        else:
            out[k] = to_json_schema(v)
    if out.get("x-kubernetes-int-or-string"):
        out.pop("type", None)
        out["anyOf"] = [{"type": "integer"}, {"type": "string"}]
    if out.get("nullable") and isinstance(out.get("type"), str):
        out["type"] = [out["type"], "null"]
        if "enum" in out:
            out["enum"] = [*out["enum"], None]
    return out


def prune(value: Any, schema: Obj | None, path: str, dropped: list[str], root: bool = False) -> Any:
    """Drop what ``schema`` does not declare (in place) and fill in its defaults; the paths of
    the dropped fields go to ``dropped``."""
    if schema is None or schema.get("x-kubernetes-preserve-unknown-fields"):
        if isinstance(value, dict) and schema is not None and "properties" in schema:
            for k, sub in schema["properties"].items():
                if k in value:
                    value[k] = prune(value[k], sub, f"{path}{k}.", dropped)
        return value
    if isinstance(value, dict):
        props = schema.get("properties")
        extra = schema.get("additionalProperties")
        for k in list(value):
            if root and k in ("apiVersion", "kind", "metadata"):
                continue
            if props is not None and k in props:
                value[k] = prune(value[k], props[k], f"{path}{k}.", dropped)
            elif isinstance(extra, dict):
                value[k] = prune(value[k], extra, f"{path}{k}.", dropped)
            elif extra is True or (props is None and extra is None and not root):
                continue
            else:
                dropped.append(path + k)
                del value[k]
        for k, sub in (props or {}).items():
            if k not in value and isinstance(sub, dict) and "default" in sub:
                value[k] = copy.deepcopy(sub["default"])
                value[k] = prune(value[k], sub, f"{path}{k}.", dropped)
        return value
    if isinstance(value, list) and isinstance(schema.get("items"), dict):
        return [
            prune(v, schema["items"], f"{path[:-1]}[{i}].", dropped) for i, v in enumerate(value)
        ]
    return value


def jsonpath(obj: Any, expr: str) -> Any:
    """The value at a printer column's JSONPath (``.spec.a.b``, ``[0]``, ``[?(@.k=="v")]``), or
    None."""
    expr = expr.strip()
    if expr.startswith("{") and expr.endswith("}"):
        expr = expr[1:-1]
    tokens = re.findall(
        r"\[\?\(@\.([\w.-]+)\s*==\s*['\"]([^'\"]*)['\"]\)\]|\[(\d+)\]|\.([\w-]+)", expr
    )
    cur = obj
    for fkey, fval, idx, name in tokens:
        if cur is None:
            return None
        if name:
            cur = cur.get(name) if isinstance(cur, dict) else None
        elif idx:
            cur = cur[int(idx)] if isinstance(cur, list) and int(idx) < len(cur) else None
        else:
            items = cur if isinstance(cur, list) else []
            cur = next((i for i in items if isinstance(i, dict) and _get(i, fkey) == fval), None)
    return cur


def _get(obj: Obj, dotted: str) -> Any:
    cur: Any = obj
    for part in dotted.split("."):
        cur = cur.get(part) if isinstance(cur, dict) else None
    return cur


class Printer:
    """The Table of a custom resource: Name, then its additionalPrinterColumns (Age when it
    declares none), each cell from the column's JSONPath."""

    def __init__(self, columns: list[Obj]) -> None:
        self.columns = columns or [
            {"name": "Age", "type": "date", "jsonPath": ".metadata.creationTimestamp"}
        ]
        self.definitions = [NAME] + [
            AGE
            if c.get("jsonPath") == ".metadata.creationTimestamp" and c.get("name") == "Age"
            else {
                "name": c["name"],
                "type": c.get("type", "string"),
                "format": c.get("format", ""),
                "description": c.get("description", ""),
                "priority": int(c.get("priority", 0)),
            }
            for c in self.columns
        ]

    def cells(self, obj: Obj, now: float) -> list[Any]:
        out: list[Any] = [obj["metadata"]["name"]]
        for c in self.columns:
            v = jsonpath(obj, c.get("jsonPath", ""))
            typ = c.get("type", "string")
            if v is None:
                out.append(None)
            elif typ == "date":
                out.append(age(str(v), now))
            elif typ == "integer" and isinstance(v, int | float):
                out.append(int(v))
            elif typ == "number" and isinstance(v, int | float):
                out.append(v)
            elif typ == "boolean" and isinstance(v, bool):
                out.append(v)
            else:
                out.append(v if isinstance(v, str) else str(v))
        return out


class CustomResources:
    """Keeps the cluster's Registry in step with its CRDs; validates and prunes their objects."""

    def __init__(self, cluster: Cluster) -> None:
        self.c = cluster
        self._versions: dict[tuple[str, str, str], Obj] = {}  # (group, version, plural) -> version
        self._validators: dict[tuple[str, str, str], Any] = {}
        self.printers: dict[tuple[str, str, str], Printer] = {}
        cluster.store.listeners.append(self._on_change)

    # --- the CRDs -----------------------------------------------------------------------------
    def _on_change(self, rkey: str, etype: str, old: Obj | None, new: Obj) -> None:
        if rkey != CRD_KEY:
            return
        if etype == DELETED:
            self.removed(old or new)
        else:
            self.defined(new)

    def load_all(self) -> None:
        """The CRDs of a scenario (stored without events)."""
        for crd in self.c.store.list(CRD_KEY):
            self.defined(crd)

    def check(self, crd: Obj) -> list[FieldError]:
        """What the API server refuses in a CRD."""
        errs: list[FieldError] = []
        spec = crd.get("spec") or {}
        names = spec.get("names") or {}
        group = spec.get("group") or ""
        plural = names.get("plural") or ""
        if not group:
            errs.append(required("spec.group"))
        if not plural:
            errs.append(required("spec.names.plural"))
        if not names.get("kind"):
            errs.append(required("spec.names.kind"))
        name = (crd.get("metadata") or {}).get("name", "")
        if group and plural and name != f"{plural}.{group}":
            errs.append(invalid("metadata.name", name, 'must be spec.names.plural+"."+spec.group'))
        scope = spec.get("scope")
        if scope not in ("Namespaced", "Cluster"):
            errs.append(
                FieldError(
                    "spec.scope", "unsupported", 'supported values: "Cluster", "Namespaced"', scope
                )
                if scope
                else required("spec.scope")
            )
        versions = spec.get("versions") or []
        if not versions:
            errs.append(
                required("spec.versions", "must have exactly one version marked as storage version")
            )
        elif sum(1 for v in versions if v.get("storage")) != 1:
            errs.append(
                invalid(
                    "spec.versions",
                    [v.get("name") for v in versions],
                    "must have exactly one version marked as storage version",
                )
            )
        for i, v in enumerate(versions):
            if not ((v.get("schema") or {}).get("openAPIV3Schema")):
                errs.append(
                    required(f"spec.versions[{i}].schema.openAPIV3Schema", "schemas are required")
                )
        return errs

    def defaults(self, crd: Obj) -> None:
        spec = crd.setdefault("spec", {})
        names = spec.setdefault("names", {})
        if names.get("kind"):
            names.setdefault("singular", names["kind"].lower())
            names.setdefault("listKind", names["kind"] + "List")
        spec.setdefault("conversion", {"strategy": "None"})
        for v in spec.get("versions") or []:
            v.setdefault("served", True)

    def defined(self, crd: Obj) -> None:
        spec = crd.get("spec") or {}
        names = spec.get("names") or {}
        group, plural, kind = spec.get("group", ""), names.get("plural", ""), names.get("kind", "")
        if not (group and plural and kind):
            return
        self.c.registry.undefine(group, plural)
        for path in [p for p in self._versions if p[0] == group and p[2] == plural]:
            self._versions.pop(path)
            self._validators.pop(path, None)
            self.printers.pop(path, None)
        for v in spec.get("versions") or []:
            if not v.get("served", True):
                continue
            res = R.Resource(
                group,
                v["name"],
                plural,
                kind,
                spec.get("scope") == "Namespaced",
                short_names=tuple(names.get("shortNames") or ()),
                categories=tuple(names.get("categories") or ()),
                custom=True,
                singular_name=names.get("singular") or kind.lower(),
            )
            subs: dict[str, tuple[str, tuple[str, ...]]] = {}
            declared = v.get("subresources") or {}
            if "status" in declared:
                subs["status"] = (kind, _STATUS_VERBS)
            if "scale" in declared:
                subs["scale"] = ("Scale", _STATUS_VERBS)
            columns = list(v.get("additionalPrinterColumns") or [])
            path = (group, v["name"], plural)
            self.c.registry.define(res, subs, columns)
            self._versions[path] = v
            self.printers[path] = Printer(columns)
        self._mark_established(crd)

    def _mark_established(self, crd: Obj) -> None:
        spec = crd.get("spec") or {}
        names = dict(spec.get("names") or {})
        md = crd["metadata"]
        old = crd.get("status") or {}
        when = {c.get("type"): c.get("lastTransitionTime") for c in old.get("conditions") or ()}
        now = iso(time.time())
        status = {
            "acceptedNames": names,
            "conditions": [
                {
                    "type": "NamesAccepted",
                    "status": "True",
                    "lastTransitionTime": when.get("NamesAccepted") or now,
                    "reason": "NoConflicts",
                    "message": "no conflicts found",
                },
                {
                    "type": "Established",
                    "status": "True",
                    "lastTransitionTime": when.get("Established") or now,
                    "reason": "InitialNamesAccepted",
                    "message": "the initial names have been accepted",
                },
            ],
            "storedVersions": [v["name"] for v in spec.get("versions") or [] if v.get("storage")],
        }
        if old != status:
            self.c.store.set_field(CRD_KEY, "", md["name"], "status", status)

    def removed(self, crd: Obj) -> None:
        spec = crd.get("spec") or {}
        group, plural = spec.get("group", ""), (spec.get("names") or {}).get("plural", "")
        key = f"{group}/{plural}"
        for ns, name in list(self.c.store.keys(key)):
            self.c.delete_object(key, ns, name)
        self.c.registry.undefine(group, plural)
        for path in [p for p in self._versions if p[0] == group and p[2] == plural]:
            self._versions.pop(path)
            self._validators.pop(path, None)
            self.printers.pop(path, None)

    def openapi(self) -> tuple[list[Any], dict[str, Obj]]:
        """The served custom resources and their definitions, for the OpenAPI documents."""
        from .wire.openapi import Served, custom_definitions

        served, defs = [], {}
        for res in self.c.registry.all():
            if not res.custom:
                continue
            subs = tuple(
                (sub, "autoscaling", "v1", "Scale")
                if sub == "scale"
                else (sub, res.group, res.version, res.kind)
                for sub in self.c.registry.subresources(res)
            )
            s = Served(
                res.group, res.version, res.plural, res.kind, res.namespaced, res.verbs, subs
            )
            served.append(s)
            defs.update(custom_definitions(s, self._schema(res)))
        return served, defs

    # --- their objects ------------------------------------------------------------------------
    def version_of(self, res: R.Resource) -> Obj:
        return self._versions.get((res.group, res.version, res.plural)) or {}

    def has_status(self, res: R.Resource) -> bool:
        return "status" in (self.version_of(res).get("subresources") or {})

    def printer(self, res: R.Resource) -> Printer | None:
        return self.printers.get((res.group, res.version, res.plural))

    def _schema(self, res: R.Resource) -> Obj:
        return (self.version_of(res).get("schema") or {}).get("openAPIV3Schema") or {}

    def prune(self, res: R.Resource, obj: Obj) -> list[str]:
        """Drop undeclared fields in place, apply defaults; the dropped paths."""
        dropped: list[str] = []
        prune(obj, self._schema(res), "", dropped, root=True)
        return dropped

    def errors(self, res: R.Resource, obj: Obj) -> list[FieldError]:
        path = (res.group, res.version, res.plural)
        validator = self._validators.get(path)
        if validator is None:
            schema = to_json_schema(self._schema(res))
            body = dict(schema)
            props = dict(body.get("properties") or {})
            props.pop("metadata", None)  # metadata is the server's, validated as ObjectMeta
            body["properties"] = props
            validator = jsonschema.Draft202012Validator(body)
            self._validators[path] = validator
        return schema_errors(validator, obj)

    def validate(self, res: R.Resource, obj: Obj) -> None:
        errs = self.errors(res, obj)
        if errs:
            raise invalid_error(res.kind, res.group, obj["metadata"].get("name", ""), errs)


__all__ = ["CR_PATCH_TYPES", "CRD_KEY", "CustomResources", "Printer"]
