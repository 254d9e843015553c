"""The conversation: OpenAI-format messages that stay valid for the API at every moment.

Invariants (RELIABILITY A12, A14, S4, P6):

- An assistant message with ``tool_calls`` is always followed, once the batch is closed, by
  exactly one ``tool`` message per ``tool_call_id``, in the order of the calls.
- While a batch is open (tools running), results are held aside; :meth:`Conversation.repair`
  closes it at any time, synchronously, answering the missing ids with
  ``{"status": "cancelled"}`` (or another status). The loop calls it on cancel; anyone may call
  it again (it is idempotent), and every run starts with it.
- ``content`` is a string (``""`` when a tool-call turn has no text), never ``[]``;
  ``arguments`` is always a string (``"{}"`` when empty).
- Two user messages never follow each other: a placeholder assistant message is put between.

``reasoning_content`` is kept on stored assistant messages and included in requests only on
messages with ``tool_calls`` and only when the model wants it back (``reasoning_passback``).

What stays local: how each call ended, for programs (:func:`outcome`: ``{"status": "ok" |
"error" | "declined" | ..., "error": {"code", "message"}, "data": ...}``), and the session's
facts (the pinned ``context``, the default ``namespace``). The conversation keeps them beside
the messages (the stored messages stay plain OpenAI messages) and puts them, under
:data:`LOCAL`, on the tool messages and the system message of a request only for a model
client that runs in this process (``for_request(local=True)``: the offline planner); they are
never sent to a model API. A session keeps them in its ``tool_call_finished`` events, from
which a resumed conversation gets them back (``Conversation(messages, results=...)``).
"""

from __future__ import annotations

import copy
import json
import re
from collections.abc import Iterable, Mapping
from typing import Any

INTERRUPTED_REPLY = "[no reply: the previous request was interrupted]"
#: appended to the text of a reply whose stream was cut (A7)
INTERRUPTED_MARK = "[interrupted: the reply was cut off here]"
COMPACTED_MARK = "[compacted: earlier tool output omitted to save context"

#: wraps the note put before a user message when the console's state changed since the model
#: last heard of it (the namespace or context the user switched to): the note goes in the
#: newest message so that the system prompt stays byte-identical (RELIABILITY A20)
STATE_OPEN = "<console-state>"
STATE_CLOSE = "</console-state>"

_NON_ASCII = re.compile(r"[^\x00-\x7f]")


#: the key under which a request carries what stays local (see the module docstring)
LOCAL = "local"


def outcome(
    status: str,
    *,
    error: tuple[str, str] | None = None,
    data: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """How a call ended, for programs: its status, ``error`` as (code, message), its data."""
    out: dict[str, Any] = {"status": status}
    if error is not None:
        out["error"] = {"code": error[0], "message": error[1]}
    if data is not None:
        out["data"] = data
    return out


def status_message(status: str, **extra: Any) -> str:
    """The JSON content of a synthetic tool message, e.g. ``{"status":"cancelled"}``."""
    return json.dumps({"status": status, **extra}, ensure_ascii=False, separators=(",", ":"))


def with_state_note(note: str, text: str) -> str:
    """A user message's content: ``note`` (what changed in the console) before ``text``."""
    return f"{STATE_OPEN}{note}{STATE_CLOSE}\n{text}"


def split_state_note(content: str) -> tuple[str, str]:
    """(note, text) of a user message's content; the note is "" when it carries none."""
    if content.startswith(STATE_OPEN):
        end = content.find(STATE_CLOSE)
        if end > 0:
            text = content[end + len(STATE_CLOSE) :]
            return content[len(STATE_OPEN) : end], text.removeprefix("\n")
    return "", content


def latest_state_note(messages: Iterable[dict[str, Any]]) -> str:
    """The note of the newest user message that carries one ("" if none does)."""
    for m in reversed(list(messages)):
        content = m.get("content")
        if m.get("role") == "user" and isinstance(content, str):
            note, _ = split_state_note(content)
            if note:
                return note
    return ""


def estimate_tokens(text: str) -> int:
    """The one token estimate (budgets, compaction, the offline planner's usage): a non-ASCII
    character (CJK above all) counts one token, ASCII four characters a token."""
    if not text:
        return 0
    wide = len(_NON_ASCII.findall(text)) if not text.isascii() else 0
    return wide + (len(text) - wide + 3) // 4


def truncate_to_tokens(text: str, max_tokens: int) -> str:
    """``text`` cut so that its estimate, marker included, is at most ``max_tokens``: the head
    is kept and ``[truncated: N characters omitted]`` follows it (only the marker when not
    even one character fits)."""
    if estimate_tokens(text) <= max_tokens:
        return text

    def cut(keep: int) -> str:
        return text[:keep] + f"\n[truncated: {len(text) - keep} characters omitted]"

    lo, hi = 0, min(len(text) - 1, max(0, max_tokens) * 4)
    while lo < hi:  # the longest head that fits
        mid = (lo + hi + 1) // 2
        if estimate_tokens(cut(mid)) <= max_tokens:
            lo = mid
        else:
            hi = mid - 1
    return cut(lo)


def fair_shares(budget: int, sizes: list[int]) -> list[int]:
    """Divide ``budget`` across items of ``sizes``: the small ones get all they need, the
    rest split what is left equally (max-min fairness). Shares never exceed the sizes."""
    shares = [0] * len(sizes)
    left = max(0, budget)
    order = sorted(range(len(sizes)), key=sizes.__getitem__)
    for rank, i in enumerate(order):
        shares[i] = min(sizes[i], left // (len(sizes) - rank))
        left -= shares[i]
    return shares


def message_tokens(message: dict[str, Any]) -> int:
    n = 4
    content = message.get("content")
    if isinstance(content, str):
        n += estimate_tokens(content)
    for tc in message.get("tool_calls") or ():
        fn = tc.get("function", {})
        n += 8 + estimate_tokens(fn.get("name", "")) + estimate_tokens(fn.get("arguments", ""))
    rc = message.get("reasoning_content")
    if isinstance(rc, str):
        n += estimate_tokens(rc)
    return n


class Conversation:
    """OpenAI-format messages of one conversation (all its runs), kept API-valid."""

    def __init__(
        self,
        messages: Iterable[dict[str, Any]] = (),
        *,
        results: Mapping[str, dict[str, Any]] | None = None,
    ) -> None:
        self._messages: list[dict[str, Any]] = [copy.deepcopy(m) for m in messages]
        #: open batch: tool_call ids in call order -> content (None = not answered yet)
        self._pending: dict[str, str | None] = {}
        #: how each answered call ended (:func:`outcome`), by tool_call id; stays local
        self._results: dict[str, dict[str, Any]] = dict(results or {})
        #: the session's facts for programs (context, namespace); stays local
        self._session: dict[str, Any] | None = None
        self._token_cache: dict[int, tuple[dict[str, Any], int]] = {}
        self._adopt_dangling()

    # -- reading ----------------------------------------------------------------------

    @property
    def messages(self) -> list[dict[str, Any]]:
        """The stored messages (the open batch's tool results are not in it yet)."""
        return self._messages

    def __len__(self) -> int:
        return len(self._messages)

    @property
    def has_system(self) -> bool:
        return bool(self._messages) and self._messages[0].get("role") == "system"

    @property
    def open_tool_calls(self) -> list[str]:
        return [k for k, v in self._pending.items() if v is None]

    def estimate_tokens(self) -> int:
        """Estimated prompt tokens; per-message counts are cached (messages are replaced,
        never mutated in place, so a cache keyed by identity stays right)."""
        cache = self._token_cache
        total = 0
        for m in self._messages:
            hit = cache.get(id(m))
            if hit is None or hit[0] is not m:
                hit = (m, message_tokens(m))
                cache[id(m)] = hit
            total += hit[1]
        if len(cache) > 2 * len(self._messages) + 64:
            live = {id(m) for m in self._messages}
            for key in [k for k in cache if k not in live]:
                del cache[key]
        return total + sum(4 + estimate_tokens(v or "") for v in self._pending.values())

    def result(self, tool_call_id: str) -> dict[str, Any] | None:
        """How the call ended (:func:`outcome`), once it is answered."""
        return self._results.get(tool_call_id)

    def for_request(self, *, reasoning_passback: bool, local: bool = False) -> list[dict[str, Any]]:
        """The messages to send. Requires no open batch (call :meth:`repair` first).

        ``local``: with what stays local under :data:`LOCAL` (tool messages: how the call
        ended; the system message: the session's facts), for a model client that runs in this
        process; without it nothing local is in the messages."""
        if self._pending:
            raise RuntimeError("tool batch still open; call repair() or close_batch() first")
        out: list[dict[str, Any]] = []
        for m in self._messages:
            if local:
                extra = None
                if m.get("role") == "tool":
                    extra = self._results.get(str(m.get("tool_call_id")))
                elif m.get("role") == "system" and m is self._messages[0]:
                    extra = self._session
                if extra is not None:
                    m = {**m, LOCAL: extra}
            elif LOCAL in m:
                m = {k: v for k, v in m.items() if k != LOCAL}
            if m.get("role") == "assistant":
                keep = reasoning_passback and bool(m.get("tool_calls"))
                if "reasoning_content" in m and not keep:
                    m = {k: v for k, v in m.items() if k != "reasoning_content"}
                elif keep and "reasoning_content" not in m:
                    m = {**m, "reasoning_content": ""}
                if "interrupted" in m:
                    m = {k: v for k, v in m.items() if k != "interrupted"}
            out.append(m)
        return out

    # -- writing ----------------------------------------------------------------------

    def set_session(self, facts: dict[str, Any]) -> None:
        """The session's facts for programs (the pinned ``context``, the default
        ``namespace``); they stay local (see :meth:`for_request`)."""
        self._session = dict(facts)

    def set_system(self, content: str) -> None:
        if self.has_system:
            self._messages[0] = {"role": "system", "content": content}
        else:
            self._messages.insert(0, {"role": "system", "content": content})

    def add_user(self, content: str) -> None:
        self.repair()
        if self._messages and self._messages[-1].get("role") == "user":
            self._messages.append(
                {"role": "assistant", "content": INTERRUPTED_REPLY, "interrupted": True}
            )
        self._messages.append({"role": "user", "content": content})

    def add_assistant(
        self, content: str, reasoning: str = "", *, interrupted: bool = False
    ) -> None:
        """A final (no tool calls) assistant message. ``interrupted``: the partial text of a
        cut stream (A7), kept with :data:`INTERRUPTED_MARK` after it."""
        self.repair()
        msg: dict[str, Any] = {"role": "assistant", "content": content or ""}
        if reasoning:
            msg["reasoning_content"] = reasoning
        if interrupted:
            msg["interrupted"] = True
            text = msg["content"].rstrip()
            msg["content"] = f"{text}\n{INTERRUPTED_MARK}" if text else INTERRUPTED_REPLY
        self._messages.append(msg)

    def open_batch(
        self, content: str, reasoning: str, tool_calls: list[tuple[str, str, str]]
    ) -> None:
        """Append an assistant message with ``tool_calls`` [(id, name, arguments)] and open
        its batch; results come with :meth:`set_result`, then :meth:`close_batch`."""
        if not tool_calls:
            raise ValueError("open_batch needs at least one tool call")
        self.repair()
        msg: dict[str, Any] = {
            "role": "assistant",
            "content": content or "",
            "tool_calls": [
                {
                    "id": cid,
                    "type": "function",
                    "function": {"name": name, "arguments": args if args else "{}"},
                }
                for cid, name, args in tool_calls
            ],
        }
        if reasoning:
            msg["reasoning_content"] = reasoning
        self._messages.append(msg)
        self._pending = {cid: None for cid, _, _ in tool_calls}

    def set_result(
        self, tool_call_id: str, content: str, result: dict[str, Any] | None = None
    ) -> bool:
        """Record a result for an open call; False (ignored) if the call is not open (e.g.
        the batch was already closed by :meth:`repair`) or already answered. ``result``: how
        the call ended, for programs (:func:`outcome`; default: ok)."""
        if self._pending.get(tool_call_id, "") is not None:
            return False
        self._pending[tool_call_id] = content if content else status_message("ok")
        self._results[tool_call_id] = result if result is not None else outcome("ok")
        return True

    def has_result(self, tool_call_id: str) -> bool:
        return self._pending.get(tool_call_id) is not None

    def close_batch(self) -> None:
        """Append the batch's tool messages in call order (all results must be set)."""
        missing = self.open_tool_calls
        if missing:
            raise RuntimeError(f"tool calls without a result: {', '.join(missing)}")
        self._flush()

    def repair(self, status: str = "cancelled") -> list[str]:
        """Close an open batch, answering every missing id with ``{"status": status}``.

        Returns the ids that were answered synthetically. Synchronous and idempotent.
        """
        if not self._pending:
            return []
        missing = self.open_tool_calls
        for cid in missing:
            self._pending[cid] = status_message(status)
            self._results[cid] = outcome(status)
        self._flush()
        return missing

    def _flush(self) -> None:
        for cid, content in self._pending.items():
            self._messages.append({"role": "tool", "tool_call_id": cid, "content": content or ""})
        self._pending = {}

    def _adopt_dangling(self) -> None:
        """Loaded messages ending in an unanswered tool_calls message (a resumed session,
        P6): answer the missing ids as ``interrupted`` so the next request is valid."""
        for i in range(len(self._messages) - 1, -1, -1):
            m = self._messages[i]
            if m.get("role") == "tool":
                continue
            if m.get("role") == "assistant" and m.get("tool_calls"):
                answered = {
                    t.get("tool_call_id")
                    for t in self._messages[i + 1 :]
                    if t.get("role") == "tool"
                }
                missing = [tc["id"] for tc in m["tool_calls"] if tc.get("id") not in answered]
                for cid in missing:
                    self._results[cid] = outcome("interrupted")
                    self._messages.append(
                        {
                            "role": "tool",
                            "tool_call_id": cid,
                            "content": status_message("interrupted"),
                        }
                    )
            break

    # -- compaction -------------------------------------------------------------------

    def compact(self, *, target_tokens: int, keep_last: int = 1) -> int:
        """Replace the content of the oldest tool messages with a short marker until the
        estimate is under ``target_tokens``. The tool messages of the last ``keep_last``
        batches are kept (0 = compact everything). Pairing is untouched. Returns how many
        messages were compacted."""
        batches: list[list[int]] = []
        for i, m in enumerate(self._messages):
            if m.get("role") == "tool":
                if batches and batches[-1] and batches[-1][-1] == i - 1:
                    batches[-1].append(i)
                else:
                    batches.append([i])
        candidates = [i for b in batches[: max(0, len(batches) - keep_last)] for i in b]
        done = 0
        total = self.estimate_tokens()
        for i in candidates:
            if total <= target_tokens:
                break
            m = self._messages[i]
            content = m.get("content") or ""
            if content.startswith(COMPACTED_MARK) or len(content) < 200:
                continue
            marker = f"{COMPACTED_MARK}: {len(content)} characters]"
            total -= estimate_tokens(content) - estimate_tokens(marker)
            self._messages[i] = {**m, "content": marker}
            done += 1
        return done

    def fit_open_batch(
        self, limit_tokens: int, low_water_tokens: int | None = None
    ) -> tuple[int, int]:
        """Shrink the open batch (every result set) so that the conversation, once the
        batch closes, is estimated at most ``limit_tokens``. The newest results matter most:
        older tool outputs are compacted first (oldest first) to give this batch up to half
        of the limit, then the room left is divided fairly across this batch's results
        (:func:`fair_shares`) and each one larger than its share is cut
        (:func:`truncate_to_tokens`). Pairing is untouched. Returns (results cut, older
        outputs compacted).

        When older outputs must give way, they go in one large step: down to
        ``low_water_tokens`` (the whole conversation, this batch included; default: just
        enough), so that the steps after it fit without compacting again and reuse the new
        prefix from the provider's prompt cache (RELIABILITY A20)."""
        if not self._pending or self.estimate_tokens() <= limit_tokens:
            return 0, 0
        ids = list(self._pending)
        sizes = [estimate_tokens(self._pending[cid] or "") for cid in ids]
        results = sum(sizes)
        want = min(results, limit_tokens // 2)
        compacted = 0
        if self.estimate_tokens() - results > limit_tokens - want:
            target = limit_tokens - want + results
            if low_water_tokens is not None:
                target = min(target, low_water_tokens)
            # the open batch is not among the stored messages: keep_last=0 spares only it
            compacted = self.compact(target_tokens=target, keep_last=0)
        room = limit_tokens - (self.estimate_tokens() - results)
        cut = 0
        for cid, size, share in zip(ids, sizes, fair_shares(room, sizes), strict=True):
            if size > share:
                self._pending[cid] = truncate_to_tokens(self._pending[cid] or "", share)
                cut += 1
        return cut, compacted

    def truncate_tool_outputs(self, max_chars: int) -> int:
        """Last resort for A4: cut every tool message (the newest too) to ``max_chars``."""
        done = 0
        for i, m in enumerate(self._messages):
            content = m.get("content") or ""
            if m.get("role") == "tool" and len(content) > max_chars:
                omitted = len(content) - max_chars
                self._messages[i] = {
                    **m,
                    "content": content[:max_chars] + f"\n[truncated: {omitted} characters omitted]",
                }
                done += 1
        return done
