"""Manifests for the Coder agent: templates, local schema checks, server-side dry run, review.

- Templates live in :mod:`opsconsole.team.manifest_templates` (secure defaults, no model).
- :func:`check_local` rejects a manifest that fails the Kubernetes schema (required fields,
  types and unknown fields, checked against the official client's generated models) or basic
  semantics (names, selector vs template labels, ports) before anything is sent.
- :func:`dry_run_create` sends a ``dryRun=All`` create (``fieldValidation=Strict``) to the
  cluster through the official client's ApiClient, so the API server validates and defaults
  the object without storing it. Its path comes from :func:`collection_path`, built from the
  validated apiVersion, kind and namespace only (:mod:`opsconsole.k8s.paths`); a manifest whose
  apiVersion, kind, name or namespace is not valid Kubernetes syntax (``?``, ``#``, ``/``,
  ``%``, whitespace, ``..``, a trailing newline) is refused naming the field, and the
  Kubernetes layer's request guard sends nothing but a dry run in read-only mode.
- :func:`review_manifest_text` reviews YAML the user pastes: security (the Security agent's pod
  checks) and best practice findings.

Nothing here applies anything to the cluster.
"""

from __future__ import annotations

import json
import re
import typing
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from opsconsole.k8s import paths

if TYPE_CHECKING:
    from opsconsole.k8s.client import Cluster

#: kind -> (apiVersion, plural, namespaced, kubernetes.client model class name)
KINDS: dict[str, tuple[str, str, bool, str]] = {
    "Deployment": ("apps/v1", "deployments", True, "V1Deployment"),
    "StatefulSet": ("apps/v1", "statefulsets", True, "V1StatefulSet"),
    "DaemonSet": ("apps/v1", "daemonsets", True, "V1DaemonSet"),
    "Service": ("v1", "services", True, "V1Service"),
    "ConfigMap": ("v1", "configmaps", True, "V1ConfigMap"),
    "Secret": ("v1", "secrets", True, "V1Secret"),
    "Pod": ("v1", "pods", True, "V1Pod"),
    "ServiceAccount": ("v1", "serviceaccounts", True, "V1ServiceAccount"),
    "PersistentVolumeClaim": ("v1", "persistentvolumeclaims", True, "V1PersistentVolumeClaim"),
    "Namespace": ("v1", "namespaces", False, "V1Namespace"),
    "HorizontalPodAutoscaler": (
        "autoscaling/v2",
        "horizontalpodautoscalers",
        True,
        "V2HorizontalPodAutoscaler",
    ),
    "NetworkPolicy": ("networking.k8s.io/v1", "networkpolicies", True, "V1NetworkPolicy"),
    "Ingress": ("networking.k8s.io/v1", "ingresses", True, "V1Ingress"),
    "PodDisruptionBudget": ("policy/v1", "poddisruptionbudgets", True, "V1PodDisruptionBudget"),
    "Job": ("batch/v1", "jobs", True, "V1Job"),
    "CronJob": ("batch/v1", "cronjobs", True, "V1CronJob"),
    "Role": ("rbac.authorization.k8s.io/v1", "roles", True, "V1Role"),
    "RoleBinding": ("rbac.authorization.k8s.io/v1", "rolebindings", True, "V1RoleBinding"),
    "ClusterRole": ("rbac.authorization.k8s.io/v1", "clusterroles", False, "V1ClusterRole"),
    "ClusterRoleBinding": (
        "rbac.authorization.k8s.io/v1",
        "clusterrolebindings",
        False,
        "V1ClusterRoleBinding",
    ),
}
_QUANTITY_MAPS = {"limits", "requests", "capacity", "hard", "overhead"}


class ManifestError(ValueError):
    """The text is not a usable manifest (YAML or structure)."""


# --- parsing --------------------------------------------------------------------------------


def parse_documents(text: str) -> list[dict[str, Any]]:
    """The YAML (or JSON) documents in ``text``; a fenced code block is unwrapped."""
    import yaml

    body = text.strip()
    m = re.search(r"```(?:ya?ml|json)?\s*\n(.*?)```", body, re.S)
    if m:
        body = m.group(1)
    else:  # prose before the manifest ("please review:\napiVersion: ...")
        start = re.search(r"(?m)^(?:apiVersion:|kind:|---\s*$)", body)
        if start and start.start() > 0:
            body = body[start.start() :]
    try:
        docs = [d for d in yaml.safe_load_all(body) if d is not None]
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        problem = getattr(exc, "problem", None) or "malformed YAML"
        raise ManifestError(f"invalid YAML{where}: {problem}") from None
    out: list[dict[str, Any]] = []
    for d in docs:
        if isinstance(d, dict) and d.get("kind") == "List" and isinstance(d.get("items"), list):
            out += [i for i in d["items"] if isinstance(i, dict)]
        elif isinstance(d, dict):
            out.append(d)
        else:
            raise ManifestError(f"a document is a {type(d).__name__}, expected a mapping")
    if not out:
        raise ManifestError("no manifest found (empty YAML)")
    return out


def ref(obj: dict[str, Any]) -> str:
    meta = obj.get("metadata") or {}
    ns = meta.get("namespace")
    return f"{obj.get('kind', '?')} {ns + '/' if ns else ''}{meta.get('name', '?')}"


# --- local schema checks --------------------------------------------------------------------


def _unwrap(tp: Any) -> tuple[str, Any]:
    """('model', cls) | ('list', inner) | ('dict', inner) | ('scalar', None)."""
    from pydantic import BaseModel

    while True:
        origin = typing.get_origin(tp)
        if origin is typing.Annotated:
            tp = typing.get_args(tp)[0]
            continue
        if origin is typing.Union or str(origin) == "<class 'types.UnionType'>":
            args = [a for a in typing.get_args(tp) if a is not type(None)]
            if len(args) == 1:
                tp = args[0]
                continue
            return "scalar", None
        break
    if isinstance(tp, type) and issubclass(tp, BaseModel):
        return "model", tp
    if origin in (list, typing.List):  # noqa: UP006
        return "list", typing.get_args(tp)[0]
    if origin in (dict, typing.Dict):  # noqa: UP006
        targs = typing.get_args(tp)
        return "dict", targs[1] if len(targs) == 2 else None
    return "scalar", None


def _aliases(model: Any) -> dict[str, Any]:
    cache = getattr(model, "_opsconsole_aliases", None)
    if cache is not None:
        return cache
    out: dict[str, Any] = {}
    for fname, info in model.model_fields.items():
        names = {fname}
        va = info.validation_alias
        choices = getattr(va, "choices", None)
        if choices:
            names |= {c for c in choices if isinstance(c, str)}
        elif isinstance(va, str):
            names.add(va)
        if info.alias:
            names.add(info.alias)
        if info.serialization_alias:
            names.add(info.serialization_alias)
        for n in names:
            out[n] = info.annotation
    model._opsconsole_aliases = out
    return out


def unknown_fields(obj: Any, model: Any, path: str = "") -> list[str]:
    """Paths of keys that the Kubernetes schema does not know (typos like ``replica``)."""
    out: list[str] = []
    if not isinstance(obj, dict):
        return out
    fields = _aliases(model)
    for key, value in obj.items():
        here = f"{path}.{key}" if path else str(key)
        if key not in fields:
            out.append(here)
            continue
        kind, inner = _unwrap(fields[key])
        if kind == "model":
            out += unknown_fields(value, inner, here)
        elif kind == "list" and isinstance(value, list):
            k2, m2 = _unwrap(inner)
            if k2 == "model":
                for i, item in enumerate(value):
                    out += unknown_fields(item, m2, f"{here}[{i}]")
        elif kind == "dict" and isinstance(value, dict) and inner is not None:
            k2, m2 = _unwrap(inner)
            if k2 == "model":
                for k, item in value.items():
                    out += unknown_fields(item, m2, f"{here}.{k}")
    return out


def _normalize_quantities(obj: Any, parent: str = "") -> Any:
    if isinstance(obj, dict):
        out = {}
        for k, v in obj.items():
            if parent in _QUANTITY_MAPS and isinstance(v, int | float) and not isinstance(v, bool):
                out[k] = str(v)
            else:
                out[k] = _normalize_quantities(v, str(k))
        return out
    if isinstance(obj, list):
        return [_normalize_quantities(v, parent) for v in obj]
    return obj


def _model_for(kind: str) -> Any:
    import kubernetes.client.models as models

    return getattr(models, KINDS[kind][3])


def check_local(obj: dict[str, Any]) -> list[str]:
    """Problems found without the cluster; an empty list means the manifest looks valid."""
    problems: list[str] = []
    kind = obj.get("kind")
    api = obj.get("apiVersion")
    if not isinstance(kind, str) or not kind:
        return ["kind: required"]
    if not paths.is_valid("kind", kind):
        return [f"kind: {kind!r} is not a valid kind (letters and digits, like Deployment)"]
    if not isinstance(api, str) or not api:
        problems.append("apiVersion: required")
    else:
        try:
            paths.split_api_version(api)
        except paths.InvalidPathPart as exc:
            return [exc.message.removesuffix("; nothing was sent")]
    meta = obj.get("metadata")
    if not isinstance(meta, dict):
        return problems + ["metadata: required (with a name)"]
    name = meta.get("name")
    if not name and not meta.get("generateName"):
        problems.append("metadata.name: required")
    elif name and not paths.is_valid("name", name):
        problems.append(
            f"metadata.name: {name!r} is not a valid name (lowercase letters, digits, '-', '.')"
        )
    ns = meta.get("namespace")
    if ns is not None and not paths.is_valid("namespace", ns):
        problems.append(f"metadata.namespace: {ns!r} is not a valid namespace name")
    if kind not in KINDS:
        return problems  # unknown to us: the server decides
    want_api = KINDS[kind][0]
    if api and api != want_api:
        problems.append(f"apiVersion: {kind} is served as {want_api}, not {api}")
        return problems
    model = _model_for(kind)
    body = _normalize_quantities(obj)
    for path in unknown_fields(body, model)[:10]:
        problems.append(f"{path}: unknown field")
    try:
        model.from_dict(body)
    except Exception as exc:  # noqa: BLE001 - pydantic ValidationError and friends
        problems += _schema_errors(exc)
    problems += _semantics(kind, body)
    return problems


def _schema_errors(exc: Exception) -> list[str]:
    errors = getattr(exc, "errors", None)
    if not callable(errors):
        return [f"schema: {str(exc).splitlines()[0]}"]
    out = []
    title = getattr(exc, "title", "")
    for e in errors()[:5]:
        loc = ".".join(str(p) for p in e.get("loc", ()))
        where = f"{title}.{loc}" if title else loc
        got = e.get("input")
        got_s = f" (got {json.dumps(got)[:60]})" if not isinstance(got, dict | list) else ""
        out.append(f"schema: {where}: {e.get('msg', 'invalid')}{got_s}")
    return out


def _pod_template_spec(kind: str, obj: dict[str, Any]) -> dict[str, Any] | None:
    spec = obj.get("spec") or {}
    if kind == "Pod":
        return spec
    if kind in ("Deployment", "StatefulSet", "DaemonSet", "Job"):
        return (spec.get("template") or {}).get("spec")
    if kind == "CronJob":
        return (((spec.get("jobTemplate") or {}).get("spec") or {}).get("template") or {}).get(
            "spec"
        )
    return None


def _semantics(kind: str, obj: dict[str, Any]) -> list[str]:
    out: list[str] = []
    spec = obj.get("spec") or {}
    if kind in ("Deployment", "StatefulSet", "DaemonSet"):
        sel = ((spec.get("selector") or {}).get("matchLabels")) or {}
        labels = ((spec.get("template") or {}).get("metadata") or {}).get("labels") or {}
        if not sel and not (spec.get("selector") or {}).get("matchExpressions"):
            out.append("spec.selector: required (matchLabels)")
        elif any(labels.get(k) != v for k, v in sel.items()):
            out.append(
                "spec.template.metadata.labels: must match spec.selector.matchLabels "
                f"({sel} vs {labels})"
            )
        r = spec.get("replicas")
        if isinstance(r, int) and r < 0:
            out.append("spec.replicas: must be >= 0")
    pod = _pod_template_spec(kind, obj)
    if isinstance(pod, dict):
        containers = pod.get("containers")
        if not containers:
            out.append("containers: at least one container is required")
        names = set()
        for c in containers or ():
            if not isinstance(c, dict):
                continue
            n = c.get("name")
            if not paths.is_valid("namespace", n):  # a container name is a DNS-1123 label
                out.append(f"container name {n!r}: must be a DNS-1123 label")
            if n in names:
                out.append(f"container name {n!r}: duplicated")
            names.add(n)
            if not c.get("image"):
                out.append(f"container {n}: image is required")
            for p in c.get("ports") or ():
                port = (p or {}).get("containerPort")
                if isinstance(port, int) and not 0 < port < 65536:
                    out.append(f"container {n}: containerPort {port} out of range 1-65535")
    if kind == "Service":
        for p in spec.get("ports") or ():
            port = (p or {}).get("port")
            if isinstance(port, int) and not 0 < port < 65536:
                out.append(f"spec.ports: port {port} out of range 1-65535")
    if kind == "HorizontalPodAutoscaler":
        lo, hi = spec.get("minReplicas", 1), spec.get("maxReplicas")
        if isinstance(lo, int) and isinstance(hi, int) and lo > hi:
            out.append(f"spec.minReplicas ({lo}) must not exceed spec.maxReplicas ({hi})")
    return out


# --- server-side dry run --------------------------------------------------------------------


@dataclass
class DryRunResult:
    ok: bool
    #: "accepted" | "rejected" | "unsupported" (the cluster does not serve the kind) | "exists"
    outcome: str
    message: str


def collection_path(obj: dict[str, Any], namespace: str) -> str:
    """The collection a create of ``obj`` POSTs to, built from validated parts only; raises
    :class:`~opsconsole.k8s.paths.InvalidPathPart` naming the field that is not valid."""
    kind = paths.check_part("kind", obj.get("kind"), "kind")
    api = obj.get("apiVersion") or KINDS.get(kind, ("v1",))[0]
    group, version = paths.split_api_version(api)
    if kind in KINDS:
        _, plural, namespaced, _ = KINDS[kind]
    else:
        plural, namespaced = kind.lower() + "s", True
    ns = paths.check_part("namespace", namespace, "metadata.namespace") if namespaced else None
    name = (obj.get("metadata") or {}).get("name")
    if name is not None:
        paths.check_part("name", name, "metadata.name")
    return paths.resource_path(group, version, plural, namespace=ns)


def dry_run_create(
    cluster: Cluster, obj: dict[str, Any], namespace: str, *, dry_run: bool = True
) -> DryRunResult:
    """POST ``obj`` with ``dryRun=All`` and ``fieldValidation=Strict``; nothing is stored.

    ``dry_run=False`` really creates it (only the approved ``apply_manifest`` does that); the
    outcome is then ``created`` instead of ``accepted``."""
    from opsconsole.errors import OpsConsoleError
    from opsconsole.k8s.client import api_message, map_error

    ns = (obj.get("metadata") or {}).get("namespace") or namespace
    body = json.loads(json.dumps(obj))
    if KINDS.get(str(obj.get("kind")), ("", "", True))[2]:
        body.setdefault("metadata", {})["namespace"] = ns
    what = "dry run" if dry_run else "create"
    try:
        path = collection_path(body, ns)
    except paths.InvalidPathPart as exc:
        return DryRunResult(False, "rejected", f"{what} refused: {exc.message}")
    cluster.check_namespace(ns)
    client = cluster.api_client
    query: list[tuple[str, str]] = [("dryRun", "All")] if dry_run else []
    try:
        params = client.param_serialize(
            method="POST",
            resource_path=path,
            query_params=[*query, ("fieldValidation", "Strict")],
            header_params={"Accept": "application/json", "Content-Type": "application/json"},
            body=body,
            auth_settings=["BearerToken"],
        )
        resp = client.call_api(*params, _request_timeout=cluster.timeout)
        resp.read()
    except Exception as exc:  # noqa: BLE001 - mapped to a readable message
        err = map_error(exc, server=cluster.server)
        return DryRunResult(False, "error", f"{what} failed: {err.message}")
    status = int(resp.status)
    if 200 <= status < 300:
        if not dry_run:
            return DryRunResult(True, "created", f"created {ref(body)} (HTTP {status})")
        return DryRunResult(True, "accepted", f"server dry run accepted (HTTP {status})")

    class _Exc(Exception):
        pass

    e = _Exc()
    e.body = resp.data  # type: ignore[attr-defined]
    e.reason = getattr(resp, "reason", "")  # type: ignore[attr-defined]
    msg = api_message(e)
    if status == 404 and re.search(r'namespaces? "[^"]+" not found', msg):
        return DryRunResult(False, "rejected", f"rejected by the API server (404): {msg}")
    if status == 404:
        return DryRunResult(
            False,
            "unsupported",
            f"this cluster does not serve {obj.get('apiVersion')} {obj.get('kind')} "
            f"(404: {msg}); validated locally only",
        )
    if status == 409:
        return DryRunResult(
            True, "exists", f"{ref(body)} already exists (409); a create would conflict"
        )
    if status in (401, 403):
        try:
            raise map_error(e, server=cluster.server)  # type: ignore[arg-type]
        except OpsConsoleError as mapped:
            msg = mapped.message
    return DryRunResult(False, "rejected", f"rejected by the API server (HTTP {status}): {msg}")


# --- validation of a whole text -------------------------------------------------------------


@dataclass
class Validation:
    lines: list[str]
    ok: bool


def validate_text(text: str, cluster: Cluster | None, namespace: str) -> Validation:
    """Local checks, then (if they pass and a cluster is set) a server dry run per document."""
    try:
        docs = parse_documents(text)
    except ManifestError as exc:
        return Validation([f"REJECTED: {exc}"], False)
    lines: list[str] = []
    ok = True
    for obj in docs:
        problems = check_local(obj)
        if problems:
            ok = False
            lines.append(f"REJECTED {ref(obj)} (local schema check): " + "; ".join(problems))
            continue
        if cluster is None:
            lines.append(f"OK {ref(obj)}: local schema check passed; no cluster for a dry run")
            continue
        res = dry_run_create(cluster, obj, namespace)
        if res.outcome == "accepted":
            lines.append(f"OK {ref(obj)}: local schema check passed; {res.message}")
        elif res.outcome in ("unsupported", "exists"):
            lines.append(f"OK {ref(obj)}: local schema check passed; {res.message}")
        else:
            ok = False
            lines.append(f"REJECTED {ref(obj)}: {res.message}")
    return Validation(lines, ok)


# --- review (in opsconsole.team.review) ---------------------------------------


def review_manifest_text(text: str) -> str:
    """Review pasted YAML: see :func:`opsconsole.team.review.review_manifest_text`."""
    from opsconsole.team.review import review_manifest_text as review

    return review(text)
