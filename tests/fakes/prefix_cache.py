"""What a provider's prefix cache would serve, for the scripted model server.

DeepSeek (and OpenAI) cache the prompt of every request and serve the longest prefix a new
request shares with any earlier one, in units of 64 tokens; DeepSeek reports it in ``usage`` as
``prompt_cache_hit_tokens`` / ``prompt_cache_miss_tokens``, OpenAI as
``prompt_tokens_details.cached_tokens``. This module does the same arithmetic on a rendering
of the request:

- the prompt is the tool definitions, then every message, each as canonical JSON (sorted keys:
  a provider renders fields by name, so key order is not part of the prefix), one per line;
- tokens are counted at a fixed :data:`CHARS_PER_TOKEN` characters each, so a cache unit is
  :data:`UNIT_CHARS` characters;
- a request hits the longest run of leading units it shares with any earlier request of the
  run (a chain of unit hashes, as vLLM's and DeepSeek's caches key their blocks).

The counts are an estimate of a real tokenizer's, but a consistent one: a byte that changes in
the system prompt, the tools or an older message shows up as lost hits at once.
"""

from __future__ import annotations

import hashlib
import json
import threading
from dataclasses import dataclass
from typing import Any

CHARS_PER_TOKEN = 4
UNIT_TOKENS = 64
UNIT_CHARS = CHARS_PER_TOKEN * UNIT_TOKENS


def render(body: dict[str, Any], messages: int | None = None) -> str:
    """The prompt text of a request (its first ``messages`` messages only, if given)."""
    msgs = list(body.get("messages") or [])
    if messages is not None:
        msgs = msgs[:messages]
    parts = [_canonical(body.get("tools") or [])]
    parts += [_canonical(m) for m in msgs]
    return "\n".join(parts) + "\n"


def _canonical(obj: Any) -> str:
    return json.dumps(obj, ensure_ascii=False, sort_keys=True, separators=(",", ":"))


def tokens(text: str) -> int:
    """Prompt tokens of ``text`` (:data:`CHARS_PER_TOKEN` characters a token, rounded up)."""
    return -(-len(text) // CHARS_PER_TOKEN)


def cacheable(text: str) -> int:
    """Tokens of the whole 64-token units at the start of ``text`` (what a cache can hold)."""
    return len(text) // UNIT_CHARS * UNIT_TOKENS


def _chain(text: str) -> list[bytes]:
    """The hash of every leading unit of ``text``, each covering all units before it."""
    out: list[bytes] = []
    h = hashlib.sha1()
    for start in range(0, len(text) - UNIT_CHARS + 1, UNIT_CHARS):
        h.update(text[start : start + UNIT_CHARS].encode("utf-8", "surrogatepass"))
        out.append(h.digest())
    return out


@dataclass(frozen=True)
class CacheRecord:
    """The accounting of one request."""

    prompt_tokens: int
    hit_tokens: int

    @property
    def miss_tokens(self) -> int:
        return self.prompt_tokens - self.hit_tokens


class PrefixCache:
    """Every unit chain seen in the run; :meth:`account` one request after the other."""

    def __init__(self) -> None:
        self._seen: set[bytes] = set()
        self._lock = threading.Lock()
        self.records: list[CacheRecord] = []

    def account(self, body: dict[str, Any]) -> CacheRecord:
        """Count this request's hits against every earlier one, then remember its units."""
        text = render(body)
        chain = _chain(text)
        with self._lock:
            hit_units = 0
            for digest in chain:
                if digest not in self._seen:
                    break
                hit_units += 1
            self._seen.update(chain)
            prompt = tokens(text)
            record = CacheRecord(prompt, min(prompt, hit_units * UNIT_TOKENS))
            self.records.append(record)
        return record


def usage_fields(record: CacheRecord, shape: str) -> dict[str, Any]:
    """The cache fields of ``usage`` as ``shape`` ("deepseek" or "openai") sends them."""
    if shape == "deepseek":
        return {
            "prompt_cache_hit_tokens": record.hit_tokens,
            "prompt_cache_miss_tokens": record.miss_tokens,
        }
    if shape == "openai":
        return {"prompt_tokens_details": {"cached_tokens": record.hit_tokens, "audio_tokens": 0}}
    raise ValueError(f"unknown usage shape {shape!r} (deepseek or openai)")
