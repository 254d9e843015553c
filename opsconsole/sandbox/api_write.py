"""The writing half of the API: create, update, patch, delete, the scale subresource."""

from __future__ import annotations

import json
import time
from typing import TYPE_CHECKING, Any

import yaml

from . import managed, schemas, semantics
from . import resources as R
from .apitypes import (
    ApiError,
    Body,
    Response,
    _details,
    _q_int,
    _qualified,
    not_found,
    ok,
    parse_body,
)
from .crds import CR_PATCH_TYPES, CRD_KEY
from .defaults import CONTROLLED, DEFAULTS, GENERATION, api_create_defaults
from .namespaces import prepare as prepare_namespace
from .patch import PatchError, apply_patch
from .pods import huid
from .selectors import selector_string
from .store import Obj, dumps, iso
from .validation import invalid_error, required
from .wire.fields import prune_unknown, unknown_fields
from .wire.protobuf import schema as proto_schema

if TYPE_CHECKING:
    from .cluster import Cluster

APPLY = "application/apply-patch+yaml"


def parse_apply_body(body: Body) -> Obj:
    """An apply configuration: YAML (JSON is YAML too), an object with apiVersion and kind."""
    if isinstance(body, dict):
        return body
    try:
        config = yaml.safe_load(body or b"{}")
    except yaml.YAMLError as e:
        raise ApiError(400, "BadRequest", f"error decoding YAML: {e}") from None
    if not isinstance(config, dict):
        raise ApiError(400, "BadRequest", "the body of the request was in an unknown format")
    return config


class Writes:
    """POST, PUT, PATCH and DELETE of stored objects, and the scale subresource; the cluster's
    controllers are told of every change that concerns them."""

    def __init__(self, cluster: Cluster) -> None:
        self.c = cluster

    def check_fields(self, res: R.Resource, obj: Obj, query: dict[str, str]) -> dict[str, str]:
        """fieldValidation: Strict fails on unknown fields; Warn (the default) and Ignore drop
        them, Warn with a Warning header. Returns the headers for the answer."""
        mode = query.get("fieldValidation") or "Warn"
        if mode not in ("Strict", "Warn", "Ignore"):
            raise ApiError(
                400,
                "BadRequest",
                f'fieldValidation "{mode}" is invalid: must be one of Ignore, Warn, Strict',
            )
        if res.custom:  # pruned by the CRD's schema (and defaulted from it)
            unknown: list[str] | None = self.c.crds.prune(res, obj)
        else:
            schema = proto_schema()
            unknown = unknown_fields(schema, obj)
        if not unknown:
            return {}
        if mode == "Strict":
            raise ApiError(
                400,
                "BadRequest",
                f'{res.kind} in version "{res.version}" cannot be handled as a {res.kind}: '
                "strict decoding error: " + ", ".join(f'unknown field "{p}"' for p in unknown),
            )
        if not res.custom:
            prune_unknown(schema, obj)
        if mode == "Ignore":
            return {}
        return {"Warning": ", ".join('299 - "unknown field \\"' + p + '\\""' for p in unknown)}

    def admit(self, res: R.Resource, obj: Obj, old: Obj | None) -> None:
        """Validation as the API server does it: a value of the wrong type is the decoder's
        400, everything else one 422 Invalid with a cause per field."""
        name = (obj.get("metadata") or {}).get("name", "")
        if res.custom:
            errs = semantics.metadata_errors(res, obj) + self.c.crds.errors(res, obj)
        else:
            errs = schemas.check(res.group, res.version, res.kind, obj)
            for e in semantics.create_errors(res, obj):
                if e not in errs:
                    errs.append(e)
            if old is not None:
                errs += semantics.update_errors(res, obj, old)
            if res.key == CRD_KEY:
                errs += self.c.crds.check(obj)
        if errs:
            raise invalid_error(res.kind, res.group, name, errs)
        if res.key == CRD_KEY:
            self.c.crds.defaults(obj)

    def get(self, res: R.Resource, ns: str, name: str) -> Obj:
        obj = self.c.store.get(res.key, ns, name)
        if obj is None:
            raise not_found(res, name)
        return obj

    # --- writing --------------------------------------------------------------------------
    def create(
        self,
        res: R.Resource,
        ns: str | None,
        query: dict[str, str],
        body: Body,
        dry_run: bool,
        headers: Any = None,
        applied: bool = False,
    ) -> Response:
        """POST (or the first server-side apply: ``applied``, the body the applied config)."""
        obj = parse_body(body)
        if not isinstance(obj, dict):
            raise ApiError(400, "BadRequest", "the body of the request was in an unknown format")
        obj["kind"], obj["apiVersion"] = res.kind, res.api_version
        warnings = self.check_fields(res, obj, query)  # decoding comes first, as in the server
        md = obj.setdefault("metadata", {})
        if not md.get("name") and md.get("generateName"):
            from .pods import hname

            md["name"] = md["generateName"] + hname(f"{time.time()}", 5)
        name = md.get("name")
        if not name:
            raise invalid_error(
                res.kind,
                res.group,
                "",
                [required("metadata.name", "name or generateName is required")],
            )
        if res.namespaced:
            md["namespace"] = ns or md.get("namespace") or "default"
            self.c.namespaces.refuse_content(res, md["namespace"], name)
        store = self.c.store
        if store.get(res.key, md.get("namespace", ""), name) is not None:
            raise ApiError(
                409,
                "AlreadyExists",
                f'{_qualified(res)} "{name}" already exists',
                _details(res, name),
            )
        md["uid"] = huid(f"{res.key}/{name}/{time.time()}")
        md["creationTimestamp"] = iso(time.time())
        if res.key in GENERATION:
            md["generation"] = 1
            obj.setdefault("status", {})
        if res.custom:
            md["generation"] = 1
            if self.c.crds.has_status(res):
                obj.pop("status", None)  # set through the status subresource only
        self.admit(res, obj, None)
        manager = managed.manager_of(query, headers)
        if applied:  # the applier owns its configuration, not what defaults add to it
            obj = managed.apply(None, obj, manager, True, res.api_version)
            md = obj["metadata"]
        defaults = DEFAULTS.get(res.key)
        if defaults is not None:
            defaults(obj)
        api_create_defaults(res.key, obj)
        if not applied:
            managed.record_update(None, obj, manager, res.api_version)
        if res.key == "persistentvolumeclaims":
            self.c.volumes.admit(obj)
        if res.key == "persistentvolumes":
            obj["status"] = {"phase": "Available"}
        if res.key == "pods" and not dry_run:
            return ok(self.c.create_bare_pod(obj), 201, warnings)
        if res.key == "namespaces":
            prepare_namespace(obj)
        if res.key == "services":
            spec = obj.setdefault("spec", {})
            spec.setdefault("type", "ClusterIP")
            if not spec.get("clusterIP"):
                n = int(md["uid"].replace("-", "")[:6], 16)
                spec["clusterIP"] = f"10.96.{n % 250}.{(n >> 8) % 250 + 2}"
            spec.setdefault("clusterIPs", [spec["clusterIP"]])
            for port in spec.get("ports") or []:
                port.setdefault("protocol", "TCP")
                port.setdefault("targetPort", port.get("port"))
            obj.setdefault("status", {"loadBalancer": {}})
        created = store.create(res.key, obj, dry_run=dry_run)
        if not dry_run and res.key == "namespaces":
            self.c.namespaces.created(created)
        if not dry_run and res.key == "services":
            ns = md["namespace"]
            if store.get("endpoints", ns, name) is None:
                store.create(
                    "endpoints",
                    {
                        "apiVersion": "v1",
                        "kind": "Endpoints",
                        "metadata": {
                            "name": name,
                            "namespace": ns,
                            "labels": dict(md.get("labels") or {}),
                        },
                    },
                )
            self.c.endpoints.sync(ns)
        if not dry_run and res.key in CONTROLLED:
            self.c.controllers.spec_changed(res.key, md.get("namespace", ""), name)
            created = store.get(res.key, md.get("namespace", ""), name) or created
        return ok(created, 201, warnings)

    def delete(
        self, res: R.Resource, ns: str, name: str, query: dict[str, str], body: Body, dry_run: bool
    ) -> Response:
        obj = self.get(res, ns, name)
        opts = parse_body(body) if body else {}
        grace = _q_int(query, "gracePeriodSeconds")
        if grace is None and isinstance(opts, dict) and opts.get("gracePeriodSeconds") is not None:
            grace = int(opts["gracePeriodSeconds"])
        if isinstance(opts, dict) and opts.get("dryRun") == ["All"]:
            dry_run = True
        if res.key == "pods":
            return ok(self.c.delete_pod(ns, name, grace, dry_run=dry_run))
        if res.key == "namespaces":
            return ok(self.c.namespaces.delete(name, dry_run))
        policy = (opts.get("propagationPolicy") if isinstance(opts, dict) else None) or query.get(
            "propagationPolicy"
        )
        if isinstance(opts, dict) and opts.get("orphanDependents") is True and not policy:
            policy = "Orphan"
        if policy not in (None, "", "Orphan", "Foreground", "Background"):
            raise ApiError(
                422,
                "Invalid",
                f'DeleteOptions.meta.k8s.io "" is invalid: propagationPolicy: Unsupported value: '
                f'"{policy}": supported values: "Foreground", "Background", "Orphan", "nil"',
            )
        if not dry_run:
            kept = self.c.gc.delete(res.key, ns, name, policy)
            if kept is not None:  # finalizers pending: the server answers with the object
                return ok(kept)
        return ok(
            {
                "kind": "Status",
                "apiVersion": "v1",
                "metadata": {},
                "status": "Success",
                "details": dict(_details(res, name), uid=obj["metadata"]["uid"]),
            }
        )

    def apply_write(
        self, res: R.Resource, ns: str, name: str, new: Obj, dry_run: bool, sub: str | None
    ) -> Obj:
        store = self.c.store
        old = self.get(res, ns, name)
        rv = new.get("metadata", {}).get("resourceVersion")
        if rv and rv != old["metadata"]["resourceVersion"]:
            raise ApiError(
                409,
                "Conflict",
                f"Operation cannot be fulfilled on {_qualified(res)} "
                f'"{name}": the object has been modified; please apply your changes '
                "to the latest version and try again",
                _details(res, name),
            )
        md = new.setdefault("metadata", {})
        for k in (
            "uid",
            "creationTimestamp",
            "name",
            "generation",
            "deletionTimestamp",
            "ownerReferences",
        ):
            if k in old["metadata"] and k not in ("generation",):
                md[k] = old["metadata"][k]
        if res.namespaced:
            md["namespace"] = ns
        new["kind"], new["apiVersion"] = res.kind, res.api_version
        keeps_status = not res.custom or self.c.crds.has_status(res)
        if sub == "status":
            new = dict(old, status=new.get("status", old.get("status")))
        elif keeps_status:
            if "status" in old:
                new["status"] = old["status"]
            else:
                new.pop("status", None)
            spec_changed = new.get("spec") != old.get("spec")
            gen = int(old["metadata"].get("generation", 1))
            if "generation" in old["metadata"]:
                md["generation"] = gen + 1 if spec_changed else gen
            replicas = (new.get("spec") or {}).get("replicas")
            if replicas is not None and (not isinstance(replicas, int) or replicas < 0):
                raise ApiError(
                    422,
                    "Invalid",
                    f'{res.kind}.apps "{name}" is invalid: '
                    f"spec.replicas: Invalid value: {replicas}: must be greater than "
                    "or equal to 0",
                    _details(res, name),
                )
        if res.key == "persistentvolumeclaims" and sub != "status":
            self.c.volumes.check_update(old, new)
        if dry_run:
            md["resourceVersion"] = old["metadata"]["resourceVersion"]
            return new
        stored = store.replace(res.key, new)
        if md.get("deletionTimestamp") and old["metadata"].get("finalizers"):
            if not md.get("finalizers"):  # the last finalizer went: so does the object
                store.delete(res.key, ns, name)
                self.c.controllers.cascade_delete(stored)
                self.c.controllers.flush()
                return stored
        annotated = md.get("annotations") != old["metadata"].get("annotations")
        if sub != "status" and (
            new.get("spec") != old.get("spec")
            or (annotated and res.key == "apps/deployments")  # change-cause goes to the RS
        ):
            self.c.controllers.spec_changed(res.key, ns, name)
            stored = store.get(res.key, ns, name) or stored
        self.c.controllers.flush()
        return stored

    def write(
        self,
        res: R.Resource,
        ns: str,
        name: str,
        method: str,
        headers: Any,
        body: Body,
        dry_run: bool,
        sub: str | None,
        query: dict[str, str],
    ) -> Response:
        ctype = (headers.get("Content-Type", "") or "").split(";")[0].strip()
        if method == "PATCH" and ctype == APPLY:
            return self.server_side_apply(res, ns, name, headers, body, dry_run, sub, query)
        old = self.get(res, ns, name)
        payload = parse_body(body)
        if method == "PATCH" and res.custom and ctype not in CR_PATCH_TYPES:
            raise ApiError(
                415,
                "UnsupportedMediaType",
                "the body of the request was in an unknown format - accepted media types "
                "include: " + ", ".join(CR_PATCH_TYPES),
            )
        if method == "PATCH":
            try:
                new = apply_patch(headers.get("Content-Type", ""), json.loads(dumps(old)), payload)
            except PatchError as e:
                code = 415 if "unsupported patch type" in str(e) else 422
                raise ApiError(
                    code, "UnsupportedMediaType" if code == 415 else "Invalid", str(e)
                ) from None
            new.setdefault("metadata", {}).pop("resourceVersion", None)
            if isinstance(payload, dict):
                prv = (payload.get("metadata") or {}).get("resourceVersion")
                if prv:
                    new["metadata"]["resourceVersion"] = prv
        else:
            new = payload
        if not isinstance(new, dict):
            raise ApiError(400, "BadRequest", "the body of the request was in an unknown format")
        new["kind"], new["apiVersion"] = res.kind, res.api_version
        warnings = self.check_fields(res, new, query)
        if sub is None:
            self.admit(res, new, old)
        manager = managed.manager_of(query, headers)
        managed.record_update(old, new, manager, res.api_version, sub or "")
        return ok(self.apply_write(res, ns, name, new, dry_run, sub), headers=warnings)

    def server_side_apply(
        self,
        res: R.Resource,
        ns: str,
        name: str,
        headers: Any,
        body: Body,
        dry_run: bool,
        sub: str | None,
        query: dict[str, str],
    ) -> Response:
        """PATCH application/apply-patch+yaml: create the object, or merge the configuration
        in under its manager's ownership (409 on another manager's fields unless ``force``)."""
        config = parse_apply_body(body)
        md = config.setdefault("metadata", {})
        if md.get("name") not in (None, name):
            raise ApiError(
                400,
                "BadRequest",
                f"the name of the object ({md.get('name')}) does not match the name on the URL "
                f"({name})",
            )
        md["name"] = name
        if query.get("force") not in (None, "", "true", "false"):
            raise ApiError(400, "BadRequest", "invalid force value")
        manager = query.get("fieldManager")
        if not manager:
            raise ApiError(
                400,
                "BadRequest",
                "PATCH requests of type apply must specify a fieldManager",
            )
        live = self.c.store.get(res.key, ns, name)
        if live is None:
            if res.namespaced:
                md["namespace"] = ns
            return self.create(res, ns or None, query, config, dry_run, headers, applied=True)
        config["kind"], config["apiVersion"] = res.kind, res.api_version
        warnings = self.check_fields(res, config, query)
        new = managed.apply(live, config, manager, query.get("force") == "true", res.api_version)
        new["metadata"].pop("resourceVersion", None)
        if md.get("resourceVersion"):
            new["metadata"]["resourceVersion"] = md["resourceVersion"]
        if sub is None:
            self.admit(res, new, live)
        return ok(self.apply_write(res, ns, name, new, dry_run, sub), headers=warnings)

    def scale_obj(self, res: R.Resource, obj: Obj) -> Obj:
        md = obj["metadata"]
        sel = (obj["spec"].get("selector") or {}).get("matchLabels") or {}
        return {
            "kind": "Scale",
            "apiVersion": "autoscaling/v1",
            "metadata": {
                "name": md["name"],
                "namespace": md["namespace"],
                "uid": md["uid"],
                "resourceVersion": md["resourceVersion"],
                "creationTimestamp": md["creationTimestamp"],
            },
            "spec": {"replicas": obj["spec"].get("replicas", 1)},
            "status": {
                "replicas": (obj.get("status") or {}).get("replicas", 0),
                "selector": selector_string(sel),
            },
        }

    def scale(
        self,
        res: R.Resource,
        ns: str,
        name: str,
        method: str,
        headers: Any,
        body: Body,
        dry_run: bool,
    ) -> Response:
        obj = self.get(res, ns, name)
        scale = self.scale_obj(res, obj)
        if method == "GET":
            return ok(scale)
        payload = parse_body(body)
        if method == "PATCH":
            try:
                new_scale = apply_patch(headers.get("Content-Type", ""), scale, payload)
            except PatchError as e:
                raise ApiError(422, "Invalid", str(e)) from None
        elif method == "PUT":
            new_scale = payload
        else:
            raise ApiError(405, "MethodNotAllowed", f"method {method} not allowed")
        replicas = (new_scale.get("spec") or {}).get("replicas")
        if not isinstance(replicas, int) or replicas < 0:
            raise ApiError(
                422,
                "Invalid",
                f'Scale.autoscaling "{name}" is invalid: '
                f"spec.replicas: Invalid value: {replicas}: must be greater than or "
                "equal to 0",
                _details(res, name),
            )
        rv = (new_scale.get("metadata") or {}).get("resourceVersion")
        if method == "PUT" and rv and rv != obj["metadata"]["resourceVersion"]:
            raise ApiError(
                409,
                "Conflict",
                f"Operation cannot be fulfilled on {_qualified(res)} "
                f'"{name}": the object has been modified; please apply your changes '
                "to the latest version and try again",
                _details(res, name),
            )
        new = json.loads(dumps(obj))
        new["spec"]["replicas"] = replicas
        new["metadata"].pop("resourceVersion", None)
        stored = self.apply_write(res, ns, name, new, dry_run, None)
        out = self.scale_obj(res, stored)
        out["spec"]["replicas"] = replicas
        return ok(out)
