"""The transcript as the planner reads it: the task, the calls made and how each one ended.

Pure functions over the OpenAI-format ``messages`` the loop sends to a local client
(``Conversation.for_request(local=True)``): the latest user message is the task; every tool
call becomes an :class:`Observation` of its status, its error (code and one line) and its data,
read from what stays local (:data:`opsconsole.agent.transcript.LOCAL`) on the tool message,
never from the message's text; the system message's local part gives the session's pinned
context and default namespace. A tool message without a local part (a client that is not
local) is an observation with no data.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from opsconsole.agent.transcript import LOCAL, split_state_note


@dataclass(frozen=True)
class Observation:
    """One tool call and how it ended: ``status`` (ok | error | declined | refused |
    cancelled | skipped | interrupted), for a failure ``error_code`` and ``error`` (one line
    for a person), and the tool's ``data``."""

    call_id: str
    name: str
    args: dict[str, Any]
    status: str = "ok"
    data: dict[str, Any] = field(default_factory=dict)
    error_code: str | None = None
    error: str = ""

    @property
    def failed(self) -> bool:
        return self.status != "ok"

    @property
    def items(self) -> list[dict[str, Any]]:
        """The rows of a listing (pods, deployments, nodes, events, usage), as the tool gave
        them (see :mod:`opsconsole.k8s.render`)."""
        rows = self.data.get("items")
        return [r for r in rows if isinstance(r, dict)] if isinstance(rows, list) else []

    def narrowed(self, items: list[dict[str, Any]], *, columns: bool = True) -> Observation:
        """The same observation with only ``items`` (the rows about one object); without its
        column header when ``columns`` is false."""
        data = {**self.data, "items": items}
        if not columns:
            data.pop("columns", None)
        return Observation(
            self.call_id, self.name, self.args, self.status, data, self.error_code, self.error
        )


@dataclass
class Transcript:
    task: str
    #: observations after the latest user message, in call order
    current: list[Observation]
    #: observations from earlier turns of the conversation
    earlier: list[Observation]
    #: assistant messages after the latest user message (= steps already taken)
    steps: int
    #: tool calls made anywhere in the conversation (for unique call ids)
    total_calls: int
    #: the session's default namespace, if it has one
    default_namespace: str | None = None
    #: the session's pinned kube context, if any
    context: str | None = None

    @property
    def all(self) -> list[Observation]:
        return self.earlier + self.current


def content_text(content: Any) -> str:
    """A user message's content as text (a string, or a list of ``{"type": "text"}`` parts)."""
    if content is None:
        return ""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        parts = []
        for part in content:
            if isinstance(part, dict):
                parts.append(str(part.get("text", "")))
            else:
                parts.append(str(part))
        return "\n".join(parts)
    return str(content)


def _outcome(msg: dict[str, Any]) -> dict[str, Any]:
    local = msg.get(LOCAL)
    return local if isinstance(local, dict) else {}


def _observation(call: dict[str, Any], local: dict[str, Any]) -> Observation:
    fn = call.get("function") or {}
    try:
        args = json.loads(fn.get("arguments") or "{}")
    except (TypeError, ValueError):
        args = {}
    if not isinstance(args, dict):
        args = {}
    raw = local.get("error")
    error: dict[str, Any] = raw if isinstance(raw, dict) else {}
    data = local.get("data")
    return Observation(
        call_id=str(call.get("id", "")),
        name=str(fn.get("name", "")),
        args=args,
        status=str(local.get("status") or "ok"),
        data=data if isinstance(data, dict) else {},
        error_code=str(error["code"]) if error.get("code") else None,
        error=str(error.get("message") or ""),
    )


def read_transcript(messages: list[dict[str, Any]]) -> Transcript:
    last_user = -1
    for i, msg in enumerate(messages):
        if msg.get("role") == "user":
            last_user = i
    results: dict[str, dict[str, Any]] = {}
    for msg in messages:
        if msg.get("role") == "tool" and msg.get("tool_call_id"):
            results[str(msg["tool_call_id"])] = _outcome(msg)
    current: list[Observation] = []
    earlier: list[Observation] = []
    steps = 0
    total = 0
    for i, msg in enumerate(messages):
        if msg.get("role") != "assistant":
            continue
        if i > last_user:
            steps += 1
        for call in msg.get("tool_calls") or []:
            total += 1
            obs = _observation(call, results.get(str(call.get("id", "")), {}))
            (current if i > last_user else earlier).append(obs)
    task = content_text(messages[last_user].get("content")) if last_user >= 0 else ""
    task = split_state_note(task)[1]  # a /ns or /context note before the task is not the task
    session: dict[str, Any] = {}
    for msg in messages:
        if msg.get("role") == "system":
            session = _outcome(msg) or session
    namespace, context = session.get("namespace"), session.get("context")
    return Transcript(
        task=task,
        current=current,
        earlier=earlier,
        steps=steps,
        total_calls=total,
        default_namespace=str(namespace) if namespace else None,
        context=str(context) if context else None,
    )
