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
consumer that abandoned the generator without closing it (call it in an ``except
CancelledError`` when iterating ``run()`` directly; it returns the RunCancelled to show/record).

``RunFailed.error_type``: the model error's class name (``ModelAuthError``,
``ModelBalanceError``, ``ModelRateLimited``, ``ModelUnavailable``, ``ModelTimeout``,
``ModelBadRequest``), or ``context_length``, ``stream_interrupted`` (A7/A8), ``empty_response``
(A15), ``loop_detected`` (A16), ``max_steps`` / ``token_budget`` / ``spend_cap`` (A17, after a
Notice with a summary), ``invalid_tool_calls`` (A9/A11 budget), ``internal``.
"""

from __future__ import annotations

import asyncio
import contextlib
import inspect
import json
import time
import uuid
from collections.abc import AsyncGenerator, AsyncIterator, Awaitable, Callable
from typing import TYPE_CHECKING, Any

from opsconsole.agent.approval import (
    Approver,
    AuditHook,
    DenyAllApprover,
    SessionApprovals,
    StandingApproval,
)
from opsconsole.agent.events import (
    AgentEvent,
    Answer,
    Notice,
    PrefixChanged,
    ReasoningDelta,
    RetryScheduled,
    RunCancelled,
    RunFailed,
    RunFinished,
    RunStarted,
    StepStarted,
    TextDelta,
    Thought,
    UsageReported,
)
from opsconsole.agent.loop_tools import RunState, ToolCalls, Turn, unique_ids
from opsconsole.agent.model import (
    ModelClient,
    ModelTurn,
    ReasoningChunk,
    RetryNotice,
    StreamInterrupted,
    TextChunk,
)
from opsconsole.agent.pricing import CacheTally, cost_usd, split_prompt
from opsconsole.agent.prompts import Language, build_system_prompt, resolve_language, state_line
from opsconsole.agent.tools import Tool, ToolRegistry
from opsconsole.agent.transcript import (
    Conversation,
    estimate_tokens,
    latest_state_note,
    with_state_note,
)
from opsconsole.errors import ModelContextLength, ModelError

if TYPE_CHECKING:  # pragma: no cover
    from opsconsole.agent.runner import Runner
    from opsconsole.config import Settings

#: a request (messages and tool definitions) is kept under this share of the context window
#: (the rest is room for the reply and the estimate's error); a step's tool results are shrunk
#: to keep the next request under it
COMPACT_AT = 0.8
#: when older tool outputs must give way, they are compacted in one large step down to this
#: share of the window, so that compaction is rare and the new prefix is reused from the
#: provider's prompt cache by the steps after it (RELIABILITY A20)
COMPACT_TO = 0.3

RequestHook = Callable[[list[dict[str, Any]], list[dict[str, Any]]], "Awaitable[None] | None"]
#: ``(language, offered tools, *, write_mode, context, namespace) -> system prompt``
PromptBuilder = Callable[..., str]


def new_run_id() -> str:
    return uuid.uuid4().hex[:12]


class AgentLoop:
    """One agent's conversation with a model over a tool registry. See the module docs.

    ``write_mode`` (default ``settings.agent.write_mode``) offers mutating tools; every call to
    one still goes through ``approver`` (default :class:`DenyAllApprover`). ``context`` is the
    pinned kube context shown in approvals and refused as an argument (S10). ``audit`` is the
    hook of :mod:`opsconsole.agent.approval`; ``on_request(messages, tools)`` sees every request
    body just before it is sent (session recording). ``system_prompt`` replaces the built-in
    one with a fixed text; ``prompt`` builds it instead (specialists: rebuilt when write mode
    changes the offered tools).

    The request prefix (system prompt and tools) is byte-identical from request to request of
    a conversation, so the provider's prompt cache serves it (RELIABILITY A20): the system
    prompt is built once, and rebuilt only after a write-mode switch (which changes the
    offered tools too); a namespace or context switch goes in the newest user message as a note
    (:func:`~opsconsole.agent.transcript.with_state_note`). A request whose prefix or model
    differs from the previous one is announced with :class:`PrefixChanged`.
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
        prompt: PromptBuilder | None = None,
        conversation: Conversation | None = None,
        audit: AuditHook | None = None,
        on_request: RequestHook | None = None,
        parent_run_id: str | None = None,
    ) -> None:
        self.model = model
        self.tools = tools
        self.settings = settings
        self.agent = agent
        self.language = language or settings.agent.language
        self.context = context if context is not None else settings.kubernetes.context
        #: the default namespace (None: all namespaces)
        self.namespace: str | None = namespace or settings.kubernetes.namespace
        self.write_mode = settings.agent.write_mode if write_mode is None else write_mode
        self.system_prompt = system_prompt
        self.prompt = prompt
        self.conversation = conversation if conversation is not None else Conversation()
        #: runs the tool calls of each model turn (approver, standing approvals, audit hook)
        self.calls = ToolCalls(
            settings, agent=agent, approver=approver or DenyAllApprover(), audit=audit
        )
        self.on_request = on_request
        self.parent_run_id = parent_run_id
        #: the terminal event of the last run (RunFinished / RunFailed / RunCancelled)
        self.terminal_event: AgentEvent | None = None
        self.total_prompt_tokens = 0
        self.total_completion_tokens = 0
        self.total_cost = 0.0
        self.total_cache = CacheTally()
        self._state: RunState | None = None
        self._prompt_language: Language | None = None
        #: (write mode, offered tool names...) the conversation's system prompt was built for
        #: (None: not built by this loop, e.g. a resumed transcript)
        self._prompt_key: tuple[Any, ...] | None = None
        #: the console state the system prompt names (see _state_note)
        self._prompt_state = ""
        #: (system prompt, tools JSON, model label, write mode) of the previous request
        self._last_prefix: tuple[str, str, str, bool] | None = None

    # -- public -----------------------------------------------------------------------

    @property
    def running(self) -> bool:
        return self._state is not None

    @property
    def approver(self) -> Approver:
        return self.calls.approver

    @property
    def audit(self) -> AuditHook | None:
        return self.calls.audit

    @property
    def session_approvals(self) -> SessionApprovals:
        return self.calls.session_approvals

    def offered_tools(self) -> list[Tool]:
        return self.tools.offered(write_mode=self.write_mode)

    def set_write_mode(self, on: bool) -> None:
        """Offer mutating tools or not; leaving write mode revokes every standing approval."""
        self.write_mode = on
        if not on:
            self.session_approvals.clear()

    def _ev(self, cls: type[Any], state: RunState, **kw: Any) -> Any:
        return cls(run_id=state.run_id, agent=self.agent, step=state.step, **kw)

    def set_model(
        self, model: ModelClient, model_for: Callable[[str], ModelClient] | None = None
    ) -> None:
        """Answer the next request with ``model`` (the conversation is kept)."""
        self.model = model

    def set_context(self, name: str | None) -> None:
        """The kube context shown in approvals and pinned for the tools (S10)."""
        self.context = name

    def standing_approvals(self) -> list[StandingApproval]:
        """The standing approvals in force on the pinned context."""
        return [s for s in self.session_approvals.granted if s.context == self.context]

    async def aclose(self) -> None:
        """Close the model client (its HTTP connections)."""
        close = getattr(self.model, "aclose", None)
        if close is not None:
            with contextlib.suppress(Exception):
                await close()

    def abort(self, reason: str = "cancelled by user") -> RunCancelled | None:
        """Synchronously stop the current run: cancel its tools, close the open tool batch
        with ``cancelled`` results and record (and return) a RunCancelled. Idempotent."""
        return self._abort(self._state, reason)

    def _abort(
        self, state: RunState | None, reason: str = "cancelled by user"
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

    async def run(self, task: str) -> AsyncGenerator[AgentEvent, None]:
        """Run one user task; yield its events; see the module docstring for cancelling."""
        # tools from sources loaded on first use (MCP servers): before the prompt lists them
        notices = await self.tools.prepare()
        if self._state is not None:  # a consumer abandoned the previous run without closing it
            self._abort(self._state, "superseded by a new task")
        state = RunState(run_id=new_run_id())
        self._state = state
        self.terminal_event = None
        self.conversation.repair("interrupted")
        # the session's facts for programs (the offline planner): they stay local
        self.conversation.set_session({"context": self.context, "namespace": self.namespace})
        self.add_task(task)
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
            for text in notices:
                yield self._ev(Notice, state, text=text, level="warning")
            ended = False
            async for event in self._steps(state):
                if self._state is not state:  # superseded by a newer run of this loop
                    break
                # (an agent run as a tool forwards its own run's events through this stream)
                if isinstance(event, (RunFinished, RunFailed)) and event.run_id == state.run_id:
                    self.terminal_event = event
                    self._state = None
                    ended = True
                yield event
            if not ended:
                yield RunCancelled(
                    run_id=state.run_id,
                    agent=self.agent,
                    step=state.step,
                    reason="superseded by a new task",
                )
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

    def _language(self, task: str) -> Language:
        if self._prompt_language is None:  # "auto": decided by the first task
            self._prompt_language = resolve_language(self.language, task)
        return self._prompt_language

    def _system_prompt(self, task: str) -> str:
        if self.system_prompt is not None:
            return self.system_prompt
        language = self._language(task)
        tools = self.offered_tools()
        if self.prompt is not None:
            return self.prompt(
                language,
                tools,
                write_mode=self.write_mode,
                context=self.context,
                namespace=self.namespace,
            )
        return build_system_prompt(
            language,
            tools,
            write_mode=self.write_mode,
            agent=self.agent,
            context=self.context,
            namespace=self.namespace,
            follow_user_language=self.language == "auto",
        )

    def add_task(self, task: str) -> None:
        """Append the user's ``task`` to the conversation (what :meth:`run` does first): the
        system prompt is built if needed, and a note goes before the task when the context
        or the namespace changed since the model last heard of them (A20)."""
        conv = self.conversation
        self._ensure_system(task)
        note = self._state_note()
        if note and note != (latest_state_note(conv.messages) or self._prompt_state):
            conv.add_user(with_state_note(note, task))
        else:
            conv.add_user(task)

    def _ensure_system(self, task: str) -> None:
        """Build the system prompt when the conversation has none, or when write mode changed
        (and with it the offered tools), or once for a transcript this loop did not build (a
        resumed session). Otherwise it stays as it is, byte for byte (A20)."""
        conv = self.conversation
        key = (self.write_mode, *(t.name for t in self.offered_tools()))
        if conv.has_system and (self.system_prompt is not None or self._prompt_key == key):
            return
        self._prompt_key = key
        self._prompt_state = self._state_note(task)
        conv.set_system(self._system_prompt(task))

    def _state_note(self, task: str = "") -> str:
        """The console state the model must know (the pinned context, the default
        namespace), as the system prompt words it."""
        if not (self.context or self.namespace):
            return ""
        return state_line(self._language(task), self.context, self.namespace)

    def _prefix_change(
        self, state: RunState, messages: list[dict[str, Any]], tools_json: str
    ) -> PrefixChanged | None:
        """A PrefixChanged when this request's system prompt, tools or model differ from the
        previous request of the conversation (else None); remembers this request's."""
        first = messages[0] if messages else {}
        system = str(first.get("content") or "") if first.get("role") == "system" else ""
        label = str(getattr(self.model, "label", ""))
        now = (system, tools_json, label, self.write_mode)
        last, self._last_prefix = self._last_prefix, now
        if last is None or last[:3] == now[:3]:
            return None
        if last[2] != label:
            reason, why = "model", f"model switched from {last[2] or '?'} to {label or '?'}"
        elif last[3] != self.write_mode:
            reason = "write_mode"
            why = "write mode " + ("on: mutating tools offered" if self.write_mode else "off")
        else:
            reason, why = "other", "the system prompt or the tools changed"
        return self._ev(
            PrefixChanged,
            state,
            reason=reason,
            text=f"{why}; the request prefix changed, so the provider's prompt cache starts over",
        )

    def _failed(self, state: RunState, error: str, error_type: str, hint: str | None = None):
        return self._ev(RunFailed, state, error=error, error_type=error_type, hint=hint)

    def _summary(self, state: RunState) -> str:
        tools = ", ".join(f"{n} x{c}" for n, c in state.tool_counts.most_common()) or "none"
        text = f"{state.step} steps; tools called: {tools}."
        if state.last_thought:
            text += f" Last thought: {state.last_thought[:300]}"
        return text

    async def _steps(self, state: RunState) -> AsyncIterator[AgentEvent]:
        cfg = self.settings.agent
        conv = self.conversation
        tools_payload = [t.openai_schema() for t in self.offered_tools()]
        tools_json = json.dumps(tools_payload, ensure_ascii=False)
        passback = self.settings.model.reasoning_passback
        window = self.settings.model.context_window
        #: what the messages of one request may hold: the window less room for the reply
        #: (and the estimate's error) and the tool definitions sent with every request
        tools_tokens = estimate_tokens(tools_json)
        request_limit = int(window * COMPACT_AT) - tools_tokens
        #: where a compaction goes down to (one large step: A20)
        low_water = max(0, int(window * COMPACT_TO) - tools_tokens)
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
            spent = self.total_cost
            if (
                cfg.spend_cap_usd is not None
                and spent >= cfg.spend_cap_usd
                and not self.model.offline
            ):
                yield self._ev(Notice, state, text=self._summary(state), level="warning")
                yield self._failed(
                    state,
                    f"spend cap reached (~${spent:.4f} of ${cfg.spend_cap_usd:.4f})",
                    "spend_cap",
                    "start a new conversation, or raise agent.spend_cap_usd",
                )
                return
            state.step += 1
            yield self._ev(StepStarted, state)
            if conv.estimate_tokens() > request_limit:
                n = conv.compact(target_tokens=low_water)
                if n:
                    yield self._ev(
                        Notice, state, text=f"context nearly full: compacted {n} old tool outputs"
                    )
            turn: ModelTurn | None = None
            retried_context = False
            while turn is None:
                # what stays local (tool data, the session's facts) only for a client that
                # runs in this process: the offline planner, never a model API
                messages = conv.for_request(reasoning_passback=passback, local=self.model.offline)
                changed = self._prefix_change(state, messages, tools_json)
                if changed is not None:
                    yield changed
                if self.on_request is not None:
                    maybe = self.on_request(messages, tools_payload)
                    if inspect.isawaitable(maybe):
                        await maybe
                try:
                    async with _closing(self.model.run_turn(messages, tools_payload)) as stream:
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
                    # A7: never retried once part of it was shown, never an answer; kept in
                    # the transcript as an interrupted reply without tool_calls, so the
                    # session records it and a retry sees what was cut
                    if self._state is not state:
                        return
                    conv.add_assistant(exc.partial_content, exc.partial_reasoning, interrupted=True)
                    yield self._ev(Notice, state, text=_interrupted_notice(exc), level="warning")
                    yield self._failed(state, exc.message, "stream_interrupted", exc.hint)
                    return
                except ModelError as exc:
                    yield self._failed(state, exc.message, type(exc).__name__, exc.hint)
                    return
                if turn is None:
                    yield self._failed(state, "the model client returned no turn", "model")
                    return

            if self._state is not state:  # superseded while waiting: touch nothing
                return
            yield self._usage(state, turn, messages)

            if not turn.tool_calls:
                text = turn.content
                if not text or text.isspace():  # (not strip(): that copies a 5 MB answer)
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
                    cache_hit_tokens=state.cache.hit,
                    cache_miss_tokens=state.cache.miss,
                    cache_unknown_tokens=state.cache.unknown,
                    cost_usd=round(state.cost, 6),
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

            calls = unique_ids(turn.tool_calls)
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
            batch = Turn(
                state=state,
                tools=self.tools,
                conversation=conv,
                context=self.context,
                write_mode=self.write_mode,
                current=lambda: self._state is state,
            )
            async for event in self.calls.run(batch, calls):
                yield event
            if self._state is not state:
                return
            cut, compacted = conv.fit_open_batch(request_limit, low_water)
            if cut or compacted:
                parts = []
                if compacted:
                    parts.append(f"context nearly full: compacted {compacted} older tool outputs")
                if cut:
                    parts.append(
                        f"{cut} tool result(s) of this step shortened to fit the model's "
                        "context window"
                    )
                yield self._ev(Notice, state, text="; ".join(parts))
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
        self, state: RunState, turn: ModelTurn, messages: list[dict[str, Any]]
    ) -> UsageReported:
        usage = turn.usage
        if usage is not None:
            p, c = usage.prompt_tokens, usage.completion_tokens
            hit, miss = usage.cache_hit_tokens, usage.cache_miss_tokens
        else:  # servers that ignore stream_options: estimate (the cache split is unknown)
            p = sum(estimate_tokens(str(m.get("content") or "")) for m in messages)
            c = estimate_tokens(turn.content) + estimate_tokens(turn.reasoning)
            c += sum(estimate_tokens(t.arguments) for t in turn.tool_calls)
            hit = miss = None
        split = split_prompt(p, hit, miss)
        unknown = hit is None and miss is None
        state.prompt_tokens += p
        state.completion_tokens += c
        state.cache.add(*split)
        self.total_prompt_tokens += p
        self.total_completion_tokens += c
        self.total_cache.add(*split)
        cost = 0.0
        if not getattr(self.model, "offline", False):
            price = self.settings.model.price_for(getattr(self.model, "label", None))
            cost = cost_usd(
                price, cache_hit=split[0], cache_miss=split[1], cache_unknown=split[2], completion=c
            )
        state.cost += cost
        self.total_cost += cost
        total = self.total_cache
        return self._ev(
            UsageReported,
            state,
            prompt_tokens=p,
            completion_tokens=c,
            cache_hit_tokens=None if unknown else split[0],
            cache_miss_tokens=None if unknown else split[1],
            total_prompt_tokens=self.total_prompt_tokens,
            total_completion_tokens=self.total_completion_tokens,
            total_cache_hit_tokens=total.hit,
            total_cache_miss_tokens=total.miss,
            total_cache_unknown_tokens=total.unknown,
            cost_usd=round(self.total_cost, 6),
        )


def _interrupted_notice(exc: StreamInterrupted) -> str:
    parts = ["the model's reply was interrupted"]
    if exc.partial_content.strip():
        parts.append("the text so far is incomplete and not an answer")
    if exc.partial_tool_calls:
        parts.append(f"{exc.partial_tool_calls} partial tool call(s) not executed")
    return "; ".join(parts) + " (ask again to retry)"


async def drive(
    loop: Runner,
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
        cancelled: AgentEvent | None = (
            loop.terminal_event if isinstance(loop.terminal_event, RunCancelled) else None
        )
        if cancelled is None:
            cancelled = loop.abort()
        if cancelled is not None:
            with contextlib.suppress(Exception):
                maybe = on_event(cancelled)
                if inspect.isawaitable(maybe):
                    await maybe
        raise
    return loop.terminal_event


@contextlib.asynccontextmanager
async def _closing(stream: AsyncIterator[Any]) -> AsyncIterator[AsyncIterator[Any]]:
    """Close a model stream (an async generator) however the step ends."""
    try:
        yield stream
    finally:
        aclose = getattr(stream, "aclose", None)
        if aclose is not None:
            await aclose()
