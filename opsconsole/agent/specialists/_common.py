"""Plumbing shared by the specialists' tools: a guard that turns failures into tool errors."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from opsconsole.agent.tools import ToolResult
from opsconsole.errors import NoClusterConfigured, OpsConsoleError


def guarded(fn: Callable[[dict[str, Any]], ToolResult]) -> Callable[[dict[str, Any]], ToolResult]:
    """Run ``fn``; an expected failure becomes ``ToolResult(is_error=True)``; output redacted."""
    from opsconsole.k8s.redact import redact

    def handler(args: dict[str, Any]) -> ToolResult:
        try:
            res = fn(args or {})
        except NoClusterConfigured as exc:
            return ToolResult(content=f"no cluster configured: {exc.message}", is_error=True)
        except OpsConsoleError as exc:
            hint = f" (hint: {exc.hint})" if exc.hint else ""
            return ToolResult(content=redact(f"{exc.message}{hint}"), is_error=True)
        return ToolResult(content=redact(res.content), is_error=res.is_error, data=res.data)

    handler.__name__ = getattr(fn, "__name__", "handler")
    return handler


def obj(props: dict[str, Any], required: list[str] | None = None) -> dict[str, Any]:
    return {
        "type": "object",
        "properties": props,
        "required": required or [],
        "additionalProperties": False,
    }


def namespace_arg(cluster: Any, args: dict[str, Any]) -> str | None:
    from opsconsole.k8s.tools import check_name

    ns = args.get("namespace")
    if ns in (None, "", "all", "*"):
        return None
    ns = check_name(ns, "namespace", label=True)
    if cluster is not None:
        cluster.check_namespace(ns)
    return ns
