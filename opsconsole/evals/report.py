"""Plain-text output of ``opsconsole eval``: a progress bar, the per-scenario table, totals and
JSON lines. No rich, no textual: ``\\r`` redraws the bar on a terminal, plain lines otherwise."""

from __future__ import annotations

import json
import unicodedata
from typing import IO, Any

from opsconsole.evals.results import EvalReport, ScenarioResult

BAR_WIDTH = 24


def _width(text: str) -> int:
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def _pad(text: str, width: int) -> str:
    return text + " " * max(0, width - _width(text))


def _clip(text: str, width: int) -> str:
    if _width(text) <= width:
        return text
    out, w = "", 0
    for ch in text:
        cw = 2 if unicodedata.east_asian_width(ch) in "WF" else 1
        if w + cw > width - 1:
            break
        out += ch
        w += cw
    return out + "…"


def fmt_tokens(n: int) -> str:
    if n >= 1_000_000:
        return f"{n / 1_000_000:.1f}M"
    if n >= 10_000:
        return f"{n / 1000:.0f}k"
    if n >= 1000:
        return f"{n / 1000:.1f}k"
    return str(n)


class ProgressBar:
    """``[#####-----] 3/16 payment-api-crashloop (en) · get_pod_logs``; redrawn in place with
    ``\\r`` on a terminal, one line per finished scenario otherwise."""

    def __init__(self, stream: IO[str], total: int, *, tty: bool | None = None) -> None:
        self.stream = stream
        self.total = total
        self.done = 0
        self.passed = 0
        if tty is None:
            isatty = getattr(stream, "isatty", None)
            tty = bool(isatty and isatty())
        self.tty = tty
        self._last_len = 0
        self._current = ""

    def _bar(self) -> str:
        filled = int(BAR_WIDTH * self.done / self.total) if self.total else BAR_WIDTH
        return "[" + "#" * filled + "-" * (BAR_WIDTH - filled) + "]"

    def _draw(self, text: str) -> None:
        line = _clip(text, 100)
        pad = " " * max(0, self._last_len - _width(line))
        self.stream.write("\r" + line + pad)
        self.stream.flush()
        self._last_len = _width(line)

    def start(self, scenario: str, lang: str) -> None:
        self._current = f"{scenario} ({lang})"
        if self.tty:
            self._draw(f"{self._bar()} {self.done}/{self.total} {self._current}")

    def step(self, tool: str) -> None:
        if self.tty:
            self._draw(f"{self._bar()} {self.done}/{self.total} {self._current} · {tool}")

    def finish(self, result: ScenarioResult) -> None:
        self.done += 1
        self.passed += result.passed
        mark = result.status.upper()
        line = (
            f"[{self.done}/{self.total}] {result.scenario} ({result.lang}) {mark} "
            f"{result.duration:.1f}s"
        )
        if self.tty:
            self._draw(f"{self._bar()} {self.done}/{self.total} {result.scenario} {mark}")
            if self.done == self.total:
                self.stream.write("\r" + " " * self._last_len + "\r")
                self.stream.flush()
        else:
            self.stream.write(line + "\n")
            self.stream.flush()


COLUMNS = ("SCENARIO", "LANG", "RESULT", "STEPS", "TOKENS", "CACHE", "TIME", "FAILED RULE")


def fmt_cache(share: float | None, unknown: int, offline: bool) -> str:
    """The prompt-cache share of a run: ``82%``, ``?`` when the provider said nothing about
    its cache (unknown, not 0%), ``-`` for the offline planner."""
    if offline:
        return "-"
    if share is None:
        return "?" if unknown else "-"
    return f"{share * 100:.0f}%" + ("+?" if unknown else "")


def render_table(report: EvalReport, *, rule_width: int = 70) -> str:
    rows: list[tuple[str, ...]] = []
    for r in report.results:
        rows.append(
            (
                r.scenario,
                r.lang,
                r.status,
                str(r.steps),
                fmt_tokens(r.tokens),
                fmt_cache(r.cache_hit_share, r.cache_unknown_tokens, report.offline),
                f"{r.duration:.1f}s",
                _clip(r.failed_rule.replace("\n", " "), rule_width),
            )
        )
    widths = [max([_width(c)] + [_width(row[i]) for row in rows]) for i, c in enumerate(COLUMNS)]
    right = {3, 4, 5, 6}

    def line(cells: tuple[str, ...]) -> str:
        out = []
        for i, cell in enumerate(cells):
            if i == len(cells) - 1:
                out.append(cell)
            elif i in right:
                out.append(" " * (widths[i] - _width(cell)) + cell)
            else:
                out.append(_pad(cell, widths[i]))
        return "  ".join(out).rstrip()

    lines = [line(COLUMNS)]
    lines += [line(row) for row in rows]
    lines.append("")
    label = report.model + (
        " (offline, no model API)" if report.offline and "offline" not in report.model else ""
    )
    langs = report.langs if len(report.langs) > 1 else []
    for lang in [*langs, None]:
        t = report.totals(lang)
        name = f"total {lang}" if lang else "TOTAL"
        usage = f"{fmt_tokens(t['tokens'])} tokens"
        if not report.offline:
            cache = fmt_cache(t["cache_hit_share"], t["cache_unknown_tokens"], False)
            usage += f" ({cache} from the prompt cache), ~${t['cost_usd']:.4f}"
        lines.append(
            f"{name}: {t['passed']}/{t['scenarios']} passed ({t['score'] * 100:.0f}%)"
            f"{', ' + str(t['errors']) + ' errors' if t['errors'] else ''}; "
            f"{t['steps']} steps, {usage}, {t['duration']:.1f}s"
        )
    lines.append(f"model: {label}")
    return "\n".join(lines)


def json_line(obj: dict[str, Any]) -> str:
    return json.dumps(obj, ensure_ascii=False, default=str)


def result_line(result: ScenarioResult) -> str:
    d = result.to_dict()
    d = {"type": "result", **d}
    return json_line(d)


def totals_line(report: EvalReport, results_file: str | None) -> str:
    d: dict[str, Any] = {"type": "totals", "model": report.model, "offline": report.offline}
    d.update(report.totals())
    if len(report.langs) > 1:
        d["by_lang"] = {lang: report.totals(lang) for lang in report.langs}
    d["results_file"] = results_file
    return json_line(d)
