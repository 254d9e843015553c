"""Typed events the agent core yields.

The loop knows nothing about who reads them: the TUI, the session recorder, ``opsconsole ask``
and the tests all consume the same stream. Every event is a frozen dataclass that carries the
run id, the agent's name, the step number and a timestamp; tool events carry the
tool_call_id. ``to_dict`` / ``event_from_dict`` round-trip through JSON.

Vocabulary (ReAct): Thought = the model's text and reasoning before its tool calls; Action =
a tool call (``ToolCallStarted``); Observation = its result (``ToolCallFinished``); Answer =
the final text.
"""

from __future__ import annotations

import dataclasses
import time
from dataclasses import dataclass, field
from typing import Any, ClassVar, Literal

ToolStatus = Literal["ok", "error", "declined", "cancelled", "interrupted", "refused", "skipped"]


@dataclass(frozen=True, kw_only=True)
class AgentEvent:
    kind: ClassVar[str] = "event"
    run_id: str
    agent: str = "ops"
    step: int = 0
    ts: float = field(default_factory=time.time)

    def to_dict(self) -> dict[str, Any]:
        data = {f.name: getattr(self, f.name) for f in dataclasses.fields(self)}
        data["type"] = self.kind
        return data


@dataclass(frozen=True, kw_only=True)
class RunStarted(AgentEvent):
    """A user task starts a run (one turn of the conversation)."""

    kind: ClassVar[str] = "run_started"
    task: str
    model: str = ""
    offline: bool = False
    write_mode: bool = False
    parent_run_id: str | None = None


@dataclass(frozen=True, kw_only=True)
class StepStarted(AgentEvent):
    """The loop sends request number ``step`` to the model."""

    kind: ClassVar[str] = "step_started"


@dataclass(frozen=True, kw_only=True)
class ReasoningDelta(AgentEvent):
    """A piece of the model's reasoning_content as it streams."""

    kind: ClassVar[str] = "reasoning_delta"
    text: str


@dataclass(frozen=True, kw_only=True)
class TextDelta(AgentEvent):
    """A piece of the model's visible text as it streams (Thought or Answer, not yet known)."""

    kind: ClassVar[str] = "text_delta"
    text: str


@dataclass(frozen=True, kw_only=True)
class Thought(AgentEvent):
    """The model's text and reasoning that came with its tool calls."""

    kind: ClassVar[str] = "thought"
    text: str
    reasoning: str = ""
    #: the calls the model asked for in this turn, in order: {"id", "name", "arguments"}
    #: (``arguments`` is the raw JSON string as the model sent it)
    tool_calls: list[dict[str, Any]] = field(default_factory=list)


@dataclass(frozen=True, kw_only=True)
class ToolCallStarted(AgentEvent):
    """Action: a tool call about to run (after validation and, if needed, approval)."""

    kind: ClassVar[str] = "tool_call_started"
    tool_call_id: str
    tool: str
    arguments: dict[str, Any]
    mutating: bool = False


@dataclass(frozen=True, kw_only=True)
class ToolCallFinished(AgentEvent):
    """Observation: the result of a tool call (or why it did not run)."""

    kind: ClassVar[str] = "tool_call_finished"
    tool_call_id: str
    tool: str
    status: ToolStatus
    output: str
    duration: float = 0.0
    data: dict[str, Any] | None = None
    #: for a failed call: why, for programs (a ToolError code: unreachable, forbidden, ...)
    error_code: str | None = None


@dataclass(frozen=True, kw_only=True)
class ApprovalRequested(AgentEvent):
    kind: ClassVar[str] = "approval_requested"
    tool_call_id: str
    tool: str
    arguments: dict[str, Any]
    verb: str
    target: str
    namespace: str | None = None
    context: str | None = None
    dry_run: str = ""
    #: the unified diff live -> dry run result, the blast radius, the text to type to approve
    diff: str = ""
    blast_radius: str = ""
    confirm: str = ""


@dataclass(frozen=True, kw_only=True)
class ApprovalResolved(AgentEvent):
    kind: ClassVar[str] = "approval_resolved"
    tool_call_id: str
    decision: Literal["approve", "approve_session", "decline"]
    source: str = "user"
    #: the standing approval that let this call through (source "session") or that this
    #: decision granted (approve_session), as one line; "" otherwise
    standing: str = ""


@dataclass(frozen=True, kw_only=True)
class RetryScheduled(AgentEvent):
    """The model call failed in a retryable way; the loop waits ``wait`` seconds."""

    kind: ClassVar[str] = "retry_scheduled"
    attempt: int
    max_attempts: int
    wait: float
    reason: str


@dataclass(frozen=True, kw_only=True)
class UsageReported(AgentEvent):
    """The tokens of one model request, and the running totals of this agent's conversation.

    ``cache_hit_tokens`` / ``cache_miss_tokens``: this request's prompt tokens the provider
    served from its prompt cache and not, as its ``usage`` said; None when it said nothing
    (unknown, not zero: RELIABILITY A21). The totals split every prompt token of the
    conversation into known hits, known misses and unknown. ``cost_usd``: the conversation's
    cost so far (:mod:`opsconsole.agent.pricing`)."""

    kind: ClassVar[str] = "usage"
    prompt_tokens: int = 0
    completion_tokens: int = 0
    cache_hit_tokens: int | None = None
    cache_miss_tokens: int | None = None
    total_prompt_tokens: int = 0
    total_completion_tokens: int = 0
    total_cache_hit_tokens: int = 0
    total_cache_miss_tokens: int = 0
    total_cache_unknown_tokens: int = 0
    cost_usd: float = 0.0


@dataclass(frozen=True, kw_only=True)
class PrefixChanged(AgentEvent):
    """The next request's prefix (system prompt and tools) differs from the conversation's
    previous request, so the provider's prompt cache starts over (RELIABILITY A20). Only a
    write-mode or model switch does this.

    ``reason``: ``write_mode``, ``model`` or ``other`` (anything else: a bug to report)."""

    kind: ClassVar[str] = "prefix_changed"
    reason: str
    text: str


@dataclass(frozen=True, kw_only=True)
class Notice(AgentEvent):
    """Something the user should see that is not an error (compaction, empty reply...)."""

    kind: ClassVar[str] = "notice"
    text: str
    level: Literal["info", "warning", "error"] = "info"


@dataclass(frozen=True, kw_only=True)
class Answer(AgentEvent):
    """The final answer of a run."""

    kind: ClassVar[str] = "answer"
    text: str


@dataclass(frozen=True, kw_only=True)
class AgentDispatched(AgentEvent):
    """Multi-agent: the scheduler hands a sub-task to a specialist."""

    kind: ClassVar[str] = "agent_dispatched"
    target: str
    task: str
    child_run_id: str
    tool_call_id: str | None = None


@dataclass(frozen=True, kw_only=True)
class RunFinished(AgentEvent):
    kind: ClassVar[str] = "run_finished"
    steps: int = 0
    prompt_tokens: int = 0
    completion_tokens: int = 0
    duration: float = 0.0
    #: the run's prompt tokens by cache outcome (see UsageReported) and its cost
    cache_hit_tokens: int = 0
    cache_miss_tokens: int = 0
    cache_unknown_tokens: int = 0
    cost_usd: float = 0.0


@dataclass(frozen=True, kw_only=True)
class RunFailed(AgentEvent):
    kind: ClassVar[str] = "run_failed"
    error: str
    error_type: str = "error"
    hint: str | None = None


@dataclass(frozen=True, kw_only=True)
class RunCancelled(AgentEvent):
    kind: ClassVar[str] = "run_cancelled"
    reason: str = "cancelled by user"


EVENT_TYPES: dict[str, type[AgentEvent]] = {
    cls.kind: cls
    for cls in (
        RunStarted,
        StepStarted,
        ReasoningDelta,
        TextDelta,
        Thought,
        ToolCallStarted,
        ToolCallFinished,
        ApprovalRequested,
        ApprovalResolved,
        RetryScheduled,
        UsageReported,
        PrefixChanged,
        Notice,
        Answer,
        AgentDispatched,
        RunFinished,
        RunFailed,
        RunCancelled,
    )
}

TERMINAL_EVENTS = (RunFinished, RunFailed, RunCancelled)


def event_from_dict(data: dict[str, Any]) -> AgentEvent:
    """Rebuild an event from :meth:`AgentEvent.to_dict` output; unknown fields are ignored."""
    kind = data.get("type")
    cls = EVENT_TYPES.get(str(kind))
    if cls is None:
        raise ValueError(f"unknown event type {kind!r}")
    names = {f.name for f in dataclasses.fields(cls)}
    return cls(**{k: v for k, v in data.items() if k in names})
