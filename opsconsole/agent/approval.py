"""Approvals for mutating tool calls (RELIABILITY S1, S4-S6, S16).

The core asks an :class:`Approver` before any mutating call runs. The TUI implements it with a
modal (resolving a future); headless runs and replays use :class:`DenyAllApprover`, which
refuses every call without prompting (S6). "Yes, don't ask again" (``approve_session``) is
remembered by the loop in memory only, for the life of that loop object (S5): nothing about it
is ever written to disk, so a resumed or replayed session asks again.

Semantics the loop applies:

- The mutating calls of one model turn are asked about one by one, in the order of the calls;
  each :class:`ApprovalRequest` also lists the whole batch (``batch``) so a modal can show
  every pending call with its verb, kind/name, namespace and context.
- ``decline`` declines this call **and every later mutating call of the same turn** (the user
  said no to the plan); each gets the tool message ``{"status":"declined","retryable":false}``.
- ``approve_session`` approves this call and every later call of the same tool on the same
  kube context for the rest of the loop's life.

Audit hook (S16 / P7): ``AgentLoop(audit=...)`` takes an async or sync callable
``audit(record: AuditRecord) -> None``. It is awaited twice for every mutating call that is
about to execute: with ``phase="before"`` (after approval, before the handler runs; if the hook
raises, the call does NOT run and the model gets an error) and with ``phase="after"`` (with the
result, before the ``ToolCallFinished`` event is yielded). A recorder should fsync inside it.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol, runtime_checkable

from opsconsole.agent.tools import ActionSummary

Decision = Literal["approve", "approve_session", "decline"]


@dataclass(frozen=True)
class ApprovalRequest:
    """One mutating call waiting for a decision."""

    run_id: str
    agent: str
    tool_call_id: str
    tool: str
    arguments: dict[str, Any]
    summary: ActionSummary
    #: the kube context the session is pinned to (shown in the modal, S1)
    context: str | None = None
    #: the tool's server-side dry run, or the error it raised, as text ("" if none)
    dry_run: str = ""
    #: every mutating call of this model turn (this one included), in call order
    batch: tuple[ActionSummary, ...] = ()
    #: position of this call in ``batch``
    index: int = 0


@dataclass(frozen=True)
class ApprovalDecision:
    decision: Decision
    #: who decided: "user", "session" (remembered approve_session), "policy" (headless)
    source: str = "user"
    reason: str = ""

    @property
    def approved(self) -> bool:
        return self.decision in ("approve", "approve_session")


@runtime_checkable
class Approver(Protocol):
    """Decides on mutating calls. An approver may set ``interactive = False`` (a policy, no
    person asked): the loop then skips the ``ApprovalRequested`` event and the dry run."""

    async def approve(self, request: ApprovalRequest) -> ApprovalDecision:
        """Decide on one mutating call. May wait as long as a person needs."""
        ...


class DenyAllApprover:
    """Headless / replay policy: never execute a mutating call, never prompt (S6).

    ``interactive = False`` tells the loop not to announce an ``ApprovalRequested`` nor run
    the dry run: the decision is policy, nobody is asked."""

    interactive = False

    def __init__(self, reason: str = "") -> None:
        self.reason = reason or (
            "mutating calls are never executed in headless mode; "
            "run the console (opsconsole) in write mode to approve them"
        )

    async def approve(self, request: ApprovalRequest) -> ApprovalDecision:
        return ApprovalDecision("decline", source="policy", reason=self.reason)


@dataclass(frozen=True)
class AuditRecord:
    """What the audit hook receives for a mutating call (S16)."""

    phase: Literal["before", "after"]
    run_id: str
    agent: str
    tool_call_id: str
    tool: str
    arguments: dict[str, Any]
    context: str | None
    #: approval source: "user" or "session"
    approval_source: str
    decision: Decision
    #: after: the status ("ok" / "error" / "cancelled") and the text the model gets
    status: str | None = None
    result: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)


AuditHook = Callable[[AuditRecord], "Awaitable[None] | None"]


@dataclass
class SessionApprovals:
    """``approve_session`` memory: (tool, context) pairs, in memory only (S5)."""

    granted: set[tuple[str, str | None]] = field(default_factory=set)

    def allows(self, tool: str, context: str | None) -> bool:
        return (tool, context) in self.granted

    def grant(self, tool: str, context: str | None) -> None:
        self.granted.add((tool, context))

    def clear(self) -> None:
        self.granted.clear()
