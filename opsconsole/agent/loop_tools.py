"""Tool calls of one model turn, for :class:`opsconsole.agent.loop.AgentLoop`.

Each call is parsed (invalid JSON -> an error for the model, A9), looked up (unknown tool,
A11), validated against the tool's JSON schema with unknown keys refused (A10, S10), checked
by the repeated-call detector (A16) and refused in read-only mode if it mutates (S1); calls
beyond ``agent.max_tool_calls_per_turn`` are answered ``skipped`` and never run. Valid
read-only calls run concurrently (async handlers directly, sync ones in threads, each with a
timeout); mutating calls go one by one through the approver (see ``approval.py``) and the
audit hook. Results are stored in the conversation's open batch as they finish, so a cancel
keeps the finished ones and answers the rest ``cancelled`` (A12).
"""

from __future__ import annotations

import asyncio
import contextlib
import inspect
import json
import time
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from opsconsole.agent.approval import (
    ApprovalDecision,
    ApprovalRequest,
    Approver,
    AuditHook,
    AuditRecord,
    SessionApprovals,
    StandingApproval,
)
from opsconsole.agent.events import (
    AgentEvent,
    ApprovalRequested,
    ApprovalResolved,
    Notice,
    ToolCallFinished,
    ToolCallStarted,
)
from opsconsole.agent.model import ToolCallRequest, new_call_id
from opsconsole.agent.pricing import CacheTally
from opsconsole.agent.tools import (
    CONTEXT_KEYS,
    DryRun,
    Tool,
    ToolContext,
    ToolRegistry,
    ToolResult,
)
from opsconsole.agent.transcript import Conversation, outcome, status_message, truncate_to_tokens
from opsconsole.errors import OpsConsoleError

if TYPE_CHECKING:  # pragma: no cover
    from opsconsole.config import Settings

DRY_RUN_TIMEOUT = 20.0


@dataclass
class Prepared:
    call: ToolCallRequest
    tool: Tool | None = None
    args: dict[str, Any] = field(default_factory=dict)
    #: set when the call must not run: (status, content for the model, error code)
    reject: tuple[str, str, str] | None = None
    invalid: bool = False


@dataclass
class RunState:
    """The state of one run (one user task) of a loop."""

    run_id: str
    step: int = 0
    started: float = field(default_factory=time.monotonic)
    prompt_tokens: int = 0
    completion_tokens: int = 0
    calls: Counter[str] = field(default_factory=Counter)
    tool_counts: Counter[str] = field(default_factory=Counter)
    repeat_hit: str | None = None
    invalid_streak: int = 0
    last_thought: str = ""
    tasks: set[asyncio.Task[Any]] = field(default_factory=set)
    #: the run's prompt tokens by cache outcome, and its cost in USD
    cache: CacheTally = field(default_factory=CacheTally)
    cost: float = 0.0


@dataclass
class Turn:
    """What one model turn's tool calls run against."""

    state: RunState
    tools: ToolRegistry
    conversation: Conversation
    #: the pinned kube context (shown in approvals, refused as an argument)
    context: str | None
    write_mode: bool
    #: False once a newer run superseded this one: its batch is then not ours to answer
    current: Callable[[], bool]


class ToolCalls:
    """Runs the tool calls of a loop's model turns: parse, validate, refuse, run the
    read-only ones concurrently and the mutating ones one by one through the approver and
    the audit hook. It holds what lasts for the loop's life (the approver, the standing
    approvals, the audit hook, the compiled schemas); what a turn runs against comes in its
    :class:`Turn`."""

    def __init__(
        self,
        settings: Settings,
        *,
        agent: str,
        approver: Approver,
        audit: AuditHook | None = None,
    ) -> None:
        self.settings = settings
        self.agent = agent
        self.approver = approver
        self.audit = audit
        self.session_approvals = SessionApprovals()
        self._validators: dict[str, Any] = {}

    def _ev(self, cls: type[Any], turn: Turn, **kw: Any) -> Any:
        state = turn.state
        return cls(run_id=state.run_id, agent=self.agent, step=state.step, **kw)

    async def run(self, turn: Turn, calls: list[ToolCallRequest]) -> AsyncIterator[AgentEvent]:
        """Run ``calls`` (one model turn's), yielding their events as they happen."""
        async for event in self._run_batch(turn, calls):
            yield event

    def _prepare(self, turn: Turn, call: ToolCallRequest) -> Prepared:
        p = Prepared(call=call)
        tool = turn.tools.get(call.name)
        offered = [t.name for t in turn.tools.offered(write_mode=turn.write_mode)]
        if tool is None:
            p.invalid = True
            p.reject = (
                "error",
                _err(f"unknown tool '{call.name}'; available: [{', '.join(offered)}]"),
                "unknown_tool",
            )
            return p
        p.tool = tool
        raw = call.arguments.strip() or "{}"
        try:
            args = json.loads(raw)
        except ValueError as exc:
            p.invalid = True
            p.reject = ("error", _err(f"invalid JSON arguments: {exc}"), "invalid_arguments")
            return p
        if not isinstance(args, dict):
            p.invalid = True
            p.reject = (
                "error",
                _err("invalid JSON arguments: expected a JSON object"),
                "invalid_arguments",
            )
            return p
        p.args = args
        problem = validate_arguments(tool, args, turn.context, self._validators)
        if problem is not None:
            p.invalid = True
            p.reject = ("error", _err(problem), "invalid_arguments")
            return p
        if tool.mutating and not turn.write_mode:
            p.invalid = True  # a tool that was not offered counts like an unknown one
            p.reject = (
                "refused",
                status_message(
                    "refused",
                    retryable=False,
                    error=f"'{tool.name}' changes the cluster and this session is read-only; "
                    "nothing was executed. Recommend the change to the user instead.",
                ),
                "read_only",
            )
            return p
        key = f"{tool.name}:{json.dumps(args, sort_keys=True, ensure_ascii=False)}"
        turn.state.calls[key] += 1
        if turn.state.calls[key] > self.settings.agent.max_repeat_calls:
            turn.state.repeat_hit = tool.name
            p.reject = (
                "refused",
                _err(
                    f"repeated call: '{tool.name}' already ran with these arguments "
                    f"{turn.state.calls[key] - 1} times in this task; use the earlier result"
                ),
                "repeated_call",
            )
        return p

    async def _run_batch(
        self, turn: Turn, calls: list[ToolCallRequest]
    ) -> AsyncIterator[AgentEvent]:
        conv = turn.conversation
        cap = self.settings.agent.max_tool_calls_per_turn
        if len(calls) > cap:  # one turn must not flood the context window: run the first cap
            yield self._ev(
                Notice,
                turn,
                text=f"the model asked for {len(calls)} tool calls in one turn: ran the first "
                f"{cap}, skipped {len(calls) - cap} (agent.max_tool_calls_per_turn)",
                level="warning",
            )
            skipped = status_message(
                "skipped",
                retryable=True,
                error=f"skipped: too many calls in one turn (only the first {cap} ran); "
                "call it again in a later turn if still needed",
            )
            skipped_result = outcome(
                "skipped", error=("too_many_calls", f"skipped: only the first {cap} calls ran")
            )
            for call in calls[cap:]:
                conv.set_result(call.id, skipped, skipped_result)
                yield self._ev(
                    ToolCallFinished,
                    turn,
                    tool_call_id=call.id,
                    tool=call.name,
                    status="skipped",
                    output=skipped,
                )
            calls = calls[:cap]
        prepared = [self._prepare(turn, c) for c in calls]
        runnable: list[Prepared] = []
        mutating: list[Prepared] = []
        for p in prepared:
            turn.state.invalid_streak = turn.state.invalid_streak + 1 if p.invalid else 0
            if p.reject is not None:
                status, content, code = p.reject
                conv.set_result(
                    p.call.id, content, outcome(status, error=(code, _message(content)))
                )
                yield self._ev(
                    ToolCallFinished,
                    turn,
                    tool_call_id=p.call.id,
                    tool=p.call.name,
                    status=status,
                    output=content,
                    error_code=code,
                )
            elif p.tool is not None and p.tool.mutating:
                mutating.append(p)
            else:
                runnable.append(p)
        if not runnable and not mutating:
            return
        for p in runnable:
            turn.state.tool_counts[p.call.name] += 1
        queue: asyncio.Queue[Any] = asyncio.Queue()
        done = object()
        jobs = [self._execute(turn, p, queue) for p in runnable]
        if mutating:
            jobs.append(self._mutating_chain(turn, mutating, queue))
        tasks: list[asyncio.Task[Any]] = []
        for job in jobs:
            task = asyncio.ensure_future(_signal(job, queue, done))
            tasks.append(task)
            turn.state.tasks.add(task)
        try:
            remaining = len(tasks)
            while remaining:
                item = await queue.get()
                if item is done:
                    remaining -= 1
                else:
                    yield item
        finally:
            for task in tasks:
                turn.state.tasks.discard(task)
                if not task.done():
                    task.cancel()
        if not turn.current():  # superseded by a newer run: its batch is not ours
            return
        failures = [str(t.result()) for t in tasks if t.done() and not t.cancelled() and t.result()]
        for p in runnable + mutating:  # a bug in a job must still answer its call
            if not conv.has_result(p.call.id):
                why = f"tool call failed internally: {'; '.join(failures) or 'unknown'}"
                content = _err(why)
                conv.set_result(p.call.id, content, outcome("error", error=("tool_failed", why)))
                yield self._ev(
                    ToolCallFinished,
                    turn,
                    tool_call_id=p.call.id,
                    tool=p.call.name,
                    status="error",
                    output=content,
                    error_code="tool_failed",
                )

    async def _invoke(self, tool: Tool, args: dict[str, Any], ctx: ToolContext) -> ToolResult:
        call = (args, ctx) if tool.contextual else (args,)
        if tool.is_async:
            out = await tool.handler(*call)  # type: ignore[misc]
        else:
            out = await asyncio.to_thread(tool.handler, *call)
            if inspect.isawaitable(out):
                out = await out
        if isinstance(out, ToolResult):
            return out
        return ToolResult(content="" if out is None else str(out))

    async def _execute(
        self,
        turn: Turn,
        p: Prepared,
        queue: asyncio.Queue[Any],
        *,
        audit_decision: ApprovalDecision | None = None,
    ) -> None:
        tool = p.tool
        assert tool is not None
        conv = turn.conversation
        if audit_decision is not None:
            try:
                await self._audit("before", turn, p, audit_decision)
            except Exception as exc:  # noqa: BLE001 - fail closed
                why = f"not executed: the audit record could not be written ({exc})"
                content = _err(why)
                conv.set_result(p.call.id, content, outcome("error", error=("audit_failed", why)))
                queue.put_nowait(
                    self._ev(
                        ToolCallFinished,
                        turn,
                        tool_call_id=p.call.id,
                        tool=tool.name,
                        status="error",
                        output=content,
                        error_code="audit_failed",
                    )
                )
                return
        queue.put_nowait(
            self._ev(
                ToolCallStarted,
                turn,
                tool_call_id=p.call.id,
                tool=tool.name,
                arguments=p.args,
                mutating=tool.mutating,
            )
        )
        started = time.monotonic()
        timeout = min(tool.timeout, self.settings.agent.tool_timeout)
        data = None
        error: tuple[str, str] | None = None
        try:
            async with asyncio.timeout(timeout):
                ctx = ToolContext(
                    turn.state.run_id, self.agent, turn.state.step, p.call.id, queue.put_nowait
                )
                result = await self._invoke(tool, dict(p.args), ctx)
            status = "error" if result.is_error else "ok"
            content = self._limit(result.content) or status_message("ok", output="(empty)")
            data = result.data
            if result.error is not None:
                error = (result.error.code, result.error.message)
            elif result.is_error:
                error = ("error", _message(result.content))
        except TimeoutError:
            why = f"tool '{tool.name}' timed out after {timeout:g}s"
            status, content, error = "error", _err(why), ("timeout", why)
        except OpsConsoleError as exc:
            status, content, error = "error", _err(str(exc)), (exc.code, str(exc))
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # noqa: BLE001 - a tool bug is an observation, not a crash
            why = f"tool failed: {type(exc).__name__}: {exc}"
            status, content, error = "error", _err(why), ("tool_failed", why)
        conv.set_result(p.call.id, content, outcome(status, error=error, data=data))
        if audit_decision is not None:
            with contextlib.suppress(Exception):
                await self._audit("after", turn, p, audit_decision, status, content)
        queue.put_nowait(
            self._ev(
                ToolCallFinished,
                turn,
                tool_call_id=p.call.id,
                tool=tool.name,
                status=status,
                output=content,
                duration=round(time.monotonic() - started, 4),
                data=data,
                error_code=error[0] if error is not None else None,
            )
        )

    async def _mutating_chain(
        self, turn: Turn, batch: list[Prepared], queue: asyncio.Queue[Any]
    ) -> None:
        """Ask about and run the mutating calls of one turn, in order (see approval.py)."""
        conv = turn.conversation
        summaries = tuple(p.tool.summary(p.args) for p in batch if p.tool is not None)
        stop: tuple[str, str, dict[str, Any]] | None = None
        for index, p in enumerate(batch):
            tool = p.tool
            assert tool is not None
            if stop is None:
                decision = await self._decide(turn, p, summaries, index, queue)
                if decision.approved:
                    turn.state.tool_counts[tool.name] += 1
                    await self._execute(turn, p, queue, audit_decision=decision)
                    continue
                if decision.source in ("preview", "rejected"):
                    # a preview or a dry run the server refused ends this call only: the
                    # next call of the turn is dry-run (and previewed) on its own
                    code = "dry_run_rejected" if decision.source == "rejected" else "preview"
                    why = decision.reason or "refused"
                    status = "error" if decision.source == "rejected" else "refused"
                    content = (
                        _err(why)
                        if status == "error"
                        else status_message(status, retryable=False, error=why)
                    )
                    conv.set_result(p.call.id, content, outcome(status, error=(code, why)))
                    queue.put_nowait(
                        self._ev(
                            ToolCallFinished,
                            turn,
                            tool_call_id=p.call.id,
                            tool=tool.name,
                            status=status,
                            output=content,
                            error_code=code,
                        )
                    )
                    continue
                if decision.source == "policy":
                    why = decision.reason or "refused"
                    stop = (
                        "refused",
                        status_message("refused", retryable=False, error=why),
                        outcome("refused", error=("policy", why)),
                    )
                else:
                    stop = (
                        "declined",
                        status_message("declined", retryable=False),
                        outcome("declined"),
                    )
            status, content, result = stop
            conv.set_result(p.call.id, content, result)
            queue.put_nowait(
                self._ev(
                    ToolCallFinished,
                    turn,
                    tool_call_id=p.call.id,
                    tool=tool.name,
                    status=status,
                    output=content,
                )
            )

    async def _decide(
        self,
        turn: Turn,
        p: Prepared,
        summaries: tuple[Any, ...],
        index: int,
        queue: asyncio.Queue[Any],
    ) -> ApprovalDecision:
        tool = p.tool
        assert tool is not None
        scope = StandingApproval.for_call(tool.name, p.args, summaries[index], turn.context)
        standing = self.session_approvals.find(scope)
        if standing is not None:
            decision = ApprovalDecision("approve_session", source="session")
        elif not getattr(self.approver, "interactive", True):
            decision = await self._ask_approver(
                ApprovalRequest(
                    run_id=turn.state.run_id,
                    agent=self.agent,
                    tool_call_id=p.call.id,
                    tool=tool.name,
                    arguments=p.args,
                    summary=summaries[index],
                    context=turn.context,
                    batch=summaries,
                    index=index,
                )
            )
        else:
            summary = summaries[index]
            dry = await self._dry_run(tool, p.args)
            if dry.rejected:
                # the server refused the dry run: the call cannot succeed, nobody is asked
                return ApprovalDecision("decline", source="rejected", reason=dry.text)
            request = ApprovalRequest(
                run_id=turn.state.run_id,
                agent=self.agent,
                tool_call_id=p.call.id,
                tool=tool.name,
                arguments=p.args,
                summary=summary,
                context=turn.context,
                dry_run=dry.text,
                diff=dry.diff,
                blast_radius=dry.blast_radius,
                confirm=dry.confirm,
                batch=summaries,
                index=index,
                standing=scope,
            )
            target = f"{summary.kind}/{summary.name}" if summary.kind else summary.name
            queue.put_nowait(
                self._ev(
                    ApprovalRequested,
                    turn,
                    tool_call_id=p.call.id,
                    tool=tool.name,
                    arguments=p.args,
                    verb=summary.verb,
                    target=target,
                    namespace=summary.namespace,
                    context=turn.context,
                    dry_run=dry.text,
                    diff=dry.diff,
                    blast_radius=dry.blast_radius,
                    confirm=dry.confirm,
                )
            )
            decision = await self._ask_approver(request)
            if decision.decision == "approve_session":
                self.session_approvals.grant(scope)
                standing = scope
        queue.put_nowait(
            self._ev(
                ApprovalResolved,
                turn,
                tool_call_id=p.call.id,
                decision=decision.decision,
                source=decision.source,
                standing=standing.describe() if standing is not None else "",
            )
        )
        return decision

    async def _ask_approver(self, request: ApprovalRequest) -> ApprovalDecision:
        try:
            decision = await self.approver.approve(request)
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # noqa: BLE001 - an approver failure is a decline
            return ApprovalDecision("decline", source="error", reason=str(exc))
        if not isinstance(decision, ApprovalDecision):
            return ApprovalDecision("decline", source="error", reason="invalid decision")
        return decision

    async def _dry_run(self, tool: Tool, args: dict[str, Any]) -> DryRun:
        if tool.dry_run is None:
            return DryRun("")
        try:
            async with asyncio.timeout(DRY_RUN_TIMEOUT):
                got = await asyncio.to_thread(tool.dry_run, args)
        except TimeoutError:
            return DryRun(f"dry run timed out after {DRY_RUN_TIMEOUT:g}s")
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # noqa: BLE001 - shown to the person approving
            return DryRun(f"dry run failed: {exc}")
        return got if isinstance(got, DryRun) else DryRun(str(got))

    async def _audit(
        self,
        phase: str,
        turn: Turn,
        p: Prepared,
        decision: ApprovalDecision,
        status: str | None = None,
        result: str | None = None,
    ) -> None:
        if self.audit is None:
            return
        record = AuditRecord(
            phase=phase,  # type: ignore[arg-type]
            run_id=turn.state.run_id,
            agent=self.agent,
            tool_call_id=p.call.id,
            tool=p.call.name,
            arguments=p.args,
            context=turn.context,
            approval_source=decision.source,
            decision=decision.decision,
            status=status,
            result=result,
        )
        maybe = self.audit(record)
        if inspect.isawaitable(maybe):
            await maybe

    def _limit(self, content: str) -> str:
        return truncate_to_tokens(content, self.settings.agent.tool_output_tokens)


def validate_arguments(
    tool: Tool, args: dict[str, Any], context: str | None, validators: dict[str, Any]
) -> str | None:
    """Why ``args`` cannot be passed to ``tool`` (None: they can): an argument that would
    move the call to another cluster (S10), unknown keys (unless the schema allows them) or
    a schema violation. ``validators`` caches the compiled schemas by tool name."""
    schema = tool.parameters or {"type": "object"}
    props = schema.get("properties")
    declared = props if isinstance(props, dict) else {}
    for key in args:
        if key in CONTEXT_KEYS and key not in declared:  # S10, whatever the schema
            pinned = context or "the current context"
            return (
                f"argument '{key}' refused: this session is pinned to {pinned}; "
                "only the user can switch context"
            )
    extra_allowed = schema.get("additionalProperties", False) is not False
    if isinstance(props, dict) and not extra_allowed:
        unknown = [k for k in args if k not in props]
        if unknown:
            return (
                f"arguments do not match the schema of '{tool.name}': unexpected "
                f"argument(s) {', '.join(map(repr, unknown))}; expected: "
                f"{', '.join(props) or 'no arguments'}"
            )
    validator = validators.get(tool.name)
    if validator is None:
        from jsonschema import Draft202012Validator

        validator = Draft202012Validator(schema)
        validators[tool.name] = validator
    errors = sorted(validator.iter_errors(args), key=lambda e: [str(x) for x in e.path])
    if errors:
        first = errors[0]
        where = "/".join(str(p) for p in first.path) or "(root)"
        return f"arguments do not match the schema of '{tool.name}': {where}: {first.message}"
    return None


async def _signal(job: Awaitable[None], queue: asyncio.Queue[Any], done: object) -> str | None:
    """Run one job of a batch; always post ``done``; return a bug's description, if any."""
    try:
        await job
    except asyncio.CancelledError:
        raise
    except Exception as exc:  # noqa: BLE001 - reported as the call's result
        return f"{type(exc).__name__}: {exc}"
    finally:
        queue.put_nowait(done)
    return None


def _err(message: str) -> str:
    return json.dumps({"error": message}, ensure_ascii=False)


def _message(content: str) -> str:
    """The one line a person reads of an error content (its ``error`` field if JSON)."""
    try:
        data = json.loads(content)
    except ValueError:
        data = None
    if isinstance(data, dict) and isinstance(data.get("error"), str):
        return data["error"]
    lines = content.strip().splitlines()
    return lines[0] if lines else ""


def unique_ids(calls: list[ToolCallRequest]) -> list[ToolCallRequest]:
    """Some servers repeat or omit ids; the transcript needs them unique and non-empty."""
    seen: set[str] = set()
    out = []
    for c in calls:
        cid = c.id
        if not cid or cid in seen:
            cid = new_call_id()
            c = ToolCallRequest(id=cid, name=c.name, arguments=c.arguments)
        seen.add(cid)
        out.append(c)
    return out
