"""Approvals for mutating tool calls (RELIABILITY S1, S4-S6, S16).

The core asks an :class:`Approver` before any mutating call runs. The TUI implements it with a
modal (resolving a future); headless runs and replays use :class:`DenyAllApprover`, which
refuses every call without prompting (S6).

Semantics the loop applies:

- The mutating calls of one model turn are asked about one by one, in the order of the calls;
  each :class:`ApprovalRequest` also lists the whole batch (``batch``) so a modal can show
  every pending call with its verb, kind/name, namespace and context.
- ``decline`` declines this call **and every later mutating call of the same turn** (the user
  said no to the plan); each gets the tool message ``{"status":"declined","retryable":false}``.
- ``approve_session`` approves this call and leaves a **standing approval**
  (:class:`StandingApproval`) for later calls that make the same kind of change to the same
  object: the same tool, on the same kube context, on the same object (kind, namespace,
  name). "The same kind of change", per tool:

  - ``scale_deployment``: a scale of that deployment to 1 or more replicas; scaling it to
    0 replicas (taking it down) is another kind of change and needs its own approval (and an
    approval to scale it to 0 covers only scaling it to 0 again);
  - ``scale_resource``: the same rule for any kind with a scale subresource;
  - ``rollout_restart`` / ``rollout_restart_resource``: a rolling restart of that workload;
  - ``delete_pod``: deleting that pod (by name: a replacement pod has another name, except
    a StatefulSet's);
  - any other mutating tool (e.g. the Coder's ``apply_manifest``): only the very same call,
    argument for argument.

  Standing approvals live in memory only, for the life of that loop object (S5): nothing
  about them is ever written to disk as a grant, so a resumed or replayed session asks again.
  Leaving write mode (:meth:`SessionApprovals.clear`, called by the loop's
  ``set_write_mode(False)``) revokes them all. The :class:`ApprovalResolved` event of a call
  let through names the standing approval that did it (``standing``), so the trace and the
  session file say why nobody was asked.

Audit hook (S16 / P7): ``AgentLoop(audit=...)`` takes an async or sync callable
``audit(record: AuditRecord) -> None``. It is awaited twice for every mutating call that is
about to execute: with ``phase="before"`` (after approval, before the handler runs; if the hook
raises, the call does NOT run and the model gets an error) and with ``phase="after"`` (with the
result, before the ``ToolCallFinished`` event is yielded). A recorder should fsync inside it.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable, Iterator
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
    #: the unified diff between the live object and the dry run's result ("" if none)
    diff: str = ""
    #: what else the change touches, one line ("" if not known)
    blast_radius: str = ""
    #: what the person must type to approve (a namespace's name before deleting it; "" none)
    confirm: str = ""
    #: every mutating call of this model turn (this one included), in call order
    batch: tuple[ActionSummary, ...] = ()
    #: position of this call in ``batch``
    index: int = 0
    #: what "approve for this session" would approve from now on (None: not offered)
    standing: StandingApproval | None = None


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


class PreviewApprover:
    """``ask --write --dry-run``: every mutating call is dry-run and announced (its diff and
    blast radius reach the ``ApprovalRequested`` event), then refused: nothing is executed.

    Its decisions have ``source="preview"``: the loop answers the call ``refused`` with the
    dry run and goes on to the next call of the turn (each one is previewed)."""

    interactive = True

    def __init__(self, reason: str = "") -> None:
        self.reason = reason or "dry run only (--dry-run): nothing was executed"

    async def approve(self, request: ApprovalRequest) -> ApprovalDecision:
        said = [self.reason, request.dry_run.strip(), request.blast_radius]
        return ApprovalDecision(
            "decline", source="preview", reason="; ".join(part for part in said if part)
        )


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


def _scale_change(args: dict[str, Any]) -> str:
    return "to 0 replicas" if args.get("replicas") == 0 else "to ≥1 replicas"


#: "the same kind of change" of a standing approval, per tool (see the module docstring);
#: a tool not listed here: the exact arguments
CHANGE_CLASSES: dict[str, Callable[[dict[str, Any]], str]] = {
    "scale_deployment": _scale_change,
    "scale_resource": _scale_change,
    "rollout_restart": lambda args: "",
    "rollout_restart_resource": lambda args: "",
    "delete_pod": lambda args: "",
}


@dataclass(frozen=True)
class StandingApproval:
    """What one ``approve_session`` lets through without asking: one tool, on one kube
    context, on one object (kind, namespace, name), with one kind of change."""

    tool: str
    context: str | None
    verb: str
    kind: str
    namespace: str | None
    name: str
    #: the kind of change ("to ≥1 replicas"), "" when the tool has one, or the exact
    #: arguments as canonical JSON for a tool without a rule
    change: str = ""
    exact: bool = False

    @classmethod
    def for_call(
        cls, tool: str, args: dict[str, Any], summary: ActionSummary, context: str | None
    ) -> StandingApproval:
        classify = CHANGE_CLASSES.get(tool)
        if classify is not None:
            change, exact = classify(args), False
        else:
            change, exact = json.dumps(args, sort_keys=True, ensure_ascii=False), True
        return cls(
            tool=tool,
            context=context,
            verb=summary.verb or tool,
            kind=summary.kind,
            namespace=summary.namespace,
            name=summary.name,
            change=change,
            exact=exact,
        )

    @property
    def target(self) -> str:
        """``deployment shop/cart``: the kind, then namespace/name."""
        where = f"{self.namespace}/{self.name}" if self.namespace else self.name
        return f"{self.kind} {where}".strip()

    def describe(self) -> str:
        """One line for people: ``scale deployment shop/cart to ≥1 replicas``."""
        text = f"{self.verb} {self.target}".strip()
        if self.exact:
            text += " (this exact call)"
        elif self.change:
            text += f" {self.change}"
        return text


@dataclass
class SessionApprovals:
    """The standing approvals of one loop, in the order granted; in memory only (S5)."""

    granted: list[StandingApproval] = field(default_factory=list)

    def find(self, scope: StandingApproval) -> StandingApproval | None:
        """The standing approval that covers a call of ``scope``, if any."""
        return scope if scope in self.granted else None

    def grant(self, scope: StandingApproval) -> None:
        if scope not in self.granted:
            self.granted.append(scope)

    def clear(self) -> None:
        self.granted.clear()

    def __iter__(self) -> Iterator[StandingApproval]:
        return iter(list(self.granted))

    def __len__(self) -> int:
        return len(self.granted)
