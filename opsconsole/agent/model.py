"""Model clients: the protocol the loop talks to, and the OpenAI-compatible implementation.

The loop calls :meth:`ModelClient.run_turn` once per step. It yields streaming pieces
(:class:`TextChunk`, :class:`ReasoningChunk`, :class:`RetryNotice`) and, last, exactly one
:class:`ModelTurn` holding the assembled assistant message. Retries happen inside the client
and are announced with :class:`RetryNotice` so the UI can show the wait. Failures raise
subclasses of :class:`opsconsole.errors.ModelError`.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any, Protocol, runtime_checkable


@dataclass(frozen=True)
class ToolCallRequest:
    """One tool call as the model sent it; ``arguments`` is the raw JSON string."""

    id: str
    name: str
    arguments: str


@dataclass(frozen=True)
class Usage:
    prompt_tokens: int = 0
    completion_tokens: int = 0


@dataclass(frozen=True)
class ModelTurn:
    content: str = ""
    reasoning: str = ""
    tool_calls: list[ToolCallRequest] = field(default_factory=list)
    finish_reason: str | None = "stop"
    usage: Usage | None = None


@dataclass(frozen=True)
class TextChunk:
    text: str


@dataclass(frozen=True)
class ReasoningChunk:
    text: str


@dataclass(frozen=True)
class RetryNotice:
    attempt: int
    max_attempts: int
    wait: float
    reason: str


ModelStreamItem = TextChunk | ReasoningChunk | RetryNotice | ModelTurn


@runtime_checkable
class ModelClient(Protocol):
    #: shown in the UI and recorded in sessions, e.g. "deepseek-chat" or "offline planner"
    label: str
    #: True for the built-in offline planner (no network)
    offline: bool

    def run_turn(
        self, messages: list[dict[str, Any]], tools: list[dict[str, Any]]
    ) -> AsyncIterator[ModelStreamItem]:
        """Send one request; yield stream pieces, then exactly one ModelTurn."""
        ...
