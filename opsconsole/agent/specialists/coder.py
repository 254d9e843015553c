"""The Coder agent: writes manifests from templates, validates them by a server-side dry run,
reviews pasted YAML. It has no tool that applies anything."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from opsconsole.agent.specialists import Specialist
from opsconsole.agent.specialists._common import guarded, obj
from opsconsole.agent.tools import Tool, ToolResult

if TYPE_CHECKING:  # pragma: no cover
    from opsconsole.config import Settings
    from opsconsole.k8s.client import Cluster

CODER = Specialist(
    name="coder",
    description=(
        "Coder agent (代码生成): writes Kubernetes manifests (Deployment, Service, ConfigMap, "
        "HPA, NetworkPolicy, PDB, Job, CronJob), patches and scripts, validates them with a "
        "server-side dry run, reviews pasted YAML. Applies nothing."
    ),
    allowlist=(
        "generate_manifest",
        "validate_manifest",
        "review_manifest",
        "get_deployments",
        "get_k8s_pods",
        "describe_pod",
    ),
)

_INT = {"type": "integer"}


def coder_tools(cluster: Cluster | None, settings: Settings, *, namespace: str) -> list[Tool]:
    from opsconsole.agent.manifests import TEMPLATE_KINDS

    def generate_manifest(args: dict[str, Any]) -> ToolResult:
        from opsconsole.agent.manifests import ManifestError, Params, render_templates
        from opsconsole.k8s.tools import check_name

        kinds = args.get("kinds") or ["Deployment"]
        name = check_name(args.get("name"), "name", label=True)
        ns = check_name(args.get("namespace") or namespace, "namespace", label=True)
        p = Params(name=name, namespace=ns)
        for key in ("image", "service_type", "schedule"):
            if args.get(key):
                setattr(p, key, str(args[key]))
        for key in ("port", "replicas", "min_replicas", "max_replicas", "cpu_percent"):
            if args.get(key) is not None:
                setattr(p, key, int(args[key]))
        if isinstance(args.get("data"), dict):
            p.data = {str(k): str(v) for k, v in args["data"].items()}
        if isinstance(args.get("command"), list):
            p.command = [str(c) for c in args["command"]]
        try:
            text = render_templates(list(kinds), p)
        except ManifestError as exc:
            return ToolResult(content=str(exc), is_error=True)
        return ToolResult(
            content=f"# generated from templates ({', '.join(kinds)}); not validated yet\n{text}",
            data={"kinds": list(kinds), "name": name, "namespace": ns},
        )

    def validate_manifest(args: dict[str, Any]) -> ToolResult:
        from opsconsole.agent.manifests import validate_text

        text = args.get("yaml")
        if not isinstance(text, str) or not text.strip():
            return ToolResult(content="validate_manifest needs the YAML text", is_error=True)
        v = validate_text(text, cluster, namespace)
        head = "validation: " + ("all documents valid" if v.ok else "REJECTED")
        return ToolResult(content="\n".join([head, *v.lines]), is_error=not v.ok)

    timeout = settings.agent.tool_timeout
    return [
        Tool(
            name="generate_manifest",
            description=(
                "Generate Kubernetes manifests from templates with secure defaults (non-root, "
                "no privilege escalation, dropped capabilities, seccomp, requests/limits, "
                "probes). Returns YAML; validate it with validate_manifest before showing it."
            ),
            parameters=obj(
                {
                    "kinds": {
                        "type": "array",
                        "items": {"type": "string", "enum": list(TEMPLATE_KINDS)},
                        "description": "which manifests (default Deployment)",
                    },
                    "name": {"type": "string", "description": "app name (DNS label)"},
                    "namespace": {"type": "string"},
                    "image": {"type": "string", "description": "image with a version tag"},
                    "port": {**_INT, "minimum": 1, "maximum": 65535},
                    "replicas": {**_INT, "minimum": 0},
                    "service_type": {
                        "type": "string",
                        "enum": ["ClusterIP", "NodePort", "LoadBalancer"],
                    },
                    "min_replicas": {**_INT, "minimum": 1},
                    "max_replicas": {**_INT, "minimum": 1},
                    "cpu_percent": {**_INT, "minimum": 1, "maximum": 100},
                    "data": {"type": "object", "description": "ConfigMap data"},
                    "schedule": {"type": "string", "description": "CronJob schedule"},
                    "command": {"type": "array", "items": {"type": "string"}},
                },
                ["name"],
            ),
            handler=guarded(generate_manifest, redact_output=False),
            read_only=True,
            timeout=timeout,
            tags=frozenset({"coder"}),
        ),
        Tool(
            name="validate_manifest",
            description=(
                "Validate Kubernetes YAML: local schema check (required fields, types, unknown "
                "fields), then a server-side dry run (dryRun=All create) against the cluster. "
                "Nothing is stored or applied."
            ),
            parameters=obj({"yaml": {"type": "string", "description": "the manifest"}}, ["yaml"]),
            handler=guarded(validate_manifest),
            read_only=True,
            timeout=timeout,
            tags=frozenset({"coder", "k8s"}),
        ),
    ]
