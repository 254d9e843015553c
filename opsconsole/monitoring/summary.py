"""Range query results as one short line per series: min, max, last, the trend (rising,
falling, flat, steps up, sawtooth) and, given a threshold, how often and when it was crossed.

Labels every series shares are said once in the header; a series' own labels are clipped; the
series shown are those with the highest maxima, and the rest are counted. The text stays
within a token budget (:func:`opsconsole.agent.transcript.estimate_tokens`).
"""

from __future__ import annotations

import math
import time as _time
from dataclasses import dataclass
from typing import Any

from opsconsole.agent.transcript import estimate_tokens

LABELS_CHARS = 70
#: samples kept per series for a chart (the local data only; the model reads the summary)
CHART_POINTS = 120


@dataclass(frozen=True)
class SeriesSummary:
    labels: dict[str, str]
    points: int
    first: float
    min: float
    max: float
    last: float
    last_time: float
    trend: str
    #: upward crossings of the threshold, the share of points above it, when it was first and
    #: last above (None without a threshold or never above)
    crossings: int | None = None
    above_share: float | None = None
    first_above: float | None = None
    last_above: float | None = None
    #: at most CHART_POINTS of the series' (time, value) samples, evenly spaced
    samples: tuple[tuple[float, float], ...] = ()

    def to_data(self) -> dict[str, Any]:
        out = {
            "labels": self.labels,
            "points": self.points,
            "min": self.min,
            "max": self.max,
            "last": self.last,
            "first": self.first,
            "last_time": self.last_time,
            "trend": self.trend,
            "samples": [list(p) for p in self.samples],
        }
        if self.crossings is not None:
            out.update(
                crossings=self.crossings,
                above_share=self.above_share,
                first_above=self.first_above,
                last_above=self.last_above,
            )
        return out


def num(v: float) -> str:
    """3 significant digits with k/M/G/T (``125M``, ``0.0312``, ``14``)."""
    if math.isnan(v):
        return "NaN"
    if math.isinf(v):
        return "+Inf" if v > 0 else "-Inf"
    a = abs(v)
    for div, suffix in ((1e12, "T"), (1e9, "G"), (1e6, "M"), (1e3, "k")):
        if a >= div:
            return f"{v / div:.3g}{suffix}"
    if a == int(a):
        return str(int(v))
    return f"{v:.3g}"


def trend(values: list[float]) -> str:
    if len(values) < 2:
        return "one point"
    lo, hi = min(values), max(values)
    span = hi - lo
    if span == 0:
        return "flat"
    ups = sum(1 for a, b in zip(values, values[1:], strict=False) if b > a)
    downs = sum(1 for a, b in zip(values, values[1:], strict=False) if b < a)
    drops = sum(1 for a, b in zip(values, values[1:], strict=False) if a - b > 0.3 * span)
    if downs == 0 and ups <= max(len(values) // 3, 1):
        return f"steps up {ups}x"
    if drops >= 2:
        return f"sawtooth ({drops} drops)"
    q = max(len(values) // 4, 1)
    head = sum(values[:q]) / q
    tail = sum(values[-q:]) / q
    change = (tail - head) / span
    if change > 0.25:
        return "rising"
    if change < -0.25:
        return "falling"
    return "flat"


def summarise(series: dict[str, Any], threshold: float | None) -> SeriesSummary:
    points = [(float(t), float(v)) for t, v in series.get("values") or []]
    values = [v for _, v in points if not math.isnan(v)] or [math.nan]
    crossings = share = first_above = last_above = None
    if threshold is not None:
        above = [(t, v > threshold) for t, v in points]
        crossings = sum(1 for (_, a), (_, b) in zip(above, above[1:], strict=False) if b and not a)
        share = sum(1 for _, a in above if a) / len(above) if above else 0.0
        times = [t for t, a in above if a]
        first_above = times[0] if times else None
        last_above = times[-1] if times else None
    return SeriesSummary(
        labels=dict(series.get("metric") or {}),
        points=len(points),
        first=values[0],
        min=min(values),
        max=max(values),
        last=values[-1],
        last_time=points[-1][0] if points else 0.0,
        trend=trend(values),
        crossings=crossings,
        above_share=share,
        first_above=first_above,
        last_above=last_above,
        samples=tuple(points[:: max(1, math.ceil(len(points) / CHART_POINTS))]),
    )


#: labels a lone series shares with the query's context: said once, in the header
SCRAPE_LABELS = ("__name__", "job", "instance")


def common_labels(items: list[dict[str, str]]) -> dict[str, str]:
    if not items:
        return {}
    if len(items) == 1:
        return {k: v for k, v in items[0].items() if k in SCRAPE_LABELS}
    first = items[0]
    return {k: v for k, v in first.items() if all(i.get(k) == v for i in items[1:])}


def label_text(labels: dict[str, str], skip: dict[str, str]) -> str:
    own = {k: v for k, v in labels.items() if k not in skip and k not in ("uid",)}
    text = ",".join(f"{k}={v}" for k, v in sorted(own.items())) or "{}"
    return text if len(text) <= LABELS_CHARS else text[: LABELS_CHARS - 1] + "…"


def _clock(t: float | None, now: float) -> str:
    if t is None:
        return "-"
    ago = max(now - t, 0)
    return f"{int(ago // 60)}m ago" if ago >= 60 else f"{int(ago)}s ago"


def render(
    query: str,
    summaries: list[SeriesSummary],
    *,
    minutes: float,
    step: float,
    threshold: float | None,
    max_series: int,
    budget_tokens: int,
    now: float | None = None,
) -> tuple[str, list[SeriesSummary]]:
    """The text for a model and the summaries it shows (highest maxima first)."""
    now = _time.time() if now is None else now
    ranked = sorted(summaries, key=lambda s: -(s.max if not math.isnan(s.max) else -1e300))
    common = common_labels([s.labels for s in ranked])
    head = [
        f"{query} over the last {num(minutes)}m (step {num(step)}s): {len(ranked)} series"
        + (f", common labels {label_text(common, {})}" if common else "")
    ]
    if threshold is not None:
        head.append(f"threshold {num(threshold)}: crossings up, share of time above, first above")
    if not ranked:
        head.append("no data in this range")
        return "\n".join(head), []
    shown: list[SeriesSummary] = []
    lines: list[str] = []
    used = estimate_tokens("\n".join(head)) + 20
    for s in ranked[:max_series]:
        line = (
            f"- {label_text(s.labels, common)}: min {num(s.min)} max {num(s.max)} "
            f"last {num(s.last)}, {s.trend}"
        )
        if s.crossings is not None and s.above_share is not None:
            line += (
                f"; >{num(threshold or 0)}: {s.crossings}x, {s.above_share:.0%}, "
                f"first {_clock(s.first_above, now)}"
            )
        cost = estimate_tokens(line) + 1
        if used + cost > budget_tokens:
            break
        used += cost
        lines.append(line)
        shown.append(s)
    rest = len(ranked) - len(shown)
    if rest:
        lines.append(
            f"({rest} more series not shown, lower maxima; narrow the query or aggregate it)"
        )
    return "\n".join(head + lines), shown
