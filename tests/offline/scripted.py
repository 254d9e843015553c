"""A scripted world for planning tests: tool schemas like the real ones, canned results.

A canned result is a :class:`ToolResult` whose ``data`` is what the real tool's data holds
(see :mod:`opsconsole.k8s.tools`); its ``content`` is only a placeholder, because the planner
reads data, never text. The builders below make such results: :func:`pods`, :func:`findings`,
:func:`describe`, :func:`events`, :func:`logs`, :func:`nodes`, :func:`usage`,
:func:`deployments`, :func:`changed` and :func:`error`.

``drive`` plays the agent loop's part: it calls the planner, answers each tool call with the
canned result for that tool (a function of the arguments), appends the assistant message and
the tool messages (with how each call ended, as the loop's conversation gives a local client),
and repeats until the planner answers.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from opsconsole.agent.model import ModelTurn, ReasoningChunk, TextChunk
from opsconsole.agent.tools import ToolError, ToolResult
from opsconsole.agent.transcript import LOCAL, outcome
from opsconsole.k8s.analyzers import Finding as K8sFinding
from opsconsole.k8s.render import finding_line, finding_quote
from opsconsole.planner import OfflinePlanner

#: the text of every canned result: the planner must not need it
CONTENT = "(canned result: see data)"


def result(data: dict[str, Any]) -> ToolResult:
    return ToolResult(content=CONTENT, data=data)


def error(code: str, message: str) -> ToolResult:
    return ToolResult(content=message, is_error=True, error=ToolError(code, message))


def changed(message: str) -> ToolResult:
    return result({"message": message})


def _listing(summary: str | None, columns: str | None, items: list[dict[str, Any]]) -> dict:
    data: dict[str, Any] = {"items": items}
    if summary:
        data["summary"] = summary
    if columns:
        data["columns"] = columns
    return data


def pod(name: str, status: str, ready: str, restarts: int, line: str, **more: Any) -> dict:
    """A row of get_k8s_pods (``line``: how the listing shows it)."""
    healthy = (
        status in ("Running", "Completed", "Succeeded")
        and ready.split("/")[0] == (ready.split("/")[-1])
    )
    return {
        "name": name,
        "status": status,
        "ready": ready,
        "restarts": restarts,
        "node": more.pop("node", None),
        "note": more.pop("note", ""),
        "attention": not healthy,
        "line": line,
        **more,
    }


def pods(
    namespace: str | None,
    *rows: dict[str, Any],
    summary: str | None = None,
    columns: str | None = None,
) -> ToolResult:
    items = [{"namespace": namespace, **r} for r in rows]
    bad = sum(1 for r in items if r["attention"])
    data = _listing(summary, columns, items)
    data.update(namespace=namespace, total=len(items), attention=bad, healthy=len(items) - bad)
    if not items:
        data["empty"] = "(no pods)"
    return result(data)


def finding(
    severity: str,
    reason: str,
    kind: str,
    ref: str,
    evidence: list[str],
    suggestion: str = "",
    **facts: Any,
) -> dict[str, Any]:
    """One finding as the scans' data holds it (``ref``: ns/name, or a node's name)."""
    ns, _, name = ref.rpartition("/")
    f = K8sFinding(severity, kind, ns or None, name, reason, evidence, suggestion, facts=facts)
    return {**f.to_dict(), "line": finding_line(f), "quote": finding_quote(f)}


def findings(*items: dict[str, Any], summary: str = "health check") -> ToolResult:
    data: dict[str, Any] = {"summary": summary, "findings": list(items)}
    if not items:
        data["empty"] = "no problems found"
    return result(data)


def describe(
    namespace: str,
    pod_name: str,
    lines: list[tuple[str, str]],
    *,
    labels: dict[str, str] | None = None,
    containers: list[dict[str, Any]] | None = None,
    events: list[dict[str, Any]] | None = None,
) -> ToolResult:
    """describe_pod's data: ``lines`` as (field, value) pairs, shown as ``field: value``."""
    return result(
        {
            "namespace": namespace,
            "pod": pod_name,
            "labels": labels or {},
            "containers": containers or [],
            "events": events or [],
            "lines": [{"key": k, "value": v, "text": f"{k}: {v}"} for k, v in lines],
        }
    )


def event(type_: str, reason: str, kind: str, name: str, message: str, line: str) -> dict:
    return {
        "type": type_,
        "reason": reason,
        "count": 1,
        "kind": kind,
        "namespace": None,
        "name": name,
        "message": message,
        "line": line,
    }


def events(*items: dict[str, Any], summary: str | None = None) -> ToolResult:
    return result(_listing(summary, None, list(items)))


def logs(current: list[str], previous: list[str] | None = None, **more: Any) -> ToolResult:
    data: dict[str, Any] = {"current": current, "notes": more.pop("notes", []), **more}
    if previous is not None:
        data["previous"] = previous
    return result(data)


def nodes(*items: dict[str, Any], summary: str | None = None, columns: str | None = None):
    rows = [{"gpu": 0, "pressure": [], "taints": [], **i} for i in items]
    return result(_listing(summary, columns, rows))


def usage(namespace: str | None, *items: dict[str, Any], columns: str | None = None) -> ToolResult:
    data = _listing(None, columns, [{"namespace": namespace, **i} for i in items])
    return result({**data, "namespace": namespace})


def deployments(
    namespace: str | None,
    *items: dict[str, Any],
    summary: str | None = None,
    columns: str | None = None,
) -> ToolResult:
    rows = [{"namespace": namespace, "unavailable": 0, "conditions": [], **i} for i in items]
    return result({**_listing(summary, columns, rows), "namespace": namespace})


def tool(name: str, props: dict[str, str], required: list[str]) -> dict[str, Any]:
    return {
        "type": "function",
        "function": {
            "name": name,
            "description": name,
            "parameters": {
                "type": "object",
                "properties": {k: {"type": v} for k, v in props.items()},
                "required": required,
            },
        },
    }


NS_POD = {"namespace": "string", "pod_name": "string"}
TOOLS = [
    tool("get_k8s_pods", {"namespace": "string"}, ["namespace"]),
    tool(
        "get_pod_logs",
        {**NS_POD, "lines": "integer", "previous": "boolean"},
        ["namespace", "pod_name"],
    ),
    tool("describe_pod", NS_POD, ["namespace", "pod_name"]),
    tool("get_events", {"namespace": "string"}, []),
    tool("get_deployments", {"namespace": "string"}, ["namespace"]),
    tool("get_nodes", {}, []),
    tool("get_resource_usage", {"namespace": "string"}, []),
    tool("find_unhealthy_pods", {"namespace": "string"}, []),
    tool("delete_pod", NS_POD, ["namespace", "pod_name"]),
]

Responder = Callable[[dict[str, Any]], ToolResult]


@dataclass
class Run:
    calls: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    steps: list[list[str]] = field(default_factory=list)
    thoughts: list[str] = field(default_factory=list)
    answer: str = ""
    messages: list[dict[str, Any]] = field(default_factory=list)


async def drive(
    task: str,
    world: dict[str, Responder | ToolResult],
    *,
    tools: list[dict[str, Any]] | None = None,
    language: str = "auto",
    history: list[dict[str, Any]] | None = None,
    max_turns: int = 12,
) -> Run:
    planner = OfflinePlanner(language)
    run = Run()
    messages = list(history or [{"role": "system", "content": "ops agent"}])
    messages.append({"role": "user", "content": task})
    for _ in range(max_turns):
        items = [item async for item in planner.run_turn(messages, tools or TOOLS)]
        turn = items[-1]
        assert isinstance(turn, ModelTurn)
        assert all(isinstance(i, TextChunk | ReasoningChunk) for i in items[:-1])
        # no model, no tokens: an explicit zero, so the loop does not estimate any
        assert turn.usage is not None
        assert (turn.usage.prompt_tokens, turn.usage.completion_tokens) == (0, 0)
        if not turn.tool_calls:
            assert turn.finish_reason == "stop"
            run.answer = turn.content
            assert "".join(i.text for i in items[:-1] if isinstance(i, TextChunk)) == turn.content
            break
        run.thoughts.append(turn.content)
        run.steps.append([c.name for c in turn.tool_calls])
        messages.append(
            {
                "role": "assistant",
                "content": turn.content,
                "tool_calls": [
                    {
                        "id": c.id,
                        "type": "function",
                        "function": {"name": c.name, "arguments": c.arguments},
                    }
                    for c in turn.tool_calls
                ],
            }
        )
        for c in turn.tool_calls:
            args = json.loads(c.arguments)
            run.calls.append((c.name, args))
            res = answer(world, c.name, args)
            messages.append(tool_message(c.id, res))
    else:
        raise AssertionError("the planner never answered")
    run.messages = messages
    return run


def answer(world: dict[str, Responder | ToolResult], name: str, args: dict[str, Any]) -> ToolResult:
    """The canned result of a call (an error when the world has none for the tool)."""
    resp = world.get(name)
    if resp is None:
        return error("not_found", f"error: no canned output for {name}")
    return resp(args) if callable(resp) else resp


def tool_message(call_id: str, res: ToolResult) -> dict[str, Any]:
    """The tool message a local client sees for ``res`` (what the loop's conversation gives)."""
    if res.is_error:
        err = res.error or ToolError("error", res.content)
        local = outcome("error", error=(err.code, err.message), data=res.data)
    else:
        local = outcome("ok", data=res.data)
    return {"role": "tool", "tool_call_id": call_id, "content": res.content, LOCAL: local}
