"""The Scheduler's dispatching half (a mixin of :class:`opsconsole.team.scheduler.Scheduler`):
the ``ask_<agent>`` tools, the specialists' own loops, running one specialist for one sub-task
and forwarding its events, and validating YAML the Coder showed without validating it."""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
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
from opsconsole.agent.loop import AgentLoop
from opsconsole.agent.prompts import resolve_language
from opsconsole.agent.tools import Tool, ToolResult
from opsconsole.team import Specialist
from opsconsole.team._common import wrap_agent_output

if TYPE_CHECKING:  # pragma: no cover
    from opsconsole.team.scheduler import Scheduler

SCHEDULER = "scheduler"
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


class DispatchMixin:
    """Needs the Scheduler's attributes (specs, subloops, registry, settings, ...)."""

    def _dispatch_tool(self: Scheduler, spec: Specialist) -> Tool:  # type: ignore[misc]
        async def handler(args: dict[str, Any]) -> ToolResult:
            task = str(args.get("task") or "").strip()
            key = (spec.tool_name, norm_args(args))
            ids = self._pending_ids.get(key) or []
            call_id = ids.pop(0) if ids else None
            for _ in range(20):  # let the loop's ToolCallStarted for this call go out first
                if call_id is None or call_id in self._started_ids:
                    break
                await asyncio.sleep(0)
            result = await self._dispatch(spec.name, task, call_id)
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
        )

    def _subloop(self: Scheduler, name: str) -> AgentLoop:  # type: ignore[misc]
        loop = self.subloops.get(name)
        if loop is None:
            spec = self.specs[name]
            loop = AgentLoop(
                self.model_for(name),
                spec.registry(self.registry),
                settings=self.settings,
                approver=self.approver,
                agent=name,
                # the user's language (the first request's), not the sub-task's
                language=resolve_language(self.language, self._task),
                context=self.context,
                namespace=self.namespace,
                write_mode=spec.write_mode(self.write_mode),
                prompt=spec.prompt,
                audit=self.audit,
            )
            self.subloops[name] = loop
        return loop

    async def _dispatch(  # type: ignore[misc]
        self: Scheduler,
        name: str,
        task: str,
        tool_call_id: str | None,
    ) -> DispatchResult:
        result = DispatchResult(agent=name, task=task)
        if not task:
            result.status, result.text = "failed", "empty task"
            return result
        used = self.total_prompt_tokens + self.total_completion_tokens
        budget = self.settings.agent.token_budget
        if used >= budget:  # one cap for the whole team (A17), not one per agent
            result.status = "failed"
            result.text = f"token budget exhausted for the team ({used} of {budget} tokens)"
            return result
        lock = self._locks.setdefault(name, asyncio.Lock())
        async with lock:  # one run at a time per specialist (its conversation is shared)
            sub = self._subloop(name)
            sub.parent_run_id = self._run_id or None
            self._dispatched += 1
            started = time.monotonic()
            validated: set[str] = set()
            async with contextlib.aclosing(sub.run(task)) as events:
                async for ev in events:
                    if isinstance(ev, RunStarted):
                        result.child_run_id = ev.run_id
                        self._emit(
                            AgentDispatched(
                                run_id=self._run_id,
                                agent=SCHEDULER,
                                step=self._step,
                                target=name,
                                task=task,
                                child_run_id=ev.run_id,
                                tool_call_id=tool_call_id,
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
                    self._emit(ev)
            if name == "coder" and result.status == "ok" and not validated:
                await self._check_manifests(result)
            result.duration = time.monotonic() - started
        return result

    async def _check_manifests(self: Scheduler, result: DispatchResult) -> None:  # type: ignore[misc]
        """The Coder showed YAML without a successful validate_manifest: validate it now
        (local schema check + server dry run) and attach the verdict to its answer."""
        from opsconsole.team.coder import validate_answer_manifests

        verdicts = await validate_answer_manifests(self.registry, result.text)
        if not verdicts:
            return
        rejected = any(bad for bad, _ in verdicts)
        summary = "\n".join(text for _, text in verdicts)
        self._emit(
            Notice(
                run_id=result.child_run_id,
                agent=result.agent,
                level="warning" if rejected else "info",
                text=f"the scheduler validated the Coder's manifest(s): {summary}",
            )
        )
        result.text += f"\n\n[validated by the scheduler before showing]\n{summary}"


def norm_args(args: Any) -> str:
    if isinstance(args, str):
        try:
            args = json.loads(args or "{}")
        except ValueError:
            return args
    return json.dumps(args, sort_keys=True, ensure_ascii=False)


# --- construction ---------------------------------------------------------------------------
