"""Specialists as tools: :class:`Dispatcher` owns a team's specialist loops and offers each as
an ``ask_<agent>`` tool of another agent's loop (the Scheduler's today). A call runs that
specialist on its sub-task, forwards the specialist's events, and answers with its text wrapped
as untrusted data; YAML the Coder showed without validating it is validated before it is
returned."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from opsconsole.agent.events import (
    AgentDispatched,
    Answer,
    Notice,
    RunFailed,
    RunFinished,
    RunStarted,
    ToolCallFinished,
)
from opsconsole.agent.tools import Tool, ToolContext, ToolRegistry, ToolResult
from opsconsole.team import Specialist
from opsconsole.team._common import wrap_agent_output

if TYPE_CHECKING:  # pragma: no cover
    from opsconsole.agent.loop import AgentLoop
    from opsconsole.config import Settings

#: seconds one specialist run may take as a tool of the scheduler
DISPATCH_TIMEOUT = 900.0


@dataclass
class DispatchResult:
    agent: str
    task: str
    child_run_id: str = ""
    #: ok | failed | cancelled
    status: str = "ok"
    text: str = ""
    prompt_tokens: int = 0
    completion_tokens: int = 0
    duration: float = 0.0


class Dispatcher:
    """A team's specialists, each runnable as a tool (``ask_<agent>``) of another loop.

    It owns their loops (made by ``make_loop`` on first use; each keeps its conversation
    across requests) and runs one sub-task at a time per specialist. Every event of a
    specialist run goes to the origin's ``emit`` (the asking loop's stream), after an
    :class:`AgentDispatched` naming the call (or the run) that started it. ``used_tokens`` is
    what the whole team spent: one token budget for all of it (A17), not one per agent.
    """

    def __init__(
        self,
        specs: dict[str, Specialist],
        *,
        settings: Settings,
        registry: ToolRegistry,
        make_loop: Callable[[Specialist], AgentLoop],
        used_tokens: Callable[[], int],
    ) -> None:
        self.specs = specs
        #: the specialists' loops, by name (only those used so far)
        self.loops: dict[str, AgentLoop] = {}
        #: specialist runs started since :meth:`reset`
        self.dispatched = 0
        self._settings = settings
        self._registry = registry
        self._make_loop = make_loop
        self._used_tokens = used_tokens
        self._locks: dict[str, asyncio.Lock] = {}

    def reset(self) -> None:
        """A new request: nothing dispatched yet."""
        self.dispatched = 0

    def tools(self) -> list[Tool]:
        """One ``ask_<agent>`` tool per specialist (read-only: each specialist's own
        mutating calls still go through the approver)."""
        return [self._tool(spec) for spec in self.specs.values()]

    def loop(self, name: str) -> AgentLoop:
        """The loop of specialist ``name`` (made on first use)."""
        loop = self.loops.get(name)
        if loop is None:
            loop = self.loops[name] = self._make_loop(self.specs[name])
        return loop

    def _tool(self, spec: Specialist) -> Tool:
        async def handler(args: dict[str, Any], ctx: ToolContext) -> ToolResult:
            task = str(args.get("task") or "").strip()
            result = await self.dispatch(spec.name, task, ctx)
            content = wrap_agent_output(spec.name, result.child_run_id, result.text, result.status)
            return ToolResult(
                content=content,
                is_error=result.status != "ok",
                data={
                    "agent": spec.name,
                    "child_run_id": result.child_run_id,
                    "status": result.status,
                    "prompt_tokens": result.prompt_tokens,
                    "completion_tokens": result.completion_tokens,
                    "duration": round(result.duration, 3),
                },
            )

        return Tool(
            name=spec.tool_name,
            description=spec.description,
            parameters={
                "type": "object",
                "properties": {
                    "task": {
                        "type": "string",
                        "description": "a self-contained sub-task for this agent, in the "
                        "user's language",
                    }
                },
                "required": ["task"],
                "additionalProperties": False,
            },
            handler=handler,
            read_only=True,
            timeout=DISPATCH_TIMEOUT,
            tags=frozenset({"agent"}),
            contextual=True,
        )

    async def dispatch(self, name: str, task: str, origin: ToolContext) -> DispatchResult:
        """Run specialist ``name`` on ``task`` for ``origin`` (the call, or with an empty
        ``tool_call_id`` the run, that asked for it)."""
        result = DispatchResult(agent=name, task=task)
        if not task:
            result.status, result.text = "failed", "empty task"
            return result
        used = self._used_tokens()
        budget = self._settings.agent.token_budget
        if used >= budget:
            result.status = "failed"
            result.text = f"token budget exhausted for the team ({used} of {budget} tokens)"
            return result
        lock = self._locks.setdefault(name, asyncio.Lock())
        async with lock:  # one run at a time per specialist (its conversation is shared)
            sub = self.loop(name)
            sub.parent_run_id = origin.run_id or None
            self.dispatched += 1
            started = time.monotonic()
            validated: set[str] = set()
            async with contextlib.aclosing(sub.run(task)) as events:
                async for ev in events:
                    if isinstance(ev, RunStarted):
                        result.child_run_id = ev.run_id
                        origin.emit(
                            AgentDispatched(
                                run_id=origin.run_id,
                                agent=origin.agent,
                                step=origin.step,
                                target=name,
                                task=task,
                                child_run_id=ev.run_id,
                                tool_call_id=origin.tool_call_id or None,
                            )
                        )
                    elif isinstance(ev, Answer):
                        result.text = ev.text
                    elif isinstance(ev, RunFinished):
                        result.prompt_tokens = ev.prompt_tokens
                        result.completion_tokens = ev.completion_tokens
                    elif isinstance(ev, RunFailed):
                        result.status = "failed"
                        result.text = ev.error + (f" (hint: {ev.hint})" if ev.hint else "")
                    elif (
                        isinstance(ev, ToolCallFinished)
                        and ev.tool == "validate_manifest"
                        and ev.status == "ok"
                    ):
                        validated.add(ev.tool_call_id)
                    origin.emit(ev)
            if name == "coder" and result.status == "ok" and not validated:
                await self._check_manifests(result, origin)
            result.duration = time.monotonic() - started
        return result

    async def _check_manifests(self, result: DispatchResult, origin: ToolContext) -> None:
        """The Coder showed YAML without a successful validate_manifest: validate it now
        (local schema check + server dry run) and attach the verdict to its answer."""
        from opsconsole.team.coder import validate_answer_manifests

        verdicts = await validate_answer_manifests(self._registry, result.text)
        if not verdicts:
            return
        rejected = any(bad for bad, _ in verdicts)
        summary = "\n".join(text for _, text in verdicts)
        origin.emit(
            Notice(
                run_id=result.child_run_id,
                agent=result.agent,
                level="warning" if rejected else "info",
                text=f"the {origin.agent} validated the Coder's manifest(s): {summary}",
            )
        )
        result.text += f"\n\n[validated by the {origin.agent} before showing]\n{summary}"
