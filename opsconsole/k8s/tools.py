"""The agent's Kubernetes tools, declared in the OpenAI ``tools`` format.

``build_k8s_tools(cluster, settings)`` returns :class:`opsconsole.agent.tools.Tool` objects:
the seed's ``get_k8s_pods(namespace)`` and ``get_pod_logs(namespace, pod_name, lines=100)``
(schemas exactly as in the seed), the read-only ``describe_pod``, ``get_events``,
``get_deployments``, ``get_nodes``, ``get_resource_usage``, ``find_unhealthy_pods``,
``find_security_issues``, and the mutating ``delete_pod``, ``scale_deployment``,
``rollout_restart`` (``read_only=False``, with ``summarize`` and a server-side ``dry_run``).

Handlers are sync and never raise: failures come back as ``ToolResult(is_error=True)`` with
one line (``forbidden: ...``, ``not found: pod/x in ns``, ``cluster unreachable (...)``,
``no cluster configured: ...``) and a :class:`~opsconsole.agent.tools.ToolError` whose code is
the failure's (:attr:`opsconsole.errors.OpsConsoleError.code`: ``unreachable``,
``cluster_timeout``, ``no_cluster``, ``auth``, ``forbidden``, ``not_found``,
``invalid_argument`` ..., ``internal`` for a bug). Every text and all data pass through
:func:`redact` on their way out. Names must be DNS-1123 names; unknown arguments (``context``,
``cluster`` ...) are refused: a session stays on its pinned context (S10). No tool reads Secret
values (S9).

``content`` is text for a model: compact, within ``settings.agent.tool_output_tokens`` tokens
per call (counted as ASCII chars/4 plus one per non-ASCII char, see
:mod:`opsconsole.k8s.render`); its wording may change to suit models. ``data`` holds the same
facts for programs (the console, replays, the offline planner, which reads only ``data``):

- get_k8s_pods: ``namespace``, ``total``, ``attention``, ``healthy``, ``pods`` / ``unhealthy``
  (refs) and ``items`` (namespace, name, status, ready, restarts, node, age, note, attention).
- get_deployments / get_nodes / get_resource_usage / get_events: ``items``, one per row.
- find_unhealthy_pods / find_security_issues: ``findings`` (severity, kind, namespace, name,
  reason, evidence, suggestion, facts).
- describe_pod: see :mod:`opsconsole.k8s.describe`.
- get_pod_logs: ``current`` and ``previous`` (the lines), ``notes`` (restart, truncation).
- delete_pod / scale_deployment / rollout_restart: what was changed and the API's ``message``.

Listings also carry ``summary``/``columns`` and each item its ``line``: how the text shows it,
for quoting (see :mod:`opsconsole.k8s.render`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from opsconsole.agent.tools import (
    CONTEXT_KEYS,
    ActionSummary,
    DryRun,
    Tool,
    ToolError,
    ToolResult,
)
from opsconsole.errors import NoClusterConfigured, OpsConsoleError
from opsconsole.k8s import queries as q
from opsconsole.k8s import render
from opsconsole.k8s.paths import is_valid
from opsconsole.k8s.policy import Policy
from opsconsole.redact import redact, redact_obj

if TYPE_CHECKING:
    from opsconsole.config import Settings
    from opsconsole.k8s.client import Cluster

_S = {"type": "string"}


def _obj(props: dict[str, Any], required: list[str]) -> dict[str, Any]:
    return {
        "type": "object",
        "properties": props,
        "required": required,
        "additionalProperties": False,
    }


# the seed's two schemas, exactly
GET_K8S_PODS_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {"namespace": {"type": "string"}},
    "required": ["namespace"],
}
GET_POD_LOGS_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "namespace": {"type": "string"},
        "pod_name": {"type": "string"},
        "lines": {"type": "integer", "default": 100},
    },
    "required": ["namespace", "pod_name"],
}


class ToolInputError(OpsConsoleError):
    """Arguments refused before anything is sent to the cluster."""

    code = "invalid_argument"


def check_name(value: Any, what: str, *, label: bool = False) -> str:
    """A DNS-1123 name (label for namespaces, subdomain for objects) or ToolInputError."""
    if not isinstance(value, str) or not value:
        raise ToolInputError(f"invalid {what}: expected a non-empty string")
    limit = 63 if label else 253
    if not is_valid("namespace" if label else "name", value):
        shown = value if len(value) <= 80 else value[:80] + "..."
        raise ToolInputError(
            f"invalid {what} {shown!r}: not a valid Kubernetes name (lowercase letters, digits "
            f"and '-'{'' if label else ', dots'}; at most {limit} characters); nothing was sent"
        )
    return value


def _check_args(args: dict[str, Any], allowed: set[str], context: str) -> None:
    extra = sorted(set(args) - allowed)
    if not extra:
        return
    if CONTEXT_KEYS & set(extra):
        raise ToolInputError(
            f"refused: tools cannot choose the cluster or context ({', '.join(extra)}); this "
            f"session is pinned to context {context!r}; the user can switch context in the UI"
        )
    raise ToolInputError(
        f"unknown argument(s): {', '.join(extra)}; allowed: {', '.join(sorted(allowed))}"
    )


def _error_line(exc: BaseException) -> str:
    if isinstance(exc, NoClusterConfigured):
        msg = (
            exc.message
            if exc.message.startswith("no cluster")
            else (f"no cluster configured: {exc.message}")
        )
        hint = f" ({exc.hint})" if exc.hint else ""
        return f"{msg}{hint}"
    if isinstance(exc, OpsConsoleError):
        hint = f" (hint: {exc.hint})" if exc.hint else ""
        return f"{exc.message}{hint}".replace("\n", " ")
    first = str(exc).strip().splitlines()
    return f"internal error: {type(exc).__name__}: {first[0][:200] if first else ''}"


def _changed(text: str, action: str, kind: str, ns: str, name: str, **extra: Any) -> ToolResult:
    """A change's result: the API's message for the model and the same with what changed."""
    data = {"action": action, "kind": kind, "namespace": ns, "name": name, **extra}
    return ToolResult(content=text, data={**data, "message": text})


class _Toolbox:
    def __init__(self, cluster: Cluster | None, settings: Settings) -> None:
        self.cluster = cluster
        self.settings = settings
        self.budget = settings.agent.tool_output_tokens
        #: the one policy every tool goes through (allowed namespaces, denied kinds)
        self.policy = Policy(settings.kubernetes)

    # -- plumbing ---------------------------------------------------------------------------

    def need(self) -> Cluster:
        if self.cluster is None:
            raise NoClusterConfigured()
        return self.cluster

    @property
    def context(self) -> str:
        return self.cluster.context if self.cluster is not None else "<none>"

    def guard(
        self,
        fn: Callable[[dict[str, Any]], ToolResult],
        allowed: set[str],
        *,
        kind: str | None = None,
        change: bool = False,
    ) -> Callable[[dict[str, Any]], ToolResult]:
        """``fn`` with its arguments checked, the policy applied to ``kind`` (a tool with a
        fixed kind; the any-kind tools apply it to the kind they resolve), errors as tool
        errors and everything it returns redacted."""

        def handler(args: dict[str, Any]) -> ToolResult:
            try:
                _check_args(args or {}, allowed, self.context)
                if kind is not None:
                    self.policy_named(kind, args or {}, change=change)
                res = fn(args or {})
            except Exception as exc:  # noqa: BLE001 - every failure becomes a tool error
                line = redact(_error_line(exc))
                code = exc.code if isinstance(exc, OpsConsoleError) else "internal"
                return ToolResult(content=line, is_error=True, error=ToolError(code, line))
            data = redact_obj(res.data) if res.data is not None else None
            return ToolResult(content=redact(res.content), is_error=res.is_error, data=data)

        handler.__name__ = getattr(fn, "__name__", "handler")
        return handler

    def policy_named(self, kind: str, args: dict[str, Any], *, change: bool) -> None:
        value = args.get("namespace")
        ns = value if isinstance(value, str) and value not in ("", "all", "*") else None
        if ns is not None:
            ns = check_name(ns, "namespace", label=True)
        self.policy.check_named(self.need(), kind, ns, change=change)

    def ns(self, args: dict[str, Any], *, required: bool = True) -> str | None:
        value = args.get("namespace")
        if value in (None, "", "all", "*") and not required:
            return None
        if value in ("all", "*", "") and required:
            raise ToolInputError(
                "namespace is required (a single namespace; use find_unhealthy_pods for all)"
            )
        name = check_name(value, "namespace", label=True)
        self.need().check_namespace(name)
        return name

    # -- read-only --------------------------------------------------------------------------

    def get_k8s_pods(self, args: dict[str, Any]) -> ToolResult:
        # the seed requires a namespace; "all" (or "*") lists every namespace
        ns = self.ns(args, required=args.get("namespace") not in ("all", "*"))
        pods = q.list_pods(self.need(), ns)
        text, data = render.render_pods(pods, ns, self.budget)
        return ToolResult(content=text, data=data)

    def get_pod_logs(self, args: dict[str, Any]) -> ToolResult:
        from opsconsole.k8s.logs import clip_text, read_logs, untrusted_log

        ns = self.ns(args)
        pod = check_name(args.get("pod_name"), "pod name")
        lines = args.get("lines", 100)
        if lines is None:
            lines = 100
        if isinstance(lines, float) and lines.is_integer():
            lines = int(lines)
        if isinstance(lines, bool) or not isinstance(lines, int | str):
            raise ToolInputError("lines must be an integer")
        try:
            lines = int(lines)
        except ValueError:
            raise ToolInputError("lines must be an integer") from None
        if lines < 1:
            raise ToolInputError("lines must be at least 1")
        cap = max(self.settings.kubernetes.log_tail_lines, 100)
        lines = min(lines, cap)
        cluster = self.need()
        assert ns is not None
        row = q.get_pod_row(cluster, ns, pod)
        app = [c for c in row.containers if not c.init] or row.containers
        if not app:
            raise ToolInputError(f"pod {ns}/{pod} has no containers")
        chosen = (
            sorted(app, key=lambda c: (c.ready, -c.restart_count))[0] if len(app) > 1 else app[0]
        )
        names = ", ".join(c.name for c in app)
        if chosen.state == "waiting" and chosen.restart_count == 0:
            # never started: there is no log to read; say why instead of a 400
            why = f"{chosen.reason or 'waiting'}" + (
                f": {chosen.message}" if chosen.message else ""
            )
            message = (
                f"no logs: container {chosen.name} of pod {ns}/{pod} has not started yet "
                f"(status {row.status}; {why}); containers: {names}. Its events "
                "(get_events / describe_pod) say why."
            )
            return ToolResult(
                content=message,
                data={
                    "namespace": ns,
                    "pod": pod,
                    "container": chosen.name,
                    "status": row.status,
                    "no_logs": True,
                    "message": message,
                    "current": [],
                    "notes": [],
                },
            )
        limit_bytes = self.settings.kubernetes.log_limit_bytes
        budget_bytes = max(1024, self.budget * 4 - 600)
        blocks: list[str] = []
        want_previous = chosen.restart_count > 0 and chosen.last_reason != ""
        head = (
            f"logs of pod {ns}/{pod}, container {chosen.name} (status {row.status}, restarts "
            f"{chosen.restart_count}; containers: {names}); last {lines} lines requested"
        )
        parts = [("current", False, budget_bytes // 2 if want_previous else budget_bytes)]
        if want_previous:
            parts.append(("previous", True, budget_bytes // 2))
        total_omitted = 0
        lines_of: dict[str, list[str]] = {}
        notes: list[dict[str, str]] = []
        for label, previous, keep in parts:
            try:
                got = read_logs(
                    cluster,
                    ns,
                    pod,
                    container=chosen.name,
                    tail_lines=lines,
                    limit_bytes=limit_bytes,
                    previous=previous,
                )
            except OpsConsoleError as exc:
                if previous:
                    blocks.append(f"(previous logs unavailable: {_error_line(exc)})")
                    notes.append({"kind": "previous_unavailable", "text": blocks[-1]})
                    continue
                raise
            text, omitted = clip_text(got.text, keep)
            omitted += got.omitted_bytes
            total_omitted += omitted
            attrs = f"pod={ns}/{pod} container={chosen.name}"
            if previous:
                attrs += " previous=true"
                blocks.append(
                    f"previous instance (before the last restart: exit {chosen.last_exit_code}, "
                    f"{chosen.last_reason}):"
                )
                notes.append({"kind": "previous", "text": blocks[-1]})
            body = text.replace("</untrusted-log", "<\\/untrusted-log").rstrip("\n")
            lines_of[label] = body.splitlines()
            blocks.append(untrusted_log(attrs, body or "(empty)"))
            if omitted:
                blocks.append(f"[truncated: {omitted} bytes omitted ({label} log, oldest lines)]")
                notes.append({"kind": "truncated", "text": blocks[-1]})
        data: dict[str, Any] = {
            "namespace": ns,
            "pod": pod,
            "container": chosen.name,
            "status": row.status,
            "restarts": chosen.restart_count,
            "last_exit_code": chosen.last_exit_code,
            "last_reason": chosen.last_reason or None,
            "omitted_bytes": total_omitted,
            "current": lines_of.get("current", []),
            "notes": notes,
        }
        if "previous" in lines_of:
            data["previous"] = lines_of["previous"]
        return ToolResult(content="\n".join([head, *blocks]), data=data)

    def describe_pod(self, args: dict[str, Any]) -> ToolResult:
        ns = self.ns(args)
        pod = check_name(args.get("pod_name"), "pod name")
        assert ns is not None
        view = q.describe_pod_view(self.need(), ns, pod)
        return ToolResult(
            content=render.clip_middle(view.text, self.budget),
            data={**view.data, "namespace": ns, "pod": pod},
        )

    def get_events(self, args: dict[str, Any]) -> ToolResult:
        ns = self.ns(args, required=False)
        name = args.get("name")
        if name is not None:
            name = check_name(name, "object name")
        warn = args.get("warnings_only", False)
        if not isinstance(warn, bool):
            raise ToolInputError("warnings_only must be true or false")
        evs = q.list_events(self.need(), ns, object_name=name, warnings_only=warn)
        scope = f"namespace {ns}" if ns else "all namespaces"
        if name:
            scope += f" for {name}"
        text, data = render.render_events(evs, scope, self.budget)
        return ToolResult(
            content=text,
            data={**data, "events": len(evs), "warnings": sum(e.type == "Warning" for e in evs)},
        )

    def get_deployments(self, args: dict[str, Any]) -> ToolResult:
        ns = self.ns(args, required=False)
        deps = q.list_deployments(self.need(), ns)
        scope = f"namespace {ns}" if ns else "all namespaces"
        bad = [f"{d.namespace}/{d.name}" for d in deps if d.unavailable > 0]
        text, data = render.render_deployments(deps, scope, self.budget)
        return ToolResult(
            content=text,
            data={
                **data,
                "namespace": ns,
                "deployments": [f"{d.namespace}/{d.name}" for d in deps][:500],
                "unavailable": bad,
            },
        )

    def get_nodes(self, args: dict[str, Any]) -> ToolResult:
        cluster = self.need()
        nodes = q.list_nodes(cluster)
        try:
            usage = {u.name: u for u in q.node_metrics(cluster)}
        except OpsConsoleError:
            usage = {}
        text, data = render.render_nodes(nodes, usage, self.budget)
        return ToolResult(
            content=text,
            data={
                **data,
                "nodes": [n.name for n in nodes],
                "not_ready": [n.name for n in nodes if not n.status.startswith("Ready")],
            },
        )

    def get_resource_usage(self, args: dict[str, Any]) -> ToolResult:
        from opsconsole.k8s.parse import cpu_millicores, memory_bytes

        ns = self.ns(args, required=False)
        sort_by = args.get("sort_by", "memory")
        if sort_by not in ("memory", "cpu"):
            raise ToolInputError("sort_by must be 'memory' or 'cpu'")
        cluster = self.need()
        usage = q.pod_metrics(cluster, ns)
        pods = {p.key: p for p in q.list_pods(cluster, ns, keep_raw=True)}
        rows = []
        for u in usage:
            p = pods.get((u.namespace or "", u.name))
            cpu_l = mem_l = 0
            cpu_txt = mem_txt = ""
            pct: int | None = None
            if p is not None and p.raw:
                for c in (p.raw.get("spec") or {}).get("containers") or ():
                    lim = (c.get("resources") or {}).get("limits") or {}
                    cpu_l += cpu_millicores(lim.get("cpu"))
                    mem_l += memory_bytes(lim.get("memory"))
                cpu_txt = f"{cpu_l}m" if cpu_l else ""
                if mem_l:
                    used = 100 * u.memory_bytes / mem_l
                    mem_txt = f"{render.fmt_bytes(mem_l)} ({used:.0f}% used)"
                    pct = int(f"{used:.0f}")
            rows.append((u, cpu_txt, mem_txt, pct))
        key = (
            (lambda r: r[0].memory_bytes)
            if sort_by == "memory"
            else (lambda r: r[0].cpu_millicores)
        )
        rows.sort(key=key, reverse=True)
        scope = f"namespace {ns}" if ns else "all namespaces"
        text, data = render.render_usage(rows, scope, sort_by, self.budget)
        return ToolResult(content=text, data={**data, "namespace": ns, "pods": len(rows)})

    def find_unhealthy_pods(self, args: dict[str, Any]) -> ToolResult:
        from opsconsole.k8s.health import health_findings

        ns = self.ns(args, required=False)
        findings, total, healthy = health_findings(self.need(), ns)
        scope = f"namespace {ns}" if ns else "all namespaces"
        text, data = render.render_findings(findings, scope, healthy, total, self.budget)
        return ToolResult(content=text, data={**data, "namespace": ns})

    def find_security_issues(self, args: dict[str, Any]) -> ToolResult:
        from opsconsole.k8s.analyzers import analyze_security, sort_findings

        ns = self.ns(args, required=False)
        pods = q.list_pods(self.need(), ns, keep_raw=True)
        findings = sort_findings(analyze_security(pods))
        scope = f"namespace {ns}" if ns else "all namespaces"
        text, data = render.render_findings(
            findings, scope, len(pods), len(pods), self.budget, counted="scanned"
        )
        return ToolResult(content=text, data={**data, "namespace": ns})

    # -- mutating ---------------------------------------------------------------------------

    def _mut_args(self, args: dict[str, Any], name_key: str) -> tuple[str, str]:
        ns = self.ns(args)
        assert ns is not None
        return ns, check_name(args.get(name_key), name_key.replace("_", " "))

    def _replicas(self, args: dict[str, Any]) -> int:
        r = args.get("replicas")
        if isinstance(r, bool) or not isinstance(r, int) or r < 0 or r > 1000:
            raise ToolInputError("replicas must be an integer between 0 and 1000")
        return r

    def delete_pod(self, args: dict[str, Any], dry: bool = False) -> ToolResult:
        ns, pod = self._mut_args(args, "pod_name")
        text = q.delete_pod(self.need(), ns, pod, dry_run=dry)
        return _changed(text, "delete", "pod", ns, pod)

    def scale_deployment(self, args: dict[str, Any], dry: bool = False) -> ToolResult:
        ns, name = self._mut_args(args, "name")
        replicas = self._replicas(args)
        text = q.scale_deployment(self.need(), ns, name, replicas, dry_run=dry)
        return _changed(text, "scale", "deployment", ns, name, replicas=replicas)

    def rollout_restart(self, args: dict[str, Any], dry: bool = False) -> ToolResult:
        ns, name = self._mut_args(args, "name")
        text = q.rollout_restart(self.need(), ns, name, dry_run=dry)
        return _changed(text, "restart", "deployment", ns, name)

    def dry(
        self,
        fn: Callable[..., ToolResult],
        allowed: set[str],
        kind: str,
        preview: Callable[[dict[str, Any]], DryRun] | None = None,
    ) -> Callable[[dict], DryRun]:
        """The tool's own dry run (its text), with the diff and blast radius of ``preview``
        (the same change planned by :mod:`opsconsole.k8s.tools_change`)."""
        guarded = self.guard(lambda a: fn(a, True), allowed, kind=kind, change=True)

        def run(args: dict[str, Any]) -> DryRun:
            res = guarded(args)
            if res.is_error:
                code = res.error.code if res.error is not None else "internal"
                rejected = code not in ("unreachable", "cluster_timeout", "auth", "no_cluster")
                return DryRun(f"dry run failed: {res.content}", rejected=rejected)
            more = preview(args) if preview is not None else DryRun("")
            return DryRun(res.content, diff=more.diff, blast_radius=more.blast_radius)

        return run

    def summarizer(self, verb: str, kind: str, name_key: str) -> Callable[[dict], ActionSummary]:
        def summarize(args: dict[str, Any]) -> ActionSummary:
            detail = f"context {self.context}"
            if "replicas" in args:
                detail = f"replicas={args.get('replicas')}; {detail}"
            return ActionSummary(
                verb=verb,
                kind=kind,
                name=str(args.get(name_key, "")),
                namespace=args.get("namespace"),
                detail=detail,
            )

        return summarize


def build_k8s_tools(cluster: Cluster | None, settings: Settings) -> list[Tool]:
    """The Kubernetes tools bound to ``cluster`` (None: every call says no cluster)."""
    box = _Toolbox(cluster, settings)
    timeout = settings.agent.tool_timeout
    ns_opt = {"type": "string", "description": "namespace; omit for all namespaces"}
    ns_req = {"type": "string", "description": "namespace"}
    pod = {"type": "string", "description": "pod name"}
    deploy = {"type": "string", "description": "deployment name"}

    def ro(
        name: str, desc: str, params: dict[str, Any], fn: Callable, kind: str | None = None
    ) -> Tool:
        allowed = set(params.get("properties", {}))
        return Tool(
            name=name,
            description=desc,
            parameters=params,
            handler=box.guard(fn, allowed, kind=kind),
            read_only=True,
            timeout=timeout,
            tags=frozenset({"k8s"}),
        )

    def mut(
        name: str,
        desc: str,
        params: dict[str, Any],
        fn: Callable,
        verb: str,
        kind: str,
        name_key: str,
        preview: Callable[[dict[str, Any]], DryRun],
    ) -> Tool:
        allowed = set(params.get("properties", {}))
        plural = f"{kind}s"
        return Tool(
            name=name,
            description=desc,
            parameters=params,
            handler=box.guard(fn, allowed, kind=plural, change=True),
            read_only=False,
            timeout=timeout,
            summarize=box.summarizer(verb, kind, name_key),
            dry_run=box.dry(fn, allowed, plural, preview),
            tags=frozenset({"k8s", "mutating"}),
        )

    from opsconsole.k8s.tools_change import Changes, change_specs
    from opsconsole.k8s.tools_reach import Reach, reach_specs

    reach = [ro(n, d, p, fn) for n, d, p, fn in reach_specs(Reach(box))]
    changes = Changes(box)

    def preview(
        tool: str, plan: Callable[[dict[str, Any]], list], **fixed: Any
    ) -> Callable[[dict[str, Any]], DryRun]:
        """The diff and blast radius of an older tool's call, planned as the any-kind tool
        would plan it (``fixed`` renames and adds arguments)."""
        _, dry = changes.runner(f"preview:{tool}", plan)

        def run(args: dict[str, Any]) -> DryRun:
            mapped = {k: v for k, v in args.items() if k != "pod_name"}
            if "pod_name" in args:
                mapped["name"] = args["pod_name"]
            return dry({**mapped, **fixed})

        return run

    changing = [
        Tool(
            name=n,
            description=d,
            parameters=p,
            handler=box.guard(fn, set(p["properties"])),
            read_only=False,
            timeout=timeout,
            summarize=summarize,
            dry_run=_guarded_dry(dry, set(p["properties"]), box.context),
            tags=frozenset({"k8s", "mutating", "exec" if n == "exec_in_container" else "change"}),
        )
        for n, d, p, fn, dry, summarize in change_specs(changes)
    ]
    return [
        ro("get_k8s_pods", "获取 K8s Pod 列表", GET_K8S_PODS_SCHEMA, box.get_k8s_pods, "pods"),
        ro("get_pod_logs", "获取 Pod 日志", GET_POD_LOGS_SCHEMA, box.get_pod_logs, "pods"),
        ro(
            "describe_pod",
            "Describe a pod like kubectl describe: containers, state, last state, restarts, "
            "limits, probes, conditions, volumes, node and recent events.",
            _obj({"namespace": ns_req, "pod_name": pod}, ["namespace", "pod_name"]),
            box.describe_pod,
            "pods",
        ),
        ro(
            "get_events",
            "List Kubernetes events (warnings first, newest first), optionally for one object.",
            _obj(
                {
                    "namespace": ns_opt,
                    "name": {"type": "string", "description": "involved object's name"},
                    "warnings_only": {"type": "boolean", "default": False},
                },
                [],
            ),
            box.get_events,
            "events",
        ),
        ro(
            "get_deployments",
            "List deployments with ready/available replicas; unavailable ones first.",
            _obj({"namespace": ns_opt}, []),
            box.get_deployments,
            "deployments",
        ),
        ro(
            "get_nodes",
            "List nodes: status, roles, capacity (cpu, memory, nvidia.com/gpu), usage, "
            "pressure conditions and taints.",
            _obj({}, []),
            box.get_nodes,
            "nodes",
        ),
        ro(
            "get_resource_usage",
            "Pod CPU and memory usage from metrics.k8s.io with their limits, top first.",
            _obj(
                {"namespace": ns_opt, "sort_by": {"type": "string", "enum": ["memory", "cpu"]}},
                [],
            ),
            box.get_resource_usage,
            "pods",
        ),
        ro(
            "find_unhealthy_pods",
            "Check the whole cluster (or one namespace) for problems: crashing, OOMKilled, "
            "image pull errors, unschedulable pods, failing probes, unavailable deployments, "
            "unhealthy nodes, services without endpoints. One FINDING line per problem with "
            "its reason and evidence.",
            _obj({"namespace": ns_opt}, []),
            box.find_unhealthy_pods,
            "pods",
        ),
        ro(
            "find_security_issues",
            "Scan pod specs for security risks: privileged containers, running as root, "
            "hostPath volumes, :latest images, missing limits, secrets in plain env vars.",
            _obj({"namespace": ns_opt}, []),
            box.find_security_issues,
            "pods",
        ),
        *reach,
        mut(
            "delete_pod",
            "Delete a pod (its controller, if any, creates a replacement). Mutating: needs "
            "the user's approval.",
            _obj({"namespace": ns_req, "pod_name": pod}, ["namespace", "pod_name"]),
            box.delete_pod,
            "delete",
            "pod",
            "pod_name",
            preview("delete_pod", changes.plan_delete, kind="pods"),
        ),
        mut(
            "scale_deployment",
            "Set a deployment's replica count. Mutating: needs the user's approval.",
            _obj(
                {
                    "namespace": ns_req,
                    "name": deploy,
                    "replicas": {"type": "integer", "minimum": 0},
                },
                ["namespace", "name", "replicas"],
            ),
            box.scale_deployment,
            "scale",
            "deployment",
            "name",
            preview("scale_deployment", changes.plan_scale, kind="deployments"),
        ),
        mut(
            "rollout_restart",
            "Restart a deployment's pods with a rolling update (kubectl rollout restart). "
            "Mutating: needs the user's approval.",
            _obj({"namespace": ns_req, "name": deploy}, ["namespace", "name"]),
            box.rollout_restart,
            "restart",
            "deployment",
            "name",
            preview("rollout_restart", changes.plan_restart, kind="deployments"),
        ),
        *changing,
    ]


def _guarded_dry(
    dry: Callable[[dict[str, Any]], DryRun], allowed: set[str], context: str
) -> Callable[[dict[str, Any]], DryRun]:
    """A change tool's dry run with its arguments checked first (an unknown argument is a
    rejected call: nobody is asked)."""

    def run(args: dict[str, Any]) -> DryRun:
        try:
            _check_args(args or {}, allowed, context)
        except ToolInputError as exc:
            return DryRun(f"refused: {exc.message}", rejected=True)
        got = dry(args or {})
        return replace(got, text=redact(got.text))

    return run
