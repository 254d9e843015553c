"""The one surface every front end drives: a single :class:`~opsconsole.agent.loop.AgentLoop`
and the team's :class:`~opsconsole.team.scheduler.Scheduler` both implement :class:`Runner`, so
the console, ``ask``, ``eval`` and the session recorder never probe which one they hold."""

from __future__ import annotations

from collections.abc import AsyncGenerator, Callable
from typing import TYPE_CHECKING, Protocol, runtime_checkable

if TYPE_CHECKING:  # pragma: no cover
    from opsconsole.agent.approval import StandingApproval
    from opsconsole.agent.events import AgentEvent, RunCancelled
    from opsconsole.agent.model import ModelClient
    from opsconsole.agent.pricing import CacheTally
    from opsconsole.agent.transcript import Conversation

#: ``agent name -> model client`` ("scheduler", "ops", "security", "coder")
ModelFactory = Callable[[str], "ModelClient"]


@runtime_checkable
class Runner(Protocol):
    """What runs a user's request: events out, one terminal event per run, stoppable."""

    write_mode: bool
    context: str | None
    namespace: str | None
    #: the terminal event of the last run (RunFinished / RunFailed / RunCancelled)
    terminal_event: AgentEvent | None

    @property
    def agent(self) -> str: ...

    @property
    def model(self) -> ModelClient: ...

    @property
    def conversation(self) -> Conversation: ...

    @property
    def running(self) -> bool: ...

    @property
    def total_prompt_tokens(self) -> int: ...

    @property
    def total_completion_tokens(self) -> int: ...

    @property
    def total_cost(self) -> float: ...

    @property
    def total_cache(self) -> CacheTally: ...

    def run(self, task: str) -> AsyncGenerator[AgentEvent, None]: ...

    def abort(self, reason: str = "cancelled by user") -> RunCancelled | None: ...

    def set_model(self, model: ModelClient, model_for: ModelFactory | None = None) -> None:
        """Switch the model; a team takes each agent's from ``model_for`` when given."""
        ...

    def set_write_mode(self, on: bool) -> None: ...

    def set_context(self, name: str | None) -> None: ...

    def standing_approvals(self) -> list[StandingApproval]:
        """The standing approvals in force on the pinned context (every agent's, for a team)."""
        ...

    async def aclose(self) -> None: ...
