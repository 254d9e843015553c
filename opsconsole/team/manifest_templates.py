"""Manifest templates for the Coder agent: Deployment, Service, ConfigMap, HPA, NetworkPolicy,
PDB, Job and CronJob from a few parameters, with secure defaults (non-root, no privilege
escalation, capabilities dropped, seccomp RuntimeDefault, requests and a memory limit,
probes). Works with no model; checked and dry-run by :mod:`opsconsole.team.manifests`."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from opsconsole.team.manifests import KINDS, ManifestError

TEMPLATE_KINDS = (
    "Deployment",
    "Service",
    "ConfigMap",
    "HorizontalPodAutoscaler",
    "NetworkPolicy",
    "PodDisruptionBudget",
    "Job",
    "CronJob",
)
#: maps whose values are resource quantities (YAML may write them as numbers)


@dataclass
class Params:
    name: str
    namespace: str = "default"
    image: str = ""
    port: int = 8080
    replicas: int = 2
    service_type: str = "ClusterIP"
    min_replicas: int = 2
    max_replicas: int = 10
    cpu_percent: int = 70
    data: dict[str, str] = field(default_factory=dict)
    schedule: str = "0 * * * *"
    command: list[str] = field(default_factory=list)


def _labels(p: Params) -> dict[str, str]:
    return {"app.kubernetes.io/name": p.name}


def _container(p: Params, *, probes: bool = True) -> dict[str, Any]:
    c: dict[str, Any] = {
        "name": p.name,
        "image": p.image or f"registry.example.com/{p.name}:1.0.0",
        "imagePullPolicy": "IfNotPresent",
    }
    if p.command:
        c["command"] = list(p.command)
    if probes:
        c["ports"] = [{"name": "http", "containerPort": p.port, "protocol": "TCP"}]
        probe = {"httpGet": {"path": "/healthz", "port": "http"}, "periodSeconds": 10}
        c["readinessProbe"] = dict(probe, initialDelaySeconds=5)
        c["livenessProbe"] = dict(probe, initialDelaySeconds=15, failureThreshold=3)
    c["resources"] = {
        "requests": {"cpu": "100m", "memory": "128Mi"},
        "limits": {"memory": "256Mi"},
    }
    c["securityContext"] = {
        "allowPrivilegeEscalation": False,
        "readOnlyRootFilesystem": True,
        "capabilities": {"drop": ["ALL"]},
    }
    return c


def _pod_spec(p: Params, *, probes: bool = True, restart: str | None = None) -> dict[str, Any]:
    spec: dict[str, Any] = {
        "securityContext": {
            "runAsNonRoot": True,
            "runAsUser": 10001,
            "seccompProfile": {"type": "RuntimeDefault"},
        },
        "automountServiceAccountToken": False,
        "containers": [_container(p, probes=probes)],
    }
    if restart:
        spec["restartPolicy"] = restart
    return spec


def _meta(p: Params, kind: str) -> dict[str, Any]:
    return {"name": p.name, "namespace": p.namespace, "labels": _labels(p)}


def template(kind: str, p: Params) -> dict[str, Any]:
    """One manifest of ``kind`` (one of :data:`TEMPLATE_KINDS`) as a dict."""
    api = KINDS[kind][0]
    obj: dict[str, Any] = {"apiVersion": api, "kind": kind, "metadata": _meta(p, kind)}
    sel = {"matchLabels": _labels(p)}
    if kind == "Deployment":
        obj["spec"] = {
            "replicas": p.replicas,
            "selector": sel,
            "template": {"metadata": {"labels": _labels(p)}, "spec": _pod_spec(p)},
        }
    elif kind == "Service":
        obj["spec"] = {
            "type": p.service_type,
            "selector": _labels(p),
            "ports": [{"name": "http", "port": 80, "targetPort": "http", "protocol": "TCP"}],
        }
    elif kind == "ConfigMap":
        obj["data"] = dict(p.data) or {"LOG_LEVEL": "info"}
    elif kind == "HorizontalPodAutoscaler":
        obj["spec"] = {
            "scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": p.name},
            "minReplicas": p.min_replicas,
            "maxReplicas": p.max_replicas,
            "metrics": [
                {
                    "type": "Resource",
                    "resource": {
                        "name": "cpu",
                        "target": {"type": "Utilization", "averageUtilization": p.cpu_percent},
                    },
                }
            ],
        }
    elif kind == "NetworkPolicy":
        obj["spec"] = {
            "podSelector": sel,
            "policyTypes": ["Ingress"],
            "ingress": [
                {
                    "from": [{"podSelector": {}}],
                    "ports": [{"protocol": "TCP", "port": p.port}],
                }
            ],
        }
    elif kind == "PodDisruptionBudget":
        obj["spec"] = {"minAvailable": 1, "selector": sel}
    elif kind == "Job":
        obj["spec"] = {
            "backoffLimit": 3,
            "ttlSecondsAfterFinished": 3600,
            "template": {
                "metadata": {"labels": _labels(p)},
                "spec": _pod_spec(p, probes=False, restart="Never"),
            },
        }
    elif kind == "CronJob":
        obj["spec"] = {
            "schedule": p.schedule,
            "concurrencyPolicy": "Forbid",
            "jobTemplate": {
                "spec": {
                    "backoffLimit": 3,
                    "template": {
                        "metadata": {"labels": _labels(p)},
                        "spec": _pod_spec(p, probes=False, restart="OnFailure"),
                    },
                }
            },
        }
    else:
        raise ManifestError(
            f"no template for kind {kind!r}; templates: {', '.join(TEMPLATE_KINDS)}"
        )
    return obj


def render_templates(kinds: list[str], p: Params) -> str:
    """Multi-document YAML for ``kinds`` in a sensible order."""
    import yaml

    order = {k: i for i, k in enumerate(TEMPLATE_KINDS)}
    wanted = sorted(dict.fromkeys(kinds), key=lambda k: order.get(k, 99))
    docs = [template(k, p) for k in wanted]
    return (
        "\n---\n".join(
            yaml.safe_dump(d, sort_keys=False, allow_unicode=True).rstrip() for d in docs
        )
        + "\n"
    )
