"""The validation rules of built-in kinds that a schema cannot say, worded as the API server's
Go validation words them: name and label syntax, container images, selectors that must match
their templates, immutable fields on update."""

from __future__ import annotations

import copy
import re
from collections.abc import Callable
from typing import Any

from . import resources as R
from .metrics import mem_bytes
from .validation import (
    FieldError,
    GoLiteral,
    dns1035_label,
    dns1123_label,
    dns1123_subdomain,
    forbidden,
    go_map,
    go_selector,
    invalid,
    labels_errors,
    path_segment,
    qualified_name,
    regex_error,
    required,
)

Obj = dict[str, Any]
RBAC = "rbac.authorization.k8s.io"
#: how each kind's names are checked (the rest: a DNS-1123 subdomain)
NAME_RULES: dict[str, Callable[[str], list[str]]] = {
    "namespaces": dns1123_label,
    "services": dns1035_label,
    f"{RBAC}/roles": path_segment,
    f"{RBAC}/rolebindings": path_segment,
    f"{RBAC}/clusterroles": path_segment,
    f"{RBAC}/clusterrolebindings": path_segment,
}
WORKLOADS = ("apps/deployments", "apps/replicasets", "apps/statefulsets", "apps/daemonsets")
_WORKLOAD_NAMES = {
    "apps/deployments": "deployment",
    "apps/replicasets": "replicaset",
    "apps/statefulsets": "statefulset",
    "apps/daemonsets": "daemonset",
}
_PULL_POLICIES = ("Always", "IfNotPresent", "Never")
_RESTART_POLICIES = ("Always", "OnFailure", "Never")
_SERVICE_TYPES = ("ClusterIP", "ExternalName", "LoadBalancer", "NodePort")
CONFIG_KEY = "[-._a-zA-Z0-9]+"


def _unsupported(path: str, value: Any, allowed: tuple[str, ...]) -> FieldError:
    listed = ", ".join(f'"{a}"' for a in allowed)
    return FieldError(path, "unsupported", f"supported values: {listed}", value, True)


def metadata_errors(res: R.Resource, obj: Obj) -> list[FieldError]:
    md = obj.get("metadata") or {}
    out: list[FieldError] = []
    name = md.get("name")
    if name:
        rule = NAME_RULES.get(res.key, dns1123_subdomain)
        out += [invalid("metadata.name", name, m) for m in rule(name)]
    out += labels_errors(md.get("labels"), "metadata.labels")
    for key in md.get("annotations") or {}:
        out += [invalid("metadata.annotations", key, m) for m in qualified_name(str(key))]
    return out


def pod_spec_errors(spec: Any, path: str, template: bool) -> list[FieldError]:
    out: list[FieldError] = []
    if not isinstance(spec, dict):
        return out
    seen: set[str] = set()
    for field in ("initContainers", "containers"):
        for i, c in enumerate(spec.get(field) or []):
            if not isinstance(c, dict):
                continue
            p = f"{path}.{field}[{i}]"
            cname = c.get("name")
            if cname:
                out += [invalid(f"{p}.name", cname, m) for m in dns1123_label(cname)]
                if cname in seen:
                    out.append(FieldError(f"{p}.name", "duplicate", "", cname, True))
                seen.add(cname)
            if not c.get("image"):
                out.append(required(f"{p}.image"))
            policy = c.get("imagePullPolicy")
            if policy and policy not in _PULL_POLICIES:
                out.append(_unsupported(f"{p}.imagePullPolicy", policy, _PULL_POLICIES))
    restart = spec.get("restartPolicy")
    if restart and restart not in _RESTART_POLICIES:
        out.append(_unsupported(f"{path}.restartPolicy", restart, _RESTART_POLICIES))
    return out


def selector_matches(sel: Obj, labels: dict[str, str]) -> bool:
    for k, v in (sel.get("matchLabels") or {}).items():
        if labels.get(k) != v:
            return False
    for e in sel.get("matchExpressions") or []:
        key, op, values = e.get("key", ""), e.get("operator"), e.get("values") or []
        if op == "In" and labels.get(key) not in values:
            return False
        if op == "NotIn" and key in labels and labels[key] in values:
            return False
        if op == "Exists" and key not in labels:
            return False
        if op == "DoesNotExist" and key in labels:
            return False
    return True


def _workload_errors(res: R.Resource, obj: Obj) -> list[FieldError]:
    spec = obj.get("spec") or {}
    out: list[FieldError] = []
    replicas = spec.get("replicas")
    if isinstance(replicas, int) and replicas < 0:
        out.append(invalid("spec.replicas", replicas, "must be greater than or equal to 0"))
    sel = spec.get("selector")
    template = spec.get("template") or {}
    labels = (template.get("metadata") or {}).get("labels") or {}
    if isinstance(sel, dict):
        if not sel.get("matchLabels") and not sel.get("matchExpressions"):
            out.append(
                invalid(
                    "spec.selector",
                    go_selector(sel),
                    f"empty selector is invalid for {_WORKLOAD_NAMES[res.key]}",
                )
            )
        elif not selector_matches(sel, labels):
            out.append(
                invalid(
                    "spec.template.metadata.labels",
                    GoLiteral(go_map(labels)),
                    "`selector` does not match template `labels`",
                )
            )
        out += labels_errors(sel.get("matchLabels"), "spec.selector.matchLabels")
    out += labels_errors(labels, "spec.template.metadata.labels")
    out += pod_spec_errors(template.get("spec"), "spec.template.spec", True)
    return out


def _service_errors(obj: Obj) -> list[FieldError]:
    spec = obj.get("spec") or {}
    out: list[FieldError] = []
    typ = spec.get("type")
    if typ and typ not in _SERVICE_TYPES:
        out.append(_unsupported("spec.type", typ, _SERVICE_TYPES))
    headless = spec.get("clusterIP") == "None"
    if not spec.get("ports") and not headless and typ != "ExternalName":
        out.append(required("spec.ports"))
    return out


def _configmap_errors(obj: Obj) -> list[FieldError]:
    out: list[FieldError] = []
    for field in ("data", "binaryData"):
        for key in obj.get(field) or {}:
            if not re.fullmatch(CONFIG_KEY, key):
                out.append(
                    invalid(
                        f"{field}[{key}]",
                        key,
                        regex_error(
                            "a valid config key must consist of alphanumeric characters, "
                            "'-', '_' or '.'",
                            CONFIG_KEY,
                            "key.name",
                            "KEY_NAME",
                            "key-name",
                        ),
                    )
                )
    return out


def create_errors(res: R.Resource, obj: Obj) -> list[FieldError]:
    """What the server's validation says of ``obj`` (on create and again on update)."""
    out = metadata_errors(res, obj)
    spec = obj.get("spec") or {}
    if res.key in WORKLOADS:
        out += _workload_errors(res, obj)
    elif res.key == "pods":
        out += pod_spec_errors(spec, "spec", False)
    elif res.key == "batch/jobs":
        template = spec.get("template") or {}
        out += pod_spec_errors(template.get("spec"), "spec.template.spec", True)
    elif res.key == "batch/cronjobs":
        job = (spec.get("jobTemplate") or {}).get("spec") or {}
        tspec = (job.get("template") or {}).get("spec")
        out += pod_spec_errors(tspec, "spec.jobTemplate.spec.template.spec", True)
    elif res.key == "services":
        out += _service_errors(obj)
    elif res.key == "configmaps":
        out += _configmap_errors(obj)
    return out


def _strip(spec: Obj, *paths: tuple[str, ...]) -> Obj:
    out = copy.deepcopy(spec)
    for p in paths:
        cur: Any = out
        for k in p[:-1]:
            cur = cur.get(k) if isinstance(cur, dict) else None
        if isinstance(cur, dict):
            cur.pop(p[-1], None)
    return out


def update_errors(res: R.Resource, obj: Obj, old: Obj) -> list[FieldError]:
    """The rules of an update: immutable fields, and what may change in each kind's spec."""
    spec, ospec = obj.get("spec") or {}, old.get("spec") or {}
    out: list[FieldError] = []
    if res.key in ("apps/deployments", "apps/replicasets", "apps/daemonsets"):
        if spec.get("selector") != ospec.get("selector"):
            out.append(
                invalid("spec.selector", go_selector(spec.get("selector")), "field is immutable")
            )
    elif res.key == "apps/statefulsets":
        allowed = (
            ("replicas",),
            ("ordinals",),
            ("template",),
            ("updateStrategy",),
            ("persistentVolumeClaimRetentionPolicy",),
            ("minReadySeconds",),
        )
        if _strip(spec, *allowed) != _strip(ospec, *allowed):
            out.append(
                forbidden(
                    "spec",
                    "updates to statefulset spec for fields other than 'replicas', 'ordinals', "
                    "'template', 'updateStrategy', 'persistentVolumeClaimRetentionPolicy' and "
                    "'minReadySeconds' are forbidden",
                )
            )
    elif res.key == "batch/jobs":
        if spec.get("selector") != ospec.get("selector"):
            out.append(
                invalid("spec.selector", go_selector(spec.get("selector")), "field is immutable")
            )
        if spec.get("template") != ospec.get("template"):
            out.append(
                invalid(
                    "spec.template", GoLiteral("core.PodTemplateSpec{...}"), "field is immutable"
                )
            )
        if spec.get("completions") != ospec.get("completions"):
            out.append(invalid("spec.completions", spec.get("completions"), "field is immutable"))
    elif res.key == "persistentvolumeclaims":
        out += _pvc_update_errors(spec, ospec)
    return out


def _storage(spec: Obj) -> float | None:
    value = ((spec.get("resources") or {}).get("requests") or {}).get("storage")
    return None if value is None else mem_bytes(str(value))


def _pvc_update_errors(spec: Obj, ospec: Obj) -> list[FieldError]:
    out: list[FieldError] = []
    mutable = (("resources", "requests"), ("volumeAttributesClassName",), ("volumeName",))
    if _strip(spec, *mutable) != _strip(ospec, *mutable):
        out.append(
            forbidden(
                "spec",
                "spec is immutable after creation except resources.requests and "
                "volumeAttributesClassName for bound claims",
            )
        )
    new_size, old_size = _storage(spec), _storage(ospec)
    if new_size is not None and old_size is not None and new_size < old_size:
        out.append(
            forbidden(
                "spec.resources.requests.storage", "field can not be less than previous value"
            )
        )
    return out
