"""Multi-agent: the Scheduler routes a request to the Ops, Security and Coder agents and merges
their answers. It has the same shape as :class:`~opsconsole.agent.loop.AgentLoop`::

    scheduler = build_scheduler(model_factory, cluster, settings, approver)
    async with contextlib.aclosing(scheduler.run("检查安全问题并看看告警")) as events:
        async for event in events:
            ...

(or ``await drive(scheduler, task, on_event)``). Follow-ups continue the conversation (the
scheduler's and each specialist's). Cancelling the consumer stops every branch and leaves every
transcript valid; the scheduler's ``RunCancelled`` is in :attr:`Scheduler.terminal_event`.

How it routes:

- **With a model**: the scheduler is an :class:`AgentLoop` whose only tools are
  ``ask_ops(task)``, ``ask_security(task)`` and ``ask_coder(task)`` (read-only tools: each runs
  a specialist whose own mutating calls still go through the approver), so control always
  returns to it. Calls of one turn run concurrently. A specialist's answer enters the
  scheduler's transcript wrapped as untrusted data (``<untrusted-agent-output ...>``).
- **Offline** (:class:`~opsconsole.team.offline.OfflineRouter`): the same loop,
  routed by the seed's keyword table extended with Chinese and English keywords.
- **Routing failed** (the scheduler's model failed before it asked anyone): keyword routing
  straight to the specialists, with a Notice saying so.
- **@-addressing**: ``@security …``, ``@coder …``, ``@ops …`` (also ``@安全``, ``@编码``,
  ``@运维``) go straight to that specialist, no scheduler model call.

Events: the scheduler's own events carry ``agent="scheduler"``; before a specialist's first
event comes ``AgentDispatched(run_id=<scheduler run>, target, task, child_run_id,
tool_call_id=<the ask_* call, None when direct>)``; then the specialist's events as they happen
(interleaved when several run at once), with ``agent=<specialist>`` and ``run_id=<child run>``;
its ``RunStarted`` has ``parent_run_id=<scheduler run>`` and its ``RunFinished`` the tokens and
duration of that agent. ``UsageReported`` events are per agent too.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import time
from collections.abc import AsyncGenerator, Callable, Iterable
from typing import TYPE_CHECKING, Any

from opsconsole.agent.approval import Approver, AuditHook, StandingApproval
from opsconsole.agent.events import (
    AgentEvent,
    Answer,
    Notice,
    RunCancelled,
    RunFailed,
    RunFinished,
    RunStarted,
    StepStarted,
)
from opsconsole.agent.loop import AgentLoop, RequestHook, new_run_id
from opsconsole.agent.model import ModelClient
from opsconsole.agent.pricing import CacheTally
from opsconsole.agent.prompts import resolve_language
from opsconsole.agent.tools import ToolContext, ToolRegistry
from opsconsole.agent.transcript import Conversation
from opsconsole.team import AGENT_NAMES, Specialist, specialists, team_prompt
from opsconsole.team._common import merge_answers, wrap_agent_output
from opsconsole.team.dispatch import DISPATCH_TIMEOUT, Dispatcher, DispatchResult
from opsconsole.team.factory import ModelFactory, default_model_factory
from opsconsole.team.routing import parse_mentions, route

if TYPE_CHECKING:  # pragma: no cover
    from opsconsole.config import Settings
    from opsconsole.k8s.client import Cluster

SCHEDULER = "scheduler"
#: tokens of a specialist's answer the scheduler's transcript keeps
DISPATCH_OUTPUT_TOKENS = 4000
#: RunFailed error types of the scheduler that mean "its model could not route"
_ROUTING_FAILURES = ("stream_interrupted", "empty_response", "invalid_tool_calls", "model")

_DONE = object()


class Scheduler:
    """The multi-agent orchestrator (see the module docstring)."""

    def __init__(
        self,
        model: ModelClient,
        registry: ToolRegistry,
        *,
        settings: Settings,
        model_for: ModelFactory,
        approver: Approver | None = None,
        agents: Iterable[str] = AGENT_NAMES,
        language: str | None = None,
        context: str | None = None,
        namespace: str | None = None,
        write_mode: bool | None = None,
        audit: AuditHook | None = None,
        on_request: RequestHook | None = None,
        conversation: Conversation | None = None,
    ) -> None:
        self.settings = settings
        self.registry = registry
        self.model_for = model_for
        self.approver = approver
        self.language = language or settings.agent.language
        self.context = context if context is not None else settings.kubernetes.context
        self._namespace: str | None = namespace or settings.kubernetes.namespace
        self.write_mode = settings.agent.write_mode if write_mode is None else write_mode
        self.audit = audit
        every = specialists()
        self.specs: dict[str, Specialist] = {n: every[n] for n in agents if n in every}
        #: the specialists, run as the scheduler loop's ask_<agent> tools (or directly)
        self.dispatcher = Dispatcher(
            self.specs,
            settings=settings,
            registry=registry,
            make_loop=self._new_subloop,
            used_tokens=lambda: self.total_prompt_tokens + self.total_completion_tokens,
        )
        sched_settings = settings.replace(
            agent=settings.agent.replace(
                tool_timeout=max(DISPATCH_TIMEOUT, settings.agent.tool_timeout),
                tool_output_tokens=max(DISPATCH_OUTPUT_TOKENS, settings.agent.tool_output_tokens),
            )
        )
        self.loop = AgentLoop(
            model,
            ToolRegistry(self.dispatcher.tools()),
            settings=sched_settings,
            approver=approver,
            agent=SCHEDULER,
            language=self.language,
            context=self.context,
            namespace=self.namespace,
            write_mode=self.write_mode,  # its tools are all read-only; the prompt says the mode
            prompt=functools.partial(team_prompt, SCHEDULER),
            conversation=conversation,
            audit=audit,
            on_request=on_request,
        )
        self.terminal_event: AgentEvent | None = None
        self._queue: asyncio.Queue[Any] | None = None
        self._run_id = ""
        self._step = 0
        self._task = ""
        self._direct: set[asyncio.Task[Any]] = set()
        self._pump_task: asyncio.Task[Any] | None = None

    @property
    def subloops(self) -> dict[str, AgentLoop]:
        """The specialists' loops started so far, by name."""
        return self.dispatcher.loops

    def _new_subloop(self, spec: Specialist) -> AgentLoop:
        return AgentLoop(
            self.model_for(spec.name),
            spec.registry(self.registry),
            settings=self.settings,
            approver=self.approver,
            agent=spec.name,
            # the user's language (the first request's), not the sub-task's
            language=resolve_language(self.language, self._task),
            context=self.context,
            namespace=self.namespace,
            write_mode=spec.write_mode(self.write_mode),
            prompt=spec.prompt,
            audit=self.audit,
        )

    # -- the AgentLoop-like surface ---------------------------------------------------------

    @property
    def agent(self) -> str:
        return SCHEDULER

    @property
    def model(self) -> ModelClient:
        return self.loop.model

    def set_model(self, model: ModelClient, model_for: ModelFactory | None = None) -> None:
        """Switch the whole team's model (the console's model picker): each agent takes its
        own from ``model_for`` when given (the offline router and specialists, say), else
        every agent uses ``model``. Conversations are kept."""
        if model_for is None and getattr(model, "offline", False):
            model_for = default_model_factory(self.settings, offline=True)
        elif model_for is None:

            def model_for(name: str) -> ModelClient:
                return model

        self.model_for = model_for
        self.loop.model = model_for(SCHEDULER)
        for name, sub in self.subloops.items():
            sub.model = model_for(name)

    def standing_approvals(self) -> list[StandingApproval]:
        """Every agent's standing approvals in force on the pinned context."""
        return [s for lp in [self.loop, *self.subloops.values()] for s in lp.standing_approvals()]

    def set_write_mode(self, on: bool) -> None:
        """Switch write mode for the team (the Security agent stays read-only)."""
        self.write_mode = on
        self.loop.set_write_mode(on)  # off: every standing approval is revoked
        for name, sub in self.subloops.items():
            sub.set_write_mode(self.specs[name].write_mode(on))

    @property
    def namespace(self) -> str | None:
        return self._namespace

    @namespace.setter
    def namespace(self, name: str | None) -> None:
        """The default namespace of every agent (the console's ``/ns``): the next request of
        each tells its model in a note (A20)."""
        self._namespace = name
        self.loop.namespace = name
        for sub in self.subloops.values():
            sub.namespace = name

    def set_context(self, name: str | None) -> None:
        """The kube context shown in approvals and pinned for every agent (S10)."""
        self.context = name
        self.loop.context = name
        for sub in self.subloops.values():
            sub.context = name

    @property
    def conversation(self) -> Conversation:
        """The scheduler's own conversation (what a session recorder syncs)."""
        return self.loop.conversation

    def conversations(self) -> dict[str, Conversation]:
        out = {SCHEDULER: self.loop.conversation}
        out.update({n: loop.conversation for n, loop in self.subloops.items()})
        return out

    @property
    def running(self) -> bool:
        return self._pump_task is not None and not self._pump_task.done()

    @property
    def total_prompt_tokens(self) -> int:
        loops = [self.loop, *self.subloops.values()]
        return sum(lp.total_prompt_tokens for lp in loops)

    @property
    def total_completion_tokens(self) -> int:
        loops = [self.loop, *self.subloops.values()]
        return sum(lp.total_completion_tokens for lp in loops)

    @property
    def total_cache(self) -> CacheTally:
        """Every agent's prompt tokens by cache outcome, summed."""
        out = CacheTally()
        for lp in [self.loop, *self.subloops.values()]:
            out.add(lp.total_cache.hit, lp.total_cache.miss, lp.total_cache.unknown)
        return out

    @property
    def total_cost(self) -> float:
        return sum(lp.total_cost for lp in [self.loop, *self.subloops.values()])

    def usage_by_agent(self) -> dict[str, tuple[int, int]]:
        """(prompt, completion) tokens per agent over the whole conversation."""
        out = {SCHEDULER: (self.loop.total_prompt_tokens, self.loop.total_completion_tokens)}
        for n, lp in self.subloops.items():
            out[n] = (lp.total_prompt_tokens, lp.total_completion_tokens)
        return out

    def abort(self, reason: str = "cancelled by user") -> RunCancelled | None:
        """Synchronously stop every branch and repair every transcript; idempotent.

        Returns (and records in :attr:`terminal_event`) the scheduler's RunCancelled, or None
        when nothing was running or the run had already ended."""
        if self._pump_task is None:
            return None
        pump, self._pump_task = self._pump_task, None
        event = self.loop.abort(reason)
        for task in list(self._direct):
            task.cancel()
        self._direct.clear()
        for sub in self.subloops.values():
            sub.abort(reason)
        if not pump.done():
            pump.cancel()
        ended = self.terminal_event
        if ended is not None and getattr(ended, "run_id", None) == self._run_id:
            return None  # the run had finished; the consumer just stopped listening
        if event is None and self._run_id:
            event = RunCancelled(
                run_id=self._run_id, agent=SCHEDULER, step=self._step, reason=reason
            )
        if event is not None:
            self.terminal_event = event
        return event

    async def aclose(self) -> None:
        """Close every distinct model client the team used."""
        seen: set[int] = set()
        for lp in [self.loop, *self.subloops.values()]:
            if id(lp.model) in seen:
                continue
            seen.add(id(lp.model))
            close = getattr(lp.model, "aclose", None)
            if close is not None:
                with contextlib.suppress(Exception):
                    await close()

    async def run(self, task: str) -> AsyncGenerator[AgentEvent, None]:
        """Run one user request; yield the scheduler's and the specialists' events."""
        if self._pump_task is not None:
            self.abort("superseded by a new task")
        self.terminal_event = None
        queue: asyncio.Queue[Any] = asyncio.Queue()
        self._queue = queue
        self._task = task
        self.dispatcher.reset()
        self._run_id = ""
        targets, body = parse_mentions(task)
        targets = [t for t in targets if t in self.specs]
        job = self._run_direct(task, targets, body) if targets else self._run_routed(task)
        pump = asyncio.ensure_future(_feed(job, queue, lambda: self._run_id))
        self._pump_task = pump
        try:
            while True:
                item = await queue.get()
                if item is _DONE:
                    break
                if isinstance(item, (RunFinished, RunFailed, RunCancelled)) and (
                    item.agent == SCHEDULER
                ):
                    self.terminal_event = item
                yield item
        except (asyncio.CancelledError, GeneratorExit):
            self.abort()
            raise
        finally:
            if self._pump_task is pump:
                if not pump.done():
                    self.abort()
                self._pump_task = None

    # -- routing with the scheduler's loop --------------------------------------------------

    def _emit(self, event: AgentEvent) -> None:
        if self._queue is not None:
            self._queue.put_nowait(event)

    def _lang(self) -> str:
        return resolve_language(self.language, self._task)

    async def _run_routed(self, task: str) -> None:
        loop = self.loop
        async with contextlib.aclosing(loop.run(task)) as events:
            async for ev in events:
                if ev.agent != loop.agent:  # a specialist's, forwarded through its ask_* call
                    pass
                elif isinstance(ev, RunStarted):
                    self._run_id = ev.run_id
                elif isinstance(ev, StepStarted):
                    self._step = ev.step
                elif (
                    isinstance(ev, RunFailed)
                    and self.dispatcher.dispatched == 0
                    and (ev.error_type.startswith("Model") or ev.error_type in _ROUTING_FAILURES)
                ):
                    await self._fallback(task, ev)
                    return
                self._emit(ev)

    async def _fallback(self, task: str, failed: RunFailed) -> None:
        """The scheduler's model could not route: keyword routing straight to specialists."""
        r = route(task, list(self.specs))
        zh = self._lang() == "zh"
        self._emit(
            Notice(
                run_id=failed.run_id,
                agent=SCHEDULER,
                step=failed.step,
                level="warning",
                text=(
                    f"调度员的模型失败（{failed.error}）：改用关键词路由到 {', '.join(r.agents)}"
                    if zh
                    else f"the scheduler's model failed ({failed.error}): routing by keywords "
                    f"to {', '.join(r.agents)}"
                ),
            )
        )
        started = time.monotonic()
        results = await self._fan_out(r.agents, task)
        merged = merge_answers(
            [(x.agent, x.status, x.text) for x in results],
            self._lang(),
            "（模型不可用，按关键词路由）" if zh else " (model unavailable: keyword routing)",
        )
        if all(x.status != "ok" for x in results):
            self._emit(failed)
            return
        self.loop.conversation.add_assistant(self._for_transcript(results, why=""))
        self._finish(failed.run_id, merged, started, results)

    def _for_transcript(self, results: list[DispatchResult], why: str) -> str:
        """The merged answer as the scheduler's transcript keeps it: each specialist's text
        still wrapped as untrusted data (the user sees the plain merge)."""
        wrapped = [
            (x.agent, "ok", wrap_agent_output(x.agent, x.child_run_id, x.text, x.status))
            for x in results
        ]
        return merge_answers(wrapped, self._lang(), why)

    def _finish(
        self, run_id: str, text: str, started: float, results: list[DispatchResult]
    ) -> None:
        self._emit(Answer(run_id=run_id, agent=SCHEDULER, step=self._step, text=text))
        self._emit(
            RunFinished(
                run_id=run_id,
                agent=SCHEDULER,
                step=self._step,
                steps=self._step,
                duration=time.monotonic() - started,
            )
        )

    # -- direct addressing ------------------------------------------------------------------

    async def _run_direct(self, task: str, targets: list[str], body: str) -> None:
        run_id = new_run_id()
        self._run_id = run_id
        self._step = 0
        started = time.monotonic()
        conv = self.loop.conversation
        self.loop.add_task(task)
        self._emit(
            RunStarted(
                run_id=run_id,
                agent=SCHEDULER,
                task=task,
                model=getattr(self.loop.model, "label", ""),
                offline=bool(getattr(self.loop.model, "offline", False)),
                write_mode=self.write_mode,
            )
        )
        results = await self._fan_out(targets, body or task)
        zh = self._lang() == "zh"
        merged = merge_answers(
            [(x.agent, x.status, x.text) for x in results],
            self._lang(),
            "（用户直接指定）" if zh else " (addressed directly)",
        )
        conv.add_assistant(self._for_transcript(results, why=""))
        if all(x.status != "ok" for x in results):
            self._emit(
                RunFailed(
                    run_id=run_id,
                    agent=SCHEDULER,
                    error="; ".join(f"{x.agent}: {x.text}" for x in results)[:500],
                    error_type="specialist_failed",
                )
            )
            return
        self._finish(run_id, merged, started, results)

    async def _fan_out(self, targets: list[str], task: str) -> list[DispatchResult]:
        origin = ToolContext(self._run_id, SCHEDULER, self._step, "", self._emit)
        tasks = [asyncio.ensure_future(self.dispatcher.dispatch(n, task, origin)) for n in targets]
        self._direct.update(tasks)
        try:
            return list(await asyncio.gather(*tasks))
        finally:
            for t in tasks:
                self._direct.discard(t)
                if not t.done():
                    t.cancel()


async def _feed(job: Any, queue: asyncio.Queue[Any], run_id: Callable[[], str]) -> None:
    """Run ``job``; a bug becomes a RunFailed of the scheduler's run; always end the stream."""
    try:
        await job
    except asyncio.CancelledError:
        raise
    except Exception as exc:  # noqa: BLE001 - a bug must end the run visibly, not hang it
        queue.put_nowait(
            RunFailed(
                run_id=run_id(),
                agent=SCHEDULER,
                error=f"internal error in the scheduler: {type(exc).__name__}: {exc}",
                error_type="internal",
            )
        )
    finally:
        queue.put_nowait(_DONE)


def build_scheduler(
    model_factory: ModelFactory | None,
    cluster: Cluster | None,
    settings: Settings,
    approver: Approver | None = None,
    *,
    registry: ToolRegistry | None = None,
    agents: Iterable[str] = AGENT_NAMES,
    language: str | None = None,
    context: str | None = None,
    namespace: str | None = None,
    write_mode: bool | None = None,
    audit: AuditHook | None = None,
    on_request: RequestHook | None = None,
    offline: bool = False,
) -> Scheduler:
    """A Scheduler over ``cluster`` with the Kubernetes and team tools.

    ``model_factory(name)`` returns the model of ``"scheduler"``, ``"ops"``, ``"security"``,
    ``"coder"`` (default: :func:`default_model_factory`). ``registry`` replaces the full tool
    registry (tests); every specialist still only gets its allowlisted subset of it.
    """
    from opsconsole.team import build_full_registry

    factory = model_factory or default_model_factory(settings, offline=offline)
    ns = namespace or (
        settings.kubernetes.namespace
        if settings.kubernetes.namespace != "default" or cluster is None
        else cluster.default_namespace
    )
    full = (
        registry if registry is not None else build_full_registry(cluster, settings, namespace=ns)
    )
    return Scheduler(
        factory(SCHEDULER),
        full,
        settings=settings,
        model_for=factory,
        approver=approver,
        agents=agents,
        language=language,
        context=context if context is not None else getattr(cluster, "context", None),
        namespace=ns,
        write_mode=write_mode,
        audit=audit,
        on_request=on_request,
    )
