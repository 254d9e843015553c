"""A range query's series as a terminal chart (plotext), drawn in the call's trace block.

:func:`range_chart` reads the ``data`` of a ``prometheus_query_range`` result (each shown
series' ``samples``, its labels, the threshold) and draws at most :data:`MAX_LINES` series, the
highest first, with the threshold as a line; nothing for any other tool or a result without
samples. Drawn for one width and kept by the trace's render cache.
"""

from __future__ import annotations

import time
from typing import Any

from rich.text import Text

from opsconsole.monitoring.summary import common_labels, label_text, num

CHART_TOOLS = frozenset({"prometheus_query_range"})
MAX_LINES = 5
HEIGHT = 12
MIN_WIDTH = 40


def range_chart(tool: str, data: dict[str, Any] | None, width: int) -> list[Text]:
    """The chart's lines (empty: nothing to draw)."""
    if tool not in CHART_TOOLS or not data or width < MIN_WIDTH:
        return []
    series = [s for s in data.get("series") or [] if s.get("samples")][:MAX_LINES]
    if not series:
        return []
    import plotext as plt

    now = time.time()
    common = common_labels([s["labels"] for s in series])
    plt.clear_figure()
    plt.plotsize(min(width, 120), HEIGHT)
    plt.theme("clear")
    lo = hi = None
    for s in series:
        xs = [(t - now) / 60 for t, _ in s["samples"]]
        ys = [v for _, v in s["samples"]]
        plt.plot(xs, ys, label=label_text(s["labels"], common)[:40], marker="braille")
        lo = min(ys) if lo is None else min(lo, *ys)
        hi = max(ys) if hi is None else max(hi, *ys)
    threshold = data.get("threshold")
    if isinstance(threshold, int | float):
        plt.hline(threshold)
        hi = max(hi or threshold, threshold)
    if lo is not None and hi is not None:
        ticks = [lo + (hi - lo) * i / 3 for i in range(4)] if hi > lo else [lo]
        plt.yticks(ticks, [num(t) for t in ticks])
    plt.xlabel("minutes ago")
    return [Text.from_ansi(line) for line in plt.build().splitlines()]
