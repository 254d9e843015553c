"""The built-in offline planner: a :class:`~opsconsole.agent.model.ModelClient` with no network.

It is used when no API key is configured or with ``--offline``, through the very same agent
loop as a real model. It is stateless: every call derives everything from ``messages`` — the
latest user message is the task, the tool messages after it are the observations so far, and
names seen in any earlier observation help resolve what the user refers to. Each turn either
asks for real tool calls (with a short "thought" first, so the trace shows a Thought) or gives
the final answer: root cause, evidence quoted from the observations, and next steps, labelled
as coming from the offline planner. It only calls tools present in the offered ``tools``
array, proposes a mutating call only when the user asks for a change, and stops after a
bounded number of steps.

Requests it understands, in Chinese and English (``intents``): the pods of a namespace
(``get_k8s_pods``), a pod's logs (``get_pod_logs``), why a pod / deployment / service / node is
failing (``find_unhealthy_pods`` to resolve the name, then ``describe_pod`` + ``get_events`` +
``get_pod_logs`` in one parallel step), unhealthy pods (``find_unhealthy_pods``), resource
usage (``get_resource_usage``), nodes (``get_nodes``), events (``get_events``), deployments
(``get_deployments``), security risks (``find_security_issues``) and GPUs (nodes' capacity,
the pods that request them). Follow-ups may refer back ("它", "its logs") to the pod the
conversation is about. In read-only mode a change (delete, scale, restart) is explained with the
command to run; in write mode the planner first finds the object (in whatever namespace it
lives) and then proposes the call, which the loop runs only after the user approves it
(``mutate``). It reports zero token usage: no model is involved. Anything else
gets an honest answer: what it can do and how to configure a model.

It reads only what the tools return as data and how each call ended (status, error code):
never a tool's text, the system prompt's wording or an error's wording, so the tools' text is
free to change for models (see :mod:`opsconsole.planner.observations`).

Layout, by what each module answers:

- what was asked: ``intents.toml`` (intents, their words, rules and examples; the changes; the
  pod states; the words that are never names), ``vocabulary`` (reading it), ``intents`` (the
  scorer), ``slots`` (the names, namespace, lines, ... a request gives);
- what was seen: ``observations`` (the transcript: task, calls, how each ended, the session's
  context and namespace), ``facts`` (reading the tools' data: findings, names, rows, log and
  describe lines);
- what to do next: ``context`` (decisions, the planning context), ``plan`` (the entry point
  and the one-call listings), ``diagnose`` (finding the pod, logs, diagnosis of pods, nodes,
  services and deployments), ``gpu``, ``mutate`` / ``resolve`` (changes: finding the object,
  then one proposal per step);
- what to answer: ``causes`` (root-cause categories), ``evidence`` (the lines worth quoting),
  ``links`` (from a symptom to its cause), ``answers`` / ``report`` (the answers), ``markdown``
  (the label, quotes and fixed phrases).

When every call of a turn failed because the cluster cannot be reached (by their error
codes), the answer says so (``answers.unreachable_answer``) instead of concluding anything
from errors.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

from opsconsole.agent.model import (
    ModelStreamItem,
    ModelTurn,
    TextChunk,
    ToolCallRequest,
    Usage,
)
from opsconsole.planner.context import Call, Final, Step
from opsconsole.planner.observations import read_transcript
from opsconsole.planner.plan import plan

__all__ = ["Call", "Final", "OfflinePlanner", "Step", "plan"]

# --- the model client ----------------------------------------------------------------------


#: no model is used, so no tokens are spent: every turn reports zero usage (an explicit zero,
#: so the loop does not fall back to estimating tokens from the messages)
NO_USAGE = Usage(prompt_tokens=0, completion_tokens=0)


class OfflinePlanner:
    """A ModelClient that plans tool calls and answers without any network or model."""

    label = "offline planner"
    offline = True

    def __init__(self, language: str = "auto", *, max_steps: int = 6) -> None:
        self.language = language if language in ("auto", "zh", "en") else "auto"
        self.max_steps = max_steps

    async def run_turn(
        self, messages: list[dict[str, Any]], tools: list[dict[str, Any]]
    ) -> AsyncIterator[ModelStreamItem]:
        decision = plan(messages, tools, language=self.language, max_steps=self.max_steps)
        if isinstance(decision, Final):
            text = decision.text
            for piece in _pieces(text):
                yield TextChunk(piece)
            yield ModelTurn(content=text, finish_reason="stop", usage=NO_USAGE)
            return
        base = read_transcript(messages).total_calls
        calls = [
            ToolCallRequest(
                id=f"call_offline_{base + i + 1}",
                name=c.name,
                arguments=json.dumps(c.args, ensure_ascii=False),
            )
            for i, c in enumerate(decision.calls)
        ]
        yield TextChunk(decision.thought)
        yield ModelTurn(
            content=decision.thought,
            tool_calls=calls,
            finish_reason="tool_calls",
            usage=NO_USAGE,
        )


def _pieces(text: str, size: int = 400) -> list[str]:
    """The answer in a few chunks, cut at line ends, so it streams like a model's."""
    out: list[str] = []
    buf = ""
    for line in text.splitlines(keepends=True):
        buf += line
        if len(buf) >= size:
            out.append(buf)
            buf = ""
    if buf:
        out.append(buf)
    return out or [text]
