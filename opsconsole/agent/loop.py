"""The headless ReAct loop: task -> model plans -> tools run -> observations -> answer.

``AgentLoop.run(task)`` is an async generator of typed events (``opsconsole.agent.events``).
One loop object is one conversation: a follow-up ``run`` continues it. Consumers (the TUI's
worker, ``opsconsole ask``, the session recorder, tests) iterate it::

    loop = AgentLoop(model, registry, settings=settings, approver=approver)
    async with contextlib.aclosing(loop.run("why is checkout failing?")) as events:
        async for event in events:
            ...

or let :func:`drive` do it with a callback. Every run ends with exactly one terminal event:
``RunFinished`` (after an ``Answer``), ``RunFailed`` or ``RunCancelled``.

Cancelling: cancel the task that iterates (``worker.cancel()``). The generator then cancels
the running tools, answers every open tool_call_id (finished ones keep their result, the rest
get ``{"status":"cancelled"}``), discards a partly streamed reply, records the
``RunCancelled`` event in :attr:`AgentLoop.terminal_event` and re-raises ``CancelledError``
(a generator cannot yield while being cancelled). :func:`drive` hands that event to its
callback before re-raising. :meth:`AgentLoop.abort` does the same cleanup synchronously for a
consumer that abandoned the generator without closing it.
"""

from __future__ import annotations

import asyncio
import contextlib
import inspect
import json
import time
import uuid
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
    DenyAllApprover,
    SessionApprovals,
)
from opsconsole.agent.events import (
    AgentEvent,
    Answer,
    ApprovalRequested,
    ApprovalResolved,
    Notice,
    ReasoningDelta,
    RetryScheduled,
    RunCancelled,
    RunFailed,
    RunFinished,
    RunStarted,
    StepStarted,
    TextDelta,
    Thought,
    ToolCallFinished,
    ToolCallStarted,
    UsageReported,
)
from opsconsole.agent.model import (
    ModelClient,
    ModelTurn,
    ReasoningChunk,
    RetryNotice,
    StreamInterrupted,
    TextChunk,
    ToolCallRequest,
    estimate_cost,
)
from opsconsole.agent.prompts import build_system_prompt, resolve_language
from opsconsole.agent.tools import Tool, ToolRegistry, ToolResult
from opsconsole.agent.transcript import Conversation, estimate_tokens, status_message
from opsconsole.errors import ModelContextLength, ModelError, OpsConsoleError

if TYPE_CHECKING:  # pragma: no cover
    from opsconsole.config import Settings

#: arguments that would move a call to another cluster (S10)
CONTEXT_KEYS = ("context", "cluster", "kube_context", "kubeconfig")
#: compaction starts when the transcript estimate passes this share of the context window
COMPACT_AT = 0.8
COMPACT_TO = 0.6
DRY_RUN_TIMEOUT = 20.0

RequestHook = Callable[[list[dict[str, Any]], list[dict[str, Any]]], "Awaitable[None] | None"]


def new_run_id() -> str:
    return uuid.uuid4().hex[:12]


@dataclass
class _Prepared:
    call: ToolCallRequest
    tool: Tool | None = None
    args: dict[str, Any] = field(default_factory=dict)
    #: set when the call must not run: (status, content for the model)
    reject: tuple[str, str] | None = None
    invalid: bool = False


@dataclass
class _RunState:
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


class AgentLoop:
    """One agent's conversation with a model over a tool registry. See the module docs.

    ``write_mode`` (default ``settings.agent.write_mode``) offers mutating tools; every call to
    one still goes through ``approver`` (default :class:`DenyAllApprover`). ``context`` is the
    pinned kube context shown in approvals and refused as an argument (S10). ``audit`` is the
    hook of :mod:`opsconsole.agent.approval`; ``on_request(messages, tools)`` sees every request
    body just before it is sent (session recording). ``system_prompt`` replaces the built-in
    one (specialists).
    """

    def __init__(
        self,
        model: ModelClient,
        tools: ToolRegistry,
        *,
        settings: Settings,
        approver: Approver | None = None,
        agent: str = "ops",
        language: str | None = None,
        context: str | None = None,
        namespace: str | None = None,
        write_mode: bool | None = None,
        system_prompt: str | None = None,
        conversation: Conversation | None = None,
        audit: AuditHook | None = None,
        on_request: RequestHook | None = None,
        parent_run_id: str | None = None,
    ) -> None:
        self.model = model
        self.tools = tools
        self.settings = settings
        self.approver: Approver = approver or DenyAllApprover()
        self.agent = agent
        self.language = language or settings.agent.language
        self.context = context if context is not None else settings.kubernetes.context
        self.namespace = namespace or settings.kubernetes.namespace
        self.write_mode = settings.agent.write_mode if write_mode is None else write_mode
        self.system_prompt = system_prompt
        self.conversation = conversation if conversation is not None else Conversation()
        self.audit = audit
        self.on_request = on_request
        self.parent_run_id = parent_run_id
        self.session_approvals = SessionApprovals()
        #: the terminal event of the last run (RunFinished / RunFailed / RunCancelled)
        self.terminal_event: AgentEvent | None = None
        self.total_prompt_tokens = 0
        self.total_completion_tokens = 0
        self.total_cost = 0.0
        self._state: _RunState | None = None
        self._validators: dict[str, Any] = {}

    # -- public -----------------------------------------------------------------------

    @property
    def running(self) -> bool:
        return self._state is not None

    def offered_tools(self) -> list[Tool]:
        return self.tools.offered(write_mode=self.write_mode)

    def abort(self, reason: str = "cancelled by user") -> RunCancelled | None:
        """Synchronously stop the current run: cancel its tools, close the open tool batch
        with ``cancelled`` results and record (and return) a RunCancelled. Idempotent."""
        return self._abort(self._state, reason)

    def _abort(
        self, state: _RunState | None, reason: str = "cancelled by user"
    ) -> RunCancelled | None:
        if state is None:
            return None
        for task in list(state.tasks):
            task.cancel()
        state.tasks.clear()
        if self._state is not state:  # an old, abandoned run: the conversation moved on
            return None
        self._state = None
        self.conversation.repair("cancelled")
        event = RunCancelled(run_id=state.run_id, agent=self.agent, step=state.step, reason=reason)
        self.terminal_event = event
        return event

    async def run(self, task: str) -> AsyncIterator[AgentEvent]:
        """Run one user task; yield its events; see the module docstring for cancelling."""
        if self._state is not None:  # a consumer abandoned the previous run without closing it
            self._abort(self._state, "superseded by a new task")
        state = _RunState(run_id=new_run_id())
        self._state = state
        self.terminal_event = None
        conv = self.conversation
        conv.repair("interrupted")
        if not conv.has_system:
            conv.set_system(self._system_prompt(task))
        conv.add_user(task)
        try:
            yield RunStarted(
                run_id=state.run_id,
                agent=self.agent,
                task=task,
                model=getattr(self.model, "label", ""),
                offline=bool(getattr(self.model, "offline", False)),
                write_mode=self.write_mode,
                parent_run_id=self.parent_run_id,
            )
            async for event in self._steps(state):
                if isinstance(event, (RunFinished, RunFailed)):
                    self.terminal_event = event
                    self._state = None
                yield event
        except (asyncio.CancelledError, GeneratorExit):
            self._abort(state)
            raise
        except Exception as exc:  # noqa: BLE001 - a bug must not leave a broken transcript
            self._abort(state)
            failed = RunFailed(
                run_id=state.run_id,
                agent=self.agent,
                step=state.step,
                error=f"internal error in the agent loop: {type(exc).__name__}: {exc}",
                error_type="internal",
            )
            self.terminal_event = failed
            yield failed
        finally:
            if self._state is state:
                self._abort(state)

    # -- steps ------------------------------------------------------------------------

    def _system_prompt(self, task: str) -> str:
        if self.system_prompt is not None:
            return self.system_prompt
        language = resolve_language(self.language, task)
        return build_system_prompt(
            language,
            self.offered_tools(),
            write_mode=self.write_mode,
            agent=self.agent,
            context=self.context,
            namespace=self.namespace,
        )

    def _ev(self, cls: type[Any], state: _RunState, **kw: Any) -> Any:
        return cls(run_id=state.run_id, agent=self.agent, step=state.step, **kw)

    def _failed(self, state: _RunState, error: str, error_type: str, hint: str | None = None):
        return self._ev(RunFailed, state, error=error, error_type=error_type, hint=hint)

    def _summary(self, state: _RunState) -> str:
        tools = ", ".join(f"{n} x{c}" for n, c in state.tool_counts.most_common()) or "none"
        text = f"{state.step} steps; tools called: {tools}."
        if state.last_thought:
            text += f" Last thought: {state.last_thought[:300]}"
        return text

    async def _steps(self, state: _RunState) -> AsyncIterator[AgentEvent]:
        cfg = self.settings.agent
        conv = self.conversation
        tools_payload = [t.openai_schema() for t in self.offered_tools()]
        passback = self.settings.model.reasoning_passback
        window = self.settings.model.context_window
        while True:
            if state.step >= cfg.max_steps:
                yield self._ev(Notice, state, text=self._summary(state), level="warning")
                yield self._failed(
                    state,
                    f"stopped after {state.step} steps without a final answer (limit)",
                    "max_steps",
                    "ask a narrower question, or raise agent.max_steps",
                )
                return
            used = self.total_prompt_tokens + self.total_completion_tokens
            if used >= cfg.token_budget:
                yield self._ev(Notice, state, text=self._summary(state), level="warning")
                yield self._failed(
                    state,
                    f"token budget exhausted ({used} of {cfg.token_budget} tokens)",
                    "token_budget",
                    "start a new conversation, or raise agent.token_budget",
                )
                return
            state.step += 1
            yield self._ev(StepStarted, state)
            if conv.estimate_tokens() > window * COMPACT_AT:
                n = conv.compact(target_tokens=int(window * COMPACT_TO))
                if n:
                    yield self._ev(
                        Notice, state, text=f"context nearly full: compacted {n} old tool outputs"
                    )
            turn: ModelTurn | None = None
            retried_context = False
            while turn is None:
                messages = conv.for_request(reasoning_passback=passback)
                if self.on_request is not None:
                    maybe = self.on_request(messages, tools_payload)
                    if inspect.isawaitable(maybe):
                        await maybe
                try:
                    async with contextlib.aclosing(
                        self.model.run_turn(messages, tools_payload)
                    ) as stream:
                        async for item in stream:
                            if isinstance(item, TextChunk):
                                yield self._ev(TextDelta, state, text=item.text)
                            elif isinstance(item, ReasoningChunk):
                                yield self._ev(ReasoningDelta, state, text=item.text)
                            elif isinstance(item, RetryNotice):
                                yield self._ev(
                                    RetryScheduled,
                                    state,
                                    attempt=item.attempt,
                                    max_attempts=item.max_attempts,
                                    wait=item.wait,
                                    reason=item.reason,
                                )
                            elif isinstance(item, ModelTurn):
                                turn = item
                except ModelContextLength as exc:
                    if retried_context:
                        yield self._failed(state, exc.message, "context_length", exc.hint)
                        return
                    retried_context = True
                    target = conv.estimate_tokens() // 2
                    n = conv.compact(target_tokens=target, keep_last=1)
                    if not n:
                        n = conv.compact(target_tokens=target, keep_last=0)
                    if not n:
                        n = conv.truncate_tool_outputs(4000)
                    if not n:
                        yield self._failed(
                            state, exc.message, "context_length", "start a new conversation"
                        )
                        return
                    yield self._ev(
                        Notice,
                        state,
                        text=f"the model's context is full: compacted {n} tool outputs, retrying",
                        level="warning",
                    )
                    continue
                except StreamInterrupted as exc:
                    detail = (
                        f"; {exc.partial_tool_calls} partial tool call(s) not executed"
                        if exc.partial_tool_calls
                        else ""
                    )
                    yield self._ev(
                        Notice,
                        state,
                        text=f"the model's reply was cut off and discarded{detail}",
                        level="warning",
                    )
                    yield self._failed(state, exc.message, "stream_interrupted", exc.hint)
                    return
                except ModelError as exc:
                    yield self._failed(state, exc.message, type(exc).__name__, exc.hint)
                    return
                if turn is None:
                    yield self._failed(state, "the model client returned no turn", "model")
                    return

            yield self._usage(state, turn, messages)

            if not turn.tool_calls:
                text = turn.content
                if not text.strip():
                    yield self._ev(
                        Notice, state, text="model returned an empty response", level="warning"
                    )
                    yield self._failed(
                        state, "model returned an empty response", "empty_response", "retry"
                    )
                    return
                conv.add_assistant(text, turn.reasoning)
                if turn.finish_reason == "length":
                    yield self._ev(
                        Notice,
                        state,
                        text="the answer was cut at the model's output limit",
                        level="warning",
                    )
                yield self._ev(Answer, state, text=text)
                yield self._ev(
                    RunFinished,
                    state,
                    steps=state.step,
                    prompt_tokens=state.prompt_tokens,
                    completion_tokens=state.completion_tokens,
                    duration=time.monotonic() - state.started,
                )
                return

            if turn.finish_reason == "length":  # A8 (non-streamed): never run open calls
                yield self._ev(
                    Notice,
                    state,
                    text=f"the model hit its output limit; {len(turn.tool_calls)} tool call(s) "
                    "not executed",
                    level="warning",
                )
                yield self._failed(
                    state,
                    "the model hit its output length limit while writing tool calls",
                    "stream_interrupted",
                    "retry the question",
                )
                return

            calls = _unique_ids(turn.tool_calls)
            conv.open_batch(
                turn.content, turn.reasoning, [(c.id, c.name, c.arguments) for c in calls]
            )
            state.last_thought = turn.content or state.last_thought
            yield self._ev(
                Thought,
                state,
                text=turn.content,
                reasoning=turn.reasoning,
                tool_calls=[{"id": c.id, "name": c.name, "arguments": c.arguments} for c in calls],
            )
            async for event in self._run_batch(state, calls):
                yield event
            conv.close_batch()

            if state.repeat_hit:
                yield self._ev(Notice, state, text=self._summary(state), level="warning")
                yield self._failed(
                    state,
                    f"stopped: the model kept repeating the same call ({state.repeat_hit})",
                    "loop_detected",
                    "rephrase the question or check the tool output",
                )
                return
            if state.invalid_streak >= cfg.max_invalid_tool_calls:
                yield self._failed(
                    state,
                    f"stopped: the model sent {state.invalid_streak} invalid tool calls in a row",
                    "invalid_tool_calls",
                    "the model may not support tool calling well; try another model",
                )
                return

    def _usage(
        self, state: _RunState, turn: ModelTurn, messages: list[dict[str, Any]]
    ) -> UsageReported:
        if turn.usage is not None:
            p, c = turn.usage.prompt_tokens, turn.usage.completion_tokens
        else:  # servers that ignore stream_options: estimate
            p = sum(estimate_tokens(str(m.get("content") or "")) for m in messages)
            c = estimate_tokens(turn.content) + estimate_tokens(turn.reasoning)
            c += sum(estimate_tokens(t.arguments) for t in turn.tool_calls)
        state.prompt_tokens += p
        state.completion_tokens += c
        self.total_prompt_tokens += p
        self.total_completion_tokens += c
        cost = (
            0.0
            if getattr(self.model, "offline", False)
            else estimate_cost(p, c, self.settings.model)
        )
        self.total_cost += cost
        return self._ev(
            UsageReported,
            state,
            prompt_tokens=p,
            completion_tokens=c,
            total_prompt_tokens=self.total_prompt_tokens,
            total_completion_tokens=self.total_completion_tokens,
            cost_usd=round(self.total_cost, 6),
        )

    # -- tool calls -------------------------------------------------------------------

    def _prepare(self, state: _RunState, call: ToolCallRequest) -> _Prepared:
        p = _Prepared(call=call)
        tool = self.tools.get(call.name)
        offered = [t.name for t in self.offered_tools()]
        if tool is None:
            p.invalid = True
            p.reject = (
                "error",
                _err(f"unknown tool '{call.name}'; available: [{', '.join(offered)}]"),
            )
            return p
        p.tool = tool
        raw = call.arguments.strip() or "{}"
        try:
            args = json.loads(raw)
        except ValueError as exc:
            p.invalid = True
            p.reject = ("error", _err(f"invalid JSON arguments: {exc}"))
            return p
        if not isinstance(args, dict):
            p.invalid = True
            p.reject = ("error", _err("invalid JSON arguments: expected a JSON object"))
            return p
        p.args = args
        problem = self._validate(tool, args)
        if problem is not None:
            p.invalid = True
            p.reject = ("error", _err(problem))
            return p
        if tool.mutating and not self.write_mode:
            p.reject = (
                "refused",
                status_message(
                    "refused",
                    retryable=False,
                    error=f"'{tool.name}' changes the cluster and this session is read-only; "
                    "nothing was executed. Recommend the change to the user instead.",
                ),
            )
            return p
        key = f"{tool.name}:{json.dumps(args, sort_keys=True, ensure_ascii=False)}"
        state.calls[key] += 1
        if state.calls[key] > self.settings.agent.max_repeat_calls:
            state.repeat_hit = tool.name
            p.reject = (
                "refused",
                _err(
                    f"repeated call: '{tool.name}' already ran with these arguments "
                    f"{state.calls[key] - 1} times in this task; use the earlier result"
                ),
            )
        return p

    def _validate(self, tool: Tool, args: dict[str, Any]) -> str | None:
        schema = tool.parameters or {"type": "object"}
        props = schema.get("properties")
        extra_allowed = schema.get("additionalProperties", False) is not False
        if isinstance(props, dict) and not extra_allowed:
            unknown = [k for k in args if k not in props]
            for key in unknown:
                if key in CONTEXT_KEYS:
                    pinned = self.context or "the current context"
                    return (
                        f"argument '{key}' refused: this session is pinned to {pinned}; "
                        "only the user can switch context"
                    )
            if unknown:
                return (
                    f"arguments do not match the schema of '{tool.name}': unexpected "
                    f"argument(s) {', '.join(map(repr, unknown))}; expected: "
                    f"{', '.join(props) or 'no arguments'}"
                )
        validator = self._validators.get(tool.name)
        if validator is None:
            from jsonschema import Draft202012Validator

            validator = Draft202012Validator(schema)
            self._validators[tool.name] = validator
        errors = sorted(validator.iter_errors(args), key=lambda e: list(e.path))
        if errors:
            first = errors[0]
            where = "/".join(str(p) for p in first.path) or "(root)"
            return f"arguments do not match the schema of '{tool.name}': {where}: {first.message}"
        return None

    async def _run_batch(
        self, state: _RunState, calls: list[ToolCallRequest]
    ) -> AsyncIterator[AgentEvent]:
        conv = self.conversation
        prepared = [self._prepare(state, c) for c in calls]
        runnable: list[_Prepared] = []
        mutating: list[_Prepared] = []
        for p in prepared:
            state.invalid_streak = state.invalid_streak + 1 if p.invalid else 0
            if p.reject is not None:
                status, content = p.reject
                conv.set_result(p.call.id, content)
                yield self._ev(
                    ToolCallFinished,
                    state,
                    tool_call_id=p.call.id,
                    tool=p.call.name,
                    status=status,
                    output=content,
                )
            elif p.tool is not None and p.tool.mutating:
                mutating.append(p)
            else:
                runnable.append(p)
        if not runnable and not mutating:
            return
        for p in runnable:
            state.tool_counts[p.call.name] += 1
        queue: asyncio.Queue[Any] = asyncio.Queue()
        done = object()
        jobs = [self._execute(state, p, queue) for p in runnable]
        if mutating:
            jobs.append(self._mutating_chain(state, mutating, queue))
        tasks: list[asyncio.Task[Any]] = []
        for job in jobs:
            task = asyncio.ensure_future(_signal(job, queue, done))
            tasks.append(task)
            state.tasks.add(task)
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
                state.tasks.discard(task)
                if not task.done():
                    task.cancel()
        failures = [str(t.result()) for t in tasks if t.done() and t.result() is not None]
        for p in runnable + mutating:  # a bug in a job must still answer its call
            if not conv.has_result(p.call.id):
                content = _err(f"tool call failed internally: {'; '.join(failures) or 'unknown'}")
                conv.set_result(p.call.id, content)
                yield self._ev(
                    ToolCallFinished,
                    state,
                    tool_call_id=p.call.id,
                    tool=p.call.name,
                    status="error",
                    output=content,
                )

    async def _invoke(self, tool: Tool, args: dict[str, Any]) -> ToolResult:
        if tool.is_async:
            out = await tool.handler(args)  # type: ignore[misc]
        else:
            out = await asyncio.to_thread(tool.handler, args)
            if inspect.isawaitable(out):
                out = await out
        if isinstance(out, ToolResult):
            return out
        return ToolResult(content="" if out is None else str(out))

    async def _execute(
        self,
        state: _RunState,
        p: _Prepared,
        queue: asyncio.Queue[Any],
        *,
        audit_decision: ApprovalDecision | None = None,
    ) -> None:
        tool = p.tool
        assert tool is not None
        conv = self.conversation
        if audit_decision is not None:
            try:
                await self._audit("before", state, p, audit_decision)
            except Exception as exc:  # noqa: BLE001 - fail closed
                content = _err(f"not executed: the audit record could not be written ({exc})")
                conv.set_result(p.call.id, content)
                queue.put_nowait(
                    self._ev(
                        ToolCallFinished,
                        state,
                        tool_call_id=p.call.id,
                        tool=tool.name,
                        status="error",
                        output=content,
                    )
                )
                return
        queue.put_nowait(
            self._ev(
                ToolCallStarted,
                state,
                tool_call_id=p.call.id,
                tool=tool.name,
                arguments=p.args,
                mutating=tool.mutating,
            )
        )
        started = time.monotonic()
        timeout = min(tool.timeout, self.settings.agent.tool_timeout)
        data = None
        try:
            async with asyncio.timeout(timeout):
                result = await self._invoke(tool, p.args)
            status = "error" if result.is_error else "ok"
            content = self._limit(result.content) or status_message("ok", output="(empty)")
            data = result.data
        except TimeoutError:
            status, content = "error", _err(f"tool '{tool.name}' timed out after {timeout:g}s")
        except OpsConsoleError as exc:
            status, content = "error", _err(str(exc))
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # noqa: BLE001 - a tool bug is an observation, not a crash
            status, content = "error", _err(f"tool failed: {type(exc).__name__}: {exc}")
        conv.set_result(p.call.id, content)
        if audit_decision is not None:
            with contextlib.suppress(Exception):
                await self._audit("after", state, p, audit_decision, status, content)
        queue.put_nowait(
            self._ev(
                ToolCallFinished,
                state,
                tool_call_id=p.call.id,
                tool=tool.name,
                status=status,
                output=content,
                duration=round(time.monotonic() - started, 4),
                data=data,
            )
        )

    async def _mutating_chain(
        self, state: _RunState, batch: list[_Prepared], queue: asyncio.Queue[Any]
    ) -> None:
        """Ask about and run the mutating calls of one turn, in order (see approval.py)."""
        conv = self.conversation
        summaries = tuple(p.tool.summary(p.args) for p in batch if p.tool is not None)
        stop: tuple[str, str] | None = None
        for index, p in enumerate(batch):
            tool = p.tool
            assert tool is not None
            if stop is None:
                decision = await self._decide(state, p, summaries, index, queue)
                if decision.approved:
                    state.tool_counts[tool.name] += 1
                    await self._execute(state, p, queue, audit_decision=decision)
                    continue
                if decision.source == "policy":
                    stop = (
                        "refused",
                        status_message(
                            "refused", retryable=False, error=decision.reason or "refused"
                        ),
                    )
                else:
                    stop = ("declined", status_message("declined", retryable=False))
            status, content = stop
            conv.set_result(p.call.id, content)
            queue.put_nowait(
                self._ev(
                    ToolCallFinished,
                    state,
                    tool_call_id=p.call.id,
                    tool=tool.name,
                    status=status,
                    output=content,
                )
            )

    async def _decide(
        self,
        state: _RunState,
        p: _Prepared,
        summaries: tuple[Any, ...],
        index: int,
        queue: asyncio.Queue[Any],
    ) -> ApprovalDecision:
        tool = p.tool
        assert tool is not None
        if self.session_approvals.allows(tool.name, self.context):
            decision = ApprovalDecision("approve_session", source="session")
        elif not getattr(self.approver, "interactive", True):
            decision = await self._ask_approver(
                ApprovalRequest(
                    run_id=state.run_id,
                    agent=self.agent,
                    tool_call_id=p.call.id,
                    tool=tool.name,
                    arguments=p.args,
                    summary=summaries[index],
                    context=self.context,
                    batch=summaries,
                    index=index,
                )
            )
        else:
            summary = summaries[index]
            dry = await self._dry_run(tool, p.args)
            request = ApprovalRequest(
                run_id=state.run_id,
                agent=self.agent,
                tool_call_id=p.call.id,
                tool=tool.name,
                arguments=p.args,
                summary=summary,
                context=self.context,
                dry_run=dry,
                batch=summaries,
                index=index,
            )
            target = f"{summary.kind}/{summary.name}" if summary.kind else summary.name
            queue.put_nowait(
                self._ev(
                    ApprovalRequested,
                    state,
                    tool_call_id=p.call.id,
                    tool=tool.name,
                    arguments=p.args,
                    verb=summary.verb,
                    target=target,
                    namespace=summary.namespace,
                    context=self.context,
                    dry_run=dry,
                )
            )
            decision = await self._ask_approver(request)
            if decision.decision == "approve_session":
                self.session_approvals.grant(tool.name, self.context)
        queue.put_nowait(
            self._ev(
                ApprovalResolved,
                state,
                tool_call_id=p.call.id,
                decision=decision.decision,
                source=decision.source,
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

    async def _dry_run(self, tool: Tool, args: dict[str, Any]) -> str:
        if tool.dry_run is None:
            return ""
        try:
            async with asyncio.timeout(DRY_RUN_TIMEOUT):
                return str(await asyncio.to_thread(tool.dry_run, args))
        except TimeoutError:
            return f"dry run timed out after {DRY_RUN_TIMEOUT:g}s"
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # noqa: BLE001 - shown to the person approving
            return f"dry run failed: {exc}"

    async def _audit(
        self,
        phase: str,
        state: _RunState,
        p: _Prepared,
        decision: ApprovalDecision,
        status: str | None = None,
        result: str | None = None,
    ) -> None:
        if self.audit is None:
            return
        record = AuditRecord(
            phase=phase,  # type: ignore[arg-type]
            run_id=state.run_id,
            agent=self.agent,
            tool_call_id=p.call.id,
            tool=p.call.name,
            arguments=p.args,
            context=self.context,
            approval_source=decision.source,
            decision=decision.decision,
            status=status,
            result=result,
        )
        maybe = self.audit(record)
        if inspect.isawaitable(maybe):
            await maybe

    def _limit(self, content: str) -> str:
        budget = self.settings.agent.tool_output_tokens
        if estimate_tokens(content) <= budget:
            return content
        keep = budget * (4 if content.isascii() else 2)
        omitted = len(content) - keep
        return content[:keep] + f"\n[truncated: {omitted} characters omitted]"


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


def _unique_ids(calls: list[ToolCallRequest]) -> list[ToolCallRequest]:
    """Some servers repeat or omit ids; the transcript needs them unique and non-empty."""
    seen: set[str] = set()
    out = []
    for c in calls:
        cid = c.id
        if not cid or cid in seen:
            cid = "call_" + uuid.uuid4().hex[:24]
            c = ToolCallRequest(id=cid, name=c.name, arguments=c.arguments)
        seen.add(cid)
        out.append(c)
    return out


async def drive(
    loop: AgentLoop,
    task: str,
    on_event: Callable[[AgentEvent], Awaitable[None] | None],
) -> AgentEvent | None:
    """Run ``task`` and hand every event to ``on_event`` (sync or async), including the
    ``RunCancelled`` of a cancellation, which is then re-raised. Returns the terminal event."""
    try:
        async with contextlib.aclosing(loop.run(task)) as events:
            async for event in events:
                maybe = on_event(event)
                if inspect.isawaitable(maybe):
                    await maybe
    except asyncio.CancelledError:
        event = loop.terminal_event if isinstance(loop.terminal_event, RunCancelled) else None
        if event is None:
            event = loop.abort()
        if event is not None:
            with contextlib.suppress(Exception):
                maybe = on_event(event)
                if inspect.isawaitable(maybe):
                    await maybe
        raise
    return loop.terminal_event
