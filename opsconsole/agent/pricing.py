"""What a model's tokens cost, from the price table (``model.price``, ``model.prices``).

The one cost function of opsconsole: the loop prices every request with :func:`cost_usd` and
reports the result in ``UsageReported.cost_usd``; the console's gauge, ``ask`` and ``eval``
show what the loop reported and never price anything again.

Prompt tokens fall into three parts (RELIABILITY A21): served from the provider's prompt cache
(a hit, at ``cached_input_per_mtok``), not served from it (a miss, at ``input_per_mtok``), and
unknown: the provider's ``usage`` said nothing about its cache. Unknown tokens are priced as
misses (an upper bound) and shown as unknown, never as zero hits.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # pragma: no cover
    from opsconsole.config import PriceSettings


def split_prompt(prompt: int, hit: int | None, miss: int | None) -> tuple[int, int, int]:
    """(hit, miss, unknown) prompt tokens of one request from the provider's cache fields
    (``None``: the provider did not send it). One field is enough: the other is the rest."""
    if hit is None and miss is None:
        return 0, 0, max(0, prompt)
    if hit is None:
        hit = max(0, prompt - (miss or 0))
    if miss is None:
        miss = max(0, prompt - hit)
    return hit, miss, 0


def cost_usd(
    price: PriceSettings,
    *,
    cache_hit: int = 0,
    cache_miss: int = 0,
    cache_unknown: int = 0,
    completion: int = 0,
) -> float:
    """USD for these tokens: hits at the cache price, misses and unknown prompt tokens at the
    full input price, completion tokens at the output price."""
    return (
        cache_hit * price.cached_input_per_mtok
        + (cache_miss + cache_unknown) * price.input_per_mtok
        + completion * price.output_per_mtok
    ) / 1_000_000


@dataclass
class CacheTally:
    """Prompt tokens of many requests by cache outcome."""

    hit: int = 0
    miss: int = 0
    unknown: int = 0

    def add(self, hit: int, miss: int, unknown: int) -> None:
        self.hit += hit
        self.miss += miss
        self.unknown += unknown

    @property
    def prompt(self) -> int:
        return self.hit + self.miss + self.unknown

    @property
    def hit_share(self) -> float | None:
        """Hits over the prompt tokens whose outcome is known; None when none is known."""
        known = self.hit + self.miss
        return self.hit / known if known else None

    def describe(self) -> str:
        """``82% cached``, ``cache unknown`` (no cache fields at all), or ``82% cached,
        1,200 tok unknown``; empty before any prompt token."""
        share = self.hit_share
        if share is None:
            return "cache unknown" if self.unknown else ""
        text = f"{share * 100:.0f}% cached"
        if self.unknown:
            text += f", {self.unknown:,} tok unknown"
        return text
