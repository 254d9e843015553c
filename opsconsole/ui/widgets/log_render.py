"""Turning one stored log line into cells: sanitising, timestamps, highlight spans, wrapping.

Pure functions (Rich only), so the log viewer's Line API code stays small and these stay
testable. Wrapping is by terminal cells, not characters, so Chinese (double-width) text wraps
at the right column and a wide character is never split.
"""

from __future__ import annotations

import re

from rich.cells import cell_len, get_character_cell_size
from rich.segment import Segment
from rich.style import Style

TIMESTAMP = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d+)?(?:Z|[+-]\d\d:?\d\d) ?")
"""An RFC 3339 timestamp at the start of a line, as ``kubectl logs --timestamps`` writes."""

LEVEL = re.compile(
    r"\b(?:(?P<error>ERROR|ERR|FATAL|CRITICAL|PANIC|SEVERE|error|fatal|panic)"
    r"|(?P<warn>WARN|WARNING|warn|warning))\b"
    r"|^(?:(?P<klog_error>[EF])|(?P<klog_warn>W))\d{4} \d\d:\d\d:\d\d"
)
"""A log level near the start of a line: ``ERROR``/``level=error``/klog ``E1125 10:00:00``."""

_ANSI = re.compile(r"\x1b(?:\[[0-?]*[ -/]*[@-~]|\][^\x07\x1b]*(?:\x07|\x1b\\)|[@-Z\\-_])")
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")

Span = tuple[int, int, Style]


def display_text(raw: str, show_timestamps: bool) -> tuple[str, int]:
    """The text to show for a stored line, and the length of its visible timestamp (or 0).

    ANSI escape sequences are removed, tabs expanded, other control characters replaced, and
    a leading RFC 3339 timestamp dropped when ``show_timestamps`` is false.
    """
    text = raw
    if "\x1b" in text:
        text = _ANSI.sub("", text)
    if "\t" in text:
        text = text.expandtabs(8)
    if not text.isprintable():
        text = _CONTROL.sub("\ufffd", text)
    m = TIMESTAMP.match(text)
    if m is None:
        return text, 0
    if show_timestamps:
        return text, m.end()
    return text[m.end() :], 0


def level_span(text: str, start: int = 0, window: int = 80) -> tuple[int, int, str] | None:
    """(start, end, "error" | "warn") of the log level token in the line's first characters."""
    m = LEVEL.search(text, start, start + window)
    if m is None:
        return None
    kind = "error" if (m.group("error") or m.group("klog_error")) else "warn"
    if m.group("klog_error") or m.group("klog_warn"):
        return m.start(), m.start() + 5, kind  # the klog header letter and date
    return m.start(), m.end(), kind


def strip_timestamp(raw: str) -> str:
    m = TIMESTAMP.match(raw)
    return raw[m.end() :] if m else raw


def wrap_points(text: str, width: int) -> list[int]:
    """Character offsets where each visual row of ``text`` starts when wrapped at ``width``."""
    width = max(width, 2)
    if text.isascii():
        return list(range(0, max(len(text), 1), width))
    points = [0]
    cells = 0
    for i, ch in enumerate(text):
        w = get_character_cell_size(ch)
        if cells + w > width:
            points.append(i)
            cells = 0
        cells += w
    return points


def row_count(text: str, width: int) -> int:
    """Visual rows ``text`` takes when wrapped at ``width`` cells."""
    width = max(width, 2)
    if text.isascii():
        return max(1, -(-len(text) // width))
    if cell_len(text) <= width:
        return 1
    return len(wrap_points(text, width))


def segments(text: str, start: int, end: int, base: Style, spans: list[Span]) -> list[Segment]:
    """Segments for ``text[start:end]`` with ``spans`` (char ranges) styled over ``base``.

    Later spans win where they overlap (callers order them timestamp < match < current).
    """
    if not spans:
        return [Segment(text[start:end], base)]
    # boundaries inside [start, end)
    cuts = {start, end}
    for s, e, _ in spans:
        if s < end and e > start:
            cuts.add(max(s, start))
            cuts.add(min(e, end))
    points = sorted(cuts)
    out: list[Segment] = []
    for a, b in zip(points, points[1:], strict=False):
        if a >= b:
            continue
        style = base
        for s, e, st in spans:
            if s <= a and b <= e:
                style = style + st
        out.append(Segment(text[a:b], style))
    return out
