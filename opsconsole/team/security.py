"""The Security agent (read-only): ``security_scan`` over the cluster, ``review_manifest``.

See :mod:`opsconsole.k8s.security` for the checks. The agent is forced read-only: it is never
offered a mutating tool, whatever the session's write mode.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from opsconsole.agent.tools import Tool, ToolResult
from opsconsole.team import Specialist
from opsconsole.team._common import guarded, namespace_arg, obj

if TYPE_CHECKING:  # pragma: no cover
    from opsconsole.config import Settings
    from opsconsole.k8s.client import Cluster

SECURITY = Specialist(
    name="security",
    description=(
        "Security agent (安全, read-only): vulnerability and compliance scan: Pod Security "
        "Standards, RBAC risks, image hygiene, secrets in env vars, missing limits, exposed "
        "services; reviews manifests for security."
    ),
    allowlist=(
        "security_scan",
        "find_security_issues",
        "review_manifest",
        "get_k8s_pods",
        "describe_pod",
        "get_deployments",
    ),
    read_only=True,
)


def security_tools(cluster: Cluster | None, settings: Settings) -> list[Tool]:
    budget = settings.agent.tool_output_tokens

    def security_scan(args: dict[str, Any]) -> ToolResult:
        from opsconsole.errors import NoClusterConfigured
        from opsconsole.k8s.security import render_scan, scan

        if cluster is None:
            raise NoClusterConfigured()
        ns = namespace_arg(cluster, args)
        result = scan(cluster, ns)
        data = {
            "findings": [f.to_dict() for f in result.findings],
            "levels": result.levels,
            "notes": result.notes,
        }
        return ToolResult(content=render_scan(result, budget), data=data)

    def review_manifest(args: dict[str, Any]) -> ToolResult:
        from opsconsole.team.manifests import review_manifest_text

        text = args.get("yaml")
        if not isinstance(text, str) or not text.strip():
            return ToolResult(content="review_manifest needs the YAML text", is_error=True)
        return ToolResult(content=review_manifest_text(text))

    timeout = settings.agent.tool_timeout
    return [
        Tool(
            name="security_scan",
            description=(
                "Security scan (read-only): Pod Security Standards baseline/restricted per pod, "
                "RBAC risks (cluster-admin bindings, wildcard verbs, secret access), :latest or "
                "undigested images, secrets in plain env vars, missing limits, exposed "
                "NodePort/LoadBalancer services. One FINDING line each with severity, evidence "
                "and the fix. System namespaces are skipped unless named."
            ),
            parameters=obj({"namespace": {"type": "string", "description": "omit for all"}}),
            handler=guarded(security_scan),
            read_only=True,
            timeout=timeout,
            tags=frozenset({"k8s", "security"}),
        ),
        Tool(
            name="review_manifest",
            description=(
                "Review Kubernetes YAML (one or more documents): schema problems, security "
                "(Pod Security Standards, secrets in env, images, limits, exposure) and best "
                "practice (probes, requests, replicas)."
            ),
            parameters=obj({"yaml": {"type": "string", "description": "the manifest"}}, ["yaml"]),
            handler=guarded(review_manifest),
            read_only=True,
            timeout=timeout,
            tags=frozenset({"security", "coder"}),
        ),
    ]
