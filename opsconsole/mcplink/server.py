"""The runtime's tools as an MCP server (the official SDK's low-level ``Server``).

Another agent (an MCP client) gets the tools opsconsole's own agent has, on the same cluster
connection with the same guards: the tools' own checks (names, the namespace allowlist, no
Secret values, the pinned context: S9-S11), the loop's argument validation
(:func:`~opsconsole.agent.loop_tools.validate_arguments`), the tool timeout, redaction and the
output budget (``agent.tool_output_tokens``). Tools from other MCP servers (``mcp.servers``)
are not served.

Read-only unless started with ``--write``: mutating tools are listed only then, and a call to
one otherwise is refused. In write mode each mutating call first asks the person at the client
through MCP elicitation, with the change's summary and its server-side dry run; the call runs
only on an explicit accept with ``confirm: true``. A client that declares no elicitation
support is refused. Both protocol eras are served: on a 2025 (handshake) connection the
server sends ``elicitation/create`` during the call; on a 2026-07-28 connection the call
answers ``input_required`` with the elicitation and a one-time ``request_state``, and the
retry carrying the answer (and that state, for the same tool and arguments) runs it.

Every call is recorded in the runtime's session file: ``tool_call_started`` and
``tool_call_finished`` events (a refusal: ``tool_call_finished`` alone), for a mutating call
the approval events and the audit records before (fsynced before it runs: S16) and after.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import secrets
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from opsconsole.agent.events import (
    AgentEvent,
    ApprovalRequested,
    ApprovalResolved,
    RunFinished,
    RunStarted,
    ToolCallFinished,
    ToolCallStarted,
    ToolStatus,
)
from opsconsole.agent.loop import new_run_id
from opsconsole.agent.loop_tools import DRY_RUN_TIMEOUT, validate_arguments
from opsconsole.agent.model import new_call_id
from opsconsole.agent.tools import Tool, ToolResult
from opsconsole.agent.transcript import truncate_to_tokens
from opsconsole.errors import OpsConsoleError
from opsconsole.redact import redact

if TYPE_CHECKING:  # pragma: no cover
    from mcp import types as mcp_types
    from mcp.server.context import ServerRequestContext
    from mcp.server.lowlevel import Server

    from opsconsole.runtime import Runtime

AGENT = "mcp"
#: the key of the one input request of a confirmation (2026-07-28 connections)
CONFIRM_KEY = "confirm"
#: a confirmation not answered within this many seconds is forgotten
PENDING_TTL = 600.0
CONFIRM_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "confirm": {
            "type": "boolean",
            "title": "Apply this change",
            "description": "true to run the change shown; anything else runs nothing",
        }
    },
    "required": ["confirm"],
}


@dataclass(frozen=True)
class _Pending:
    """A confirmation asked on a 2026-07-28 connection, waiting for the client's retry."""

    tool: str
    arguments: str
    call_id: str
    asked: float


class ToolServer:
    """Serves ``runtime``'s registry (its own tools only) as MCP tools."""

    def __init__(self, runtime: Runtime) -> None:
        self.runtime = runtime
        self.settings = runtime.settings
        registry = runtime.registry
        assert registry is not None
        self.tools: dict[str, Tool] = {t.name: t for t in registry if "mcp" not in t.tags}
        self.run_id = new_run_id()
        self.calls = 0
        self._validators: dict[str, Any] = {}
        self._pending: dict[str, _Pending] = {}
        self._started = time.monotonic()
        self._run_open = False

    @property
    def write_mode(self) -> bool:
        return self.runtime.write_mode

    def offered(self) -> list[Tool]:
        return [t for t in self.tools.values() if self.write_mode or not t.mutating]

    def build(self) -> Server[Any]:
        """The SDK server with this object's handlers."""
        from mcp.server.lowlevel import Server

        from opsconsole import __version__

        return Server(
            "opsconsole",
            version=__version__,
            instructions=self.instructions(),
            on_list_tools=self.list_tools,
            on_call_tool=self.call_tool,
        )

    def instructions(self) -> str:
        rt = self.runtime
        mode = (
            "write mode: mutating tools ask the person at the client to confirm each change"
            if self.write_mode
            else "read-only: no tool changes the cluster"
        )
        return (
            f"opsconsole's Kubernetes tools on context {rt.context or '(no cluster)'} "
            f"(pinned: tools cannot choose another), default namespace {rt.namespace}; {mode}."
        )

    # -- handlers ---------------------------------------------------------------------------

    async def list_tools(
        self, ctx: ServerRequestContext[Any], params: mcp_types.PaginatedRequestParams | None
    ) -> mcp_types.ListToolsResult:
        from mcp import types

        return types.ListToolsResult(tools=[_describe(t) for t in self.offered()])

    async def call_tool(
        self, ctx: ServerRequestContext[Any], params: mcp_types.CallToolRequestParams
    ) -> mcp_types.CallToolResult | mcp_types.InputRequiredResult:
        from mcp import types

        self._open_run(ctx)
        args = dict(params.arguments or {})
        call_id = new_call_id()
        tool = self.tools.get(params.name)
        if tool is None or (tool.mutating and not self.write_mode):
            if tool is None:
                why, code = f"unknown tool {params.name!r}", "unknown_tool"
            else:
                why, code = (
                    f"{tool.name!r} changes the cluster and this server is read-only (start "
                    "opsconsole mcp with --write); nothing was executed",
                    "read_only",
                )
            return self._refuse(call_id, params.name, why, code, "refused")
        problem = validate_arguments(tool, args, self.runtime.context, self._validators)
        if problem is not None:
            return self._refuse(call_id, tool.name, problem, "invalid_arguments", "error")
        if tool.mutating:
            outcome = await self._confirm(ctx, params, tool, args, call_id)
            if isinstance(outcome, types.InputRequiredResult | types.CallToolResult):
                return outcome
            call_id = outcome
        return await self._run(tool, args, call_id)

    # -- confirmation -----------------------------------------------------------------------

    async def _confirm(
        self,
        ctx: ServerRequestContext[Any],
        params: mcp_types.CallToolRequestParams,
        tool: Tool,
        args: dict[str, Any],
        call_id: str,
    ) -> mcp_types.CallToolResult | mcp_types.InputRequiredResult | str:
        """Ask the person at the client; the call's id when they accepted, else the answer
        to send (a refusal, or on a 2026-07-28 connection the ``input_required`` result)."""
        from mcp import types
        from mcp_types.version import MODERN_PROTOCOL_VERSIONS

        modern = ctx.protocol_version in MODERN_PROTOCOL_VERSIONS
        key = json.dumps(args, sort_keys=True, ensure_ascii=False)
        if modern and params.request_state is not None:
            pending = self._pending.pop(params.request_state, None)
            if pending is None or (pending.tool, pending.arguments) != (tool.name, key):
                why = "the confirmation is unknown or expired (or was for another call)"
                return self._refuse(call_id, tool.name, why + "; nothing was executed", "policy")
            answer = (params.input_responses or {}).get(CONFIRM_KEY)
            return self._decided(pending.call_id, tool, args, answer)
        wanted = types.ClientCapabilities(elicitation=types.ElicitationCapability())
        if not ctx.session.check_client_capability(wanted):
            why = (
                f"{tool.name!r} changes the cluster and needs a person's confirmation, and this "
                "MCP client does not support elicitation; nothing was executed"
            )
            return self._refuse(call_id, tool.name, why, "policy")
        message = await self._message(tool, args, call_id)
        if modern:
            self._forget_old()
            state = secrets.token_urlsafe(24)
            self._pending[state] = _Pending(tool.name, key, call_id, time.monotonic())
            request = types.ElicitRequest(
                params=types.ElicitRequestFormParams(
                    message=message, requested_schema=CONFIRM_SCHEMA
                )
            )
            return types.InputRequiredResult(
                input_requests={CONFIRM_KEY: request}, request_state=state
            )
        try:
            answer = await ctx.session.elicit_form(
                message, CONFIRM_SCHEMA, related_request_id=ctx.request_id
            )
        except Exception as exc:  # noqa: BLE001 - no answer is a refusal
            why = f"the confirmation could not be asked ({_line(exc)}); nothing was executed"
            return self._decided(call_id, tool, args, None, why=why)
        return self._decided(call_id, tool, args, answer)

    async def _message(self, tool: Tool, args: dict[str, Any], call_id: str) -> str:
        """The confirmation's text (summary, context, dry run); records the request."""
        summary = tool.summary(args)
        target = f"{summary.kind}/{summary.name}" if summary.kind else summary.name
        where = f" in namespace {summary.namespace}" if summary.namespace else ""
        context = self.runtime.context
        dry = await _dry_run(tool, args)
        self._record(
            ApprovalRequested(
                run_id=self.run_id,
                agent=AGENT,
                tool_call_id=call_id,
                tool=tool.name,
                arguments=args,
                verb=summary.verb,
                target=target,
                namespace=summary.namespace,
                context=context,
                dry_run=dry,
            )
        )
        lines = [
            f"opsconsole: {summary.verb} {target}{where} (context {context or 'none'})?",
            f"tool {tool.name}, arguments {json.dumps(args, ensure_ascii=False, sort_keys=True)}",
        ]
        if dry:
            lines += ["", "Server-side dry run:", dry]
        lines += ["", "Set confirm to true to apply this change; anything else changes nothing."]
        return redact("\n".join(lines))

    def _decided(
        self,
        call_id: str,
        tool: Tool,
        args: dict[str, Any],
        answer: Any,
        *,
        why: str | None = None,
    ) -> mcp_types.CallToolResult | str:
        content = getattr(answer, "content", None) or {}
        accepted = getattr(answer, "action", None) == "accept" and content.get("confirm") is True
        self._record(
            ApprovalResolved(
                run_id=self.run_id,
                agent=AGENT,
                tool_call_id=call_id,
                decision="approve" if accepted else "decline",
                source="mcp-client",
            )
        )
        if accepted:
            return call_id
        action = getattr(answer, "action", None)
        why = why or (
            f"the person at the MCP client did not confirm ({action or 'no answer'}); "
            "nothing was executed"
        )
        return self._refuse(call_id, tool.name, why, "declined", "declined")

    def _forget_old(self) -> None:
        now = time.monotonic()
        for state, pending in list(self._pending.items()):
            if now - pending.asked > PENDING_TTL:
                del self._pending[state]

    # -- running ----------------------------------------------------------------------------

    async def _run(
        self, tool: Tool, args: dict[str, Any], call_id: str
    ) -> mcp_types.CallToolResult:
        recorder = self.runtime.recorder
        context = self.runtime.context
        if tool.mutating and recorder is not None:
            try:  # fail closed: no change without its audit record on disk (S16)
                recorder.audit(
                    "before",
                    tool_call_id=call_id,
                    tool=tool.name,
                    arguments=args,
                    context=context,
                    approval_source="mcp-client",
                    decision="approve",
                    run_id=self.run_id,
                    agent=AGENT,
                )
            except Exception as exc:  # noqa: BLE001
                why = f"not executed: the audit record could not be written ({_line(exc)})"
                return self._refuse(call_id, tool.name, why, "audit_failed", "error")
        self._record(
            ToolCallStarted(
                run_id=self.run_id,
                agent=AGENT,
                tool_call_id=call_id,
                tool=tool.name,
                arguments=args,
                mutating=tool.mutating,
            )
        )
        self.calls += 1
        started = time.monotonic()
        timeout = min(tool.timeout, self.settings.agent.tool_timeout)
        status: ToolStatus = "ok"
        code: str | None = None
        data: dict[str, Any] | None = None
        try:
            async with asyncio.timeout(timeout):
                result = await _invoke(tool, args)
            content = result.content
            data = result.data
            if result.is_error:
                status = "error"
                code = result.error.code if result.error is not None else "error"
        except TimeoutError:
            status, code, content = "error", "timeout", f"{tool.name} timed out after {timeout:g}s"
        except OpsConsoleError as exc:
            status, code, content = "error", exc.code, str(exc)
        except Exception as exc:  # noqa: BLE001 - a tool bug is a failed call, not a crash
            status, code, content = "error", "tool_failed", f"tool failed: {_line(exc)}"
        content = truncate_to_tokens(redact(content), self.settings.agent.tool_output_tokens)
        if tool.mutating and recorder is not None:
            with contextlib.suppress(Exception):
                recorder.audit(
                    "after",
                    tool_call_id=call_id,
                    tool=tool.name,
                    arguments=args,
                    context=context,
                    approval_source="mcp-client",
                    decision="approve",
                    status=status,
                    output=content,
                    run_id=self.run_id,
                    agent=AGENT,
                )
        self._record(
            ToolCallFinished(
                run_id=self.run_id,
                agent=AGENT,
                tool_call_id=call_id,
                tool=tool.name,
                status=status,
                output=content,
                duration=round(time.monotonic() - started, 4),
                data=data,
                error_code=code,
            )
        )
        return _result(content, error=status != "ok")

    def _refuse(
        self, call_id: str, tool: str, why: str, code: str, status: ToolStatus = "refused"
    ) -> mcp_types.CallToolResult:
        self._record(
            ToolCallFinished(
                run_id=self.run_id,
                agent=AGENT,
                tool_call_id=call_id,
                tool=tool,
                status=status,
                output=why,
                error_code=code,
            )
        )
        return _result(why, error=True)

    # -- the session file -------------------------------------------------------------------

    def _open_run(self, ctx: ServerRequestContext[Any]) -> None:
        """The session's one run: "tool calls from CLIENT", opened at the first call."""
        if self._run_open:
            return
        self._run_open = True
        params = ctx.session.client_params
        info = params.client_info if params is not None else None
        client = f"{info.name} {info.version}".strip() if info is not None else "an MCP client"
        self._record(
            RunStarted(
                run_id=self.run_id,
                agent=AGENT,
                task=f"tool calls from {client} (opsconsole mcp)",
                model="",
                offline=True,
                write_mode=self.write_mode,
            )
        )

    def close(self) -> None:
        """End the session's run (when calls were made)."""
        if self._run_open:
            self._record(
                RunFinished(
                    run_id=self.run_id,
                    agent=AGENT,
                    steps=self.calls,
                    duration=round(time.monotonic() - self._started, 3),
                )
            )

    def _record(self, event: AgentEvent) -> None:
        recorder = self.runtime.recorder
        if recorder is not None:
            with contextlib.suppress(Exception):  # the audit records fail closed, not these
                recorder.record(event)


def _describe(tool: Tool) -> mcp_types.Tool:
    from mcp import types

    return types.Tool(
        name=tool.name,
        description=tool.description,
        input_schema=tool.parameters or {"type": "object"},
        annotations=types.ToolAnnotations(
            read_only_hint=not tool.mutating,
            destructive_hint=tool.mutating,
            open_world_hint=False,
        ),
    )


def _result(text: str, *, error: bool) -> mcp_types.CallToolResult:
    from mcp import types

    return types.CallToolResult(content=[types.TextContent(text=text)], is_error=error)


async def _invoke(tool: Tool, args: dict[str, Any]) -> ToolResult:
    if tool.is_async:
        out = await tool.handler(dict(args))  # type: ignore[misc]
    else:
        out = await asyncio.to_thread(tool.handler, dict(args))
    if isinstance(out, ToolResult):
        return out
    return ToolResult(content="" if out is None else str(out))


async def _dry_run(tool: Tool, args: dict[str, Any]) -> str:
    if tool.dry_run is None:
        return ""
    try:
        async with asyncio.timeout(DRY_RUN_TIMEOUT):
            return redact(str(await asyncio.to_thread(tool.dry_run, dict(args))))
    except TimeoutError:
        return f"dry run timed out after {DRY_RUN_TIMEOUT:g}s"
    except Exception as exc:  # noqa: BLE001 - shown to the person confirming
        return f"dry run failed: {_line(exc)}"


def _line(exc: BaseException) -> str:
    if isinstance(exc, OpsConsoleError):
        return exc.message
    first = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {first[0][:200]}" if first else type(exc).__name__
