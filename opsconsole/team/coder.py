"""The Coder agent: writes manifests from templates, validates them by a server-side dry run,
reviews pasted YAML. ``apply_manifest`` is mutating: it is not even offered in read-only mode
(S2) and in write mode every call waits for the user's approval (S1), with the server dry run
shown in the approval prompt."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from opsconsole.agent.tools import ActionSummary, Tool, ToolResult
from opsconsole.team import Specialist
from opsconsole.team._common import guarded, obj

if TYPE_CHECKING:  # pragma: no cover
    from opsconsole.config import Settings
    from opsconsole.k8s.client import Cluster

CODER = Specialist(
    name="coder",
    description=(
        "Coder agent (代码生成): writes Kubernetes manifests (Deployment, Service, ConfigMap, "
        "HPA, NetworkPolicy, PDB, Job, CronJob), patches and scripts, validates them with a "
        "server-side dry run, reviews pasted YAML. Applies only with the user's approval."
    ),
    allowlist=(
        "generate_manifest",
        "validate_manifest",
        "review_manifest",
        "apply_manifest",
        "get_deployments",
        "get_k8s_pods",
        "describe_pod",
    ),
)

_INT = {"type": "integer"}
#: kinds apply_manifest never creates: RBAC changes and Secrets stay with the user (K1, S9)
NOT_APPLIED = frozenset(
    {"Secret", "Role", "RoleBinding", "ClusterRole", "ClusterRoleBinding", "Namespace"}
)


def coder_tools(cluster: Cluster | None, settings: Settings, *, namespace: str) -> list[Tool]:
    from opsconsole.team.manifest_templates import TEMPLATE_KINDS

    def generate_manifest(args: dict[str, Any]) -> ToolResult:
        from opsconsole.k8s.tools import check_name
        from opsconsole.team.manifest_templates import ManifestError, Params, render_templates

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
        from opsconsole.team.manifests import validate_text

        text = args.get("yaml")
        if not isinstance(text, str) or not text.strip():
            return ToolResult(content="validate_manifest needs the YAML text", is_error=True)
        v = validate_text(text, cluster, namespace)
        head = "validation: " + ("all documents valid" if v.ok else "REJECTED")
        return ToolResult(content="\n".join([head, *v.lines]), is_error=not v.ok)

    def _apply_docs(args: dict[str, Any]) -> list[dict[str, Any]]:
        from opsconsole.k8s.tools import ToolInputError
        from opsconsole.team.manifests import KINDS, check_local, parse_documents, ref

        docs = parse_documents(str(args.get("yaml") or ""))
        for d in docs:
            kind = str(d.get("kind"))
            if kind in NOT_APPLIED or kind not in KINDS:
                raise ToolInputError(
                    f"apply_manifest does not create {kind} objects; show the manifest to the "
                    "user and let them apply it"
                )
            problems = check_local(d)
            if problems:
                raise ToolInputError(f"{ref(d)} fails validation: {'; '.join(problems)}")
        return docs

    def apply_manifest(args: dict[str, Any], dry: bool = False) -> ToolResult:
        from opsconsole.errors import NoClusterConfigured
        from opsconsole.team.manifests import ManifestError, dry_run_create

        if cluster is None:
            raise NoClusterConfigured()
        try:
            docs = _apply_docs(args)
        except ManifestError as exc:
            return ToolResult(content=str(exc), is_error=True)
        lines, failed = [], False
        for d in docs:
            res = dry_run_create(cluster, d, namespace, dry_run=dry)
            failed |= not res.ok
            lines.append(res.message)
        return ToolResult(content="\n".join(lines), is_error=failed)

    def summarize(args: dict[str, Any]) -> ActionSummary:
        from opsconsole.team.manifests import parse_documents, ref

        try:
            docs = parse_documents(str(args.get("yaml") or ""))
        except Exception:  # noqa: BLE001 - the summary must not fail
            return ActionSummary("create", "manifest", "(unparsable)", None)
        first = docs[0]
        meta = first.get("metadata") or {}
        return ActionSummary(
            verb="create",
            kind=str(first.get("kind", "")),
            name=str(meta.get("name", "")),
            namespace=meta.get("namespace") or namespace,
            detail=f"{len(docs)} object(s): {', '.join(ref(d) for d in docs)}; context "
            f"{getattr(cluster, 'context', '-')}",
        )

    def dry_run(args: dict[str, Any]) -> str:
        res = guarded(lambda a: apply_manifest(a, dry=True))(args)
        return ("dry run failed: " if res.is_error else "") + res.content

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
        Tool(
            name="apply_manifest",
            description=(
                "Create the objects of a validated manifest in the cluster (kubectl create: "
                "existing objects are left unchanged). Mutating: needs the user's approval; "
                "never creates Secrets, RBAC objects or namespaces."
            ),
            parameters=obj({"yaml": {"type": "string", "description": "the manifest"}}, ["yaml"]),
            handler=guarded(apply_manifest),
            read_only=False,
            timeout=timeout,
            summarize=summarize,
            dry_run=dry_run,
            tags=frozenset({"coder", "k8s", "mutating"}),
        ),
    ]


def yaml_blocks(text: str) -> list[str]:
    """Fenced YAML blocks that look like Kubernetes manifests."""
    import re

    out = []
    for m in re.finditer(r"```(?:ya?ml)?[ \t]*\n(.*?)```", text or "", re.S):
        body = m.group(1)
        if re.search(r"(?m)^\s*apiVersion:", body) and re.search(r"(?m)^\s*kind:", body):
            out.append(body)
    return out


async def validate_answer_manifests(registry: Any, text: str) -> list[tuple[bool, str]]:
    """(rejected?, verdict) for each manifest block in an answer, via ``validate_manifest``
    (local schema check + server dry run); [] when there is no block or no such tool."""
    import asyncio

    tool = registry.get("validate_manifest")
    blocks = yaml_blocks(text)
    if tool is None or not blocks:
        return []
    verdicts = []
    for block in blocks[:5]:
        try:
            out = await asyncio.to_thread(tool.handler, {"yaml": block})
            if isinstance(out, ToolResult):
                verdicts.append((out.is_error, out.content))
            else:
                verdicts.append((False, str(out)))
        except Exception as exc:  # noqa: BLE001 - reported, not raised
            verdicts.append((True, f"validation failed: {exc}"))
    return verdicts
