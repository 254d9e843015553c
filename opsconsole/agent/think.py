"""``<think>…</think>`` in a reply's content (DeepSeek-R1, QwQ, Qwen3 and other reasoning models
served by Ollama or vLLM without a reasoning parser) is reasoning, not answer text.

The model client runs every streamed content delta through :class:`ThinkSplitter`, which cuts
the leading think block out as reasoning (shown as the step's Thought, never as the answer and
never sent back as content) and passes the rest through. Only a block at the very start of the
content counts (after whitespace): a ``<think>`` later in an answer is text the model wrote.
Tags split across deltas are handled; a stream that ends inside the block gives reasoning only.
"""

from __future__ import annotations

OPEN = "<think>"
CLOSE = "</think>"


class ThinkSplitter:
    """Feed content deltas; get ``(reasoning, content)`` pieces to emit for each."""

    def __init__(self) -> None:
        self._state = "start"  # start -> think -> after, or start -> text
        self._held = ""
        self._answer_started = False

    def feed(self, text: str) -> tuple[str, str]:
        """The reasoning and the content in ``text`` that can be emitted now."""
        if self._state == "text":
            return "", text
        data = self._held + text
        self._held = ""
        reasoning = ""
        if self._state == "start":
            stripped = data.lstrip()
            if not stripped or OPEN.startswith(stripped):
                self._held = data  # whitespace or "<thi" so far: cannot tell yet
                return "", ""
            if not stripped.startswith(OPEN):
                self._state = "text"
                return "", data
            self._state = "think"
            data = stripped[len(OPEN) :]
        if self._state == "think":
            end = data.find(CLOSE)
            if end < 0:
                keep = _partial_suffix(data, CLOSE)
                self._held = data[len(data) - keep :]
                return data[: len(data) - keep], ""
            reasoning, data = data[:end], data[end + len(CLOSE) :]
            self._state = "after"
        # after the block: the answer, without the blank lines that separate it
        if not self._answer_started:
            data = data.lstrip()
            self._answer_started = bool(data)
        return reasoning, data

    def flush(self) -> tuple[str, str]:
        """What is still held at the end of the stream."""
        held, self._held = self._held, ""
        if self._state == "think":
            return held, ""  # the stream ended inside the block: all of it was reasoning
        return "", held


def split_think(content: str) -> tuple[str, str]:
    """``(reasoning, content)`` of a whole (non-streamed) reply."""
    splitter = ThinkSplitter()
    r1, c1 = splitter.feed(content)
    r2, c2 = splitter.flush()
    return r1 + r2, c1 + c2


def _partial_suffix(data: str, tag: str) -> int:
    """How many characters at the end of ``data`` could start ``tag``."""
    for n in range(min(len(tag) - 1, len(data)), 0, -1):
        if tag.startswith(data[-n:]):
            return n
    return 0
