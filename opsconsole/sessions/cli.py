"""Entry points for ``opsconsole sessions``, ``opsconsole replay FILE --print`` and
``opsconsole export FILE -o out.md``. Expected failures raise :class:`SessionError` (or
:class:`UsageError`); ``opsconsole.cli.main`` prints them without a traceback.

A FILE argument is a path, a file name or session id inside the sessions directory, a unique
prefix of one, or ``last`` for the newest session.
"""

from __future__ import annotations

import os
import sys
import time
import unicodedata
from pathlib import Path
from typing import TYPE_CHECKING, Any

from opsconsole.errors import UsageError
from opsconsole.sessions.format import SUFFIX, SessionNotFound

if TYPE_CHECKING:
    from opsconsole.config import Settings


def sessions_directory(settings: Settings | None) -> Path:
    from opsconsole.sessions.recorder import resolve_sessions_dir

    return resolve_sessions_dir(settings)


def resolve_session_path(name: str, directory: Path) -> Path:
    """Find the session ``name`` refers to (see module docstring)."""
    if not name or not name.strip():
        raise UsageError("no session given: pass a session file, id, or `last`")
    direct = Path(name).expanduser()
    if direct.exists():
        return direct
    if os.sep not in name:
        candidates: list[str] = []
        try:
            candidates = sorted(e.name for e in os.scandir(directory) if e.name.endswith(SUFFIX))
        except OSError:
            candidates = []
        if name in ("last", "latest") and candidates:
            return directory / candidates[-1]
        stem = name[: -len(SUFFIX)] if name.endswith(SUFFIX) else name
        exact = [c for c in candidates if c[: -len(SUFFIX)] == stem]
        if exact:
            return directory / exact[0]
        matches = [
            c for c in candidates if c.startswith(stem) or c[: -len(SUFFIX)].endswith("-" + stem)
        ]
        if len(matches) == 1:
            return directory / matches[0]
        if len(matches) > 1:
            raise UsageError(
                f"{name!r} matches {len(matches)} sessions: "
                + ", ".join(matches[:5])
                + (" ..." if len(matches) > 5 else ""),
                hint="give more of the name",
            )
    raise SessionNotFound(
        f"session not found: {name}",
        hint=f"list sessions with `opsconsole sessions` (directory: {directory})",
    )


def _cell_width(text: str) -> int:
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def _fit(text: str, width: int) -> str:
    """Cut ``text`` to ``width`` terminal cells (CJK counts 2) and pad it."""
    text = " ".join(text.split())
    out, used = [], 0
    if _cell_width(text) > width:
        width_left = width - 1
        for ch in text:
            w = 2 if unicodedata.east_asian_width(ch) in "WF" else 1
            if used + w > width_left:
                break
            out.append(ch)
            used += w
        text = "".join(out) + "…"
        used += 1
    else:
        used = _cell_width(text)
    return text + " " * max(0, width - used)


def _local_date(iso: str) -> str:
    import calendar

    try:
        ts = calendar.timegm(time.strptime(iso, "%Y-%m-%dT%H:%M:%SZ"))
        return time.strftime("%Y-%m-%d %H:%M", time.localtime(ts))
    except (ValueError, OverflowError):
        return iso[:16] or "?"


def format_table(summaries: list[Any]) -> str:
    header = ["DATE", "QUESTION", "MODEL", "STEPS", "TOKENS", "OUTCOME", "FILE"]
    widths = [16, 40, 18, 5, 8, 11, 0]
    lines = ["  ".join(_fit(h, w) if w else h for h, w in zip(header, widths, strict=True))]
    for s in summaries:
        question = s.question or (f"({s.problem})" if s.problem else "(no question)")
        cells = [
            _local_date(s.started),
            question,
            s.model or "?",
            str(s.steps),
            str(s.tokens),
            s.outcome,
            s.file,
        ]
        lines.append("  ".join(_fit(c, w) if w else c for c, w in zip(cells, widths, strict=True)))
    return "\n".join(line.rstrip() for line in lines)


def run_sessions(args: Any, settings: Settings | None) -> int:
    """``opsconsole sessions``: a table of recorded sessions, newest first."""
    from opsconsole.sessions.index import list_sessions

    directory = sessions_directory(settings)
    limit = getattr(args, "limit", None)
    summaries = list_sessions(directory, limit=limit if limit and limit > 0 else None)
    if not summaries:
        print(f"no sessions recorded yet in {directory}")
        return 0
    print(format_table(summaries))
    return 0


def _load(args: Any, settings: Settings | None):  # -> Session
    from opsconsole.sessions.reader import read_session

    path = resolve_session_path(str(getattr(args, "file", "") or ""), sessions_directory(settings))
    session = read_session(path, allow_partial=bool(getattr(args, "partial", False)))
    return session


def run_replay_print(args: Any, settings: Settings | None) -> int:
    """``opsconsole replay FILE --print``: every step, in order; no model, no cluster."""
    from opsconsole.sessions.replay import render_text
    from opsconsole.termsafe import printable

    session = _load(args, settings)
    text = printable(render_text(session))  # recorded logs and answers: no terminal escapes
    try:
        sys.stdout.write(text)
        sys.stdout.flush()
    except BrokenPipeError:  # `| head`
        try:
            sys.stdout = open(os.devnull, "w")  # noqa: SIM115 - silence the exit flush
        except OSError:
            pass
    return 0


def run_export(args: Any, settings: Settings | None) -> int:
    """``opsconsole export FILE -o out.md``: a Markdown report (``-o -`` for stdout)."""
    from opsconsole.sessions.export import export_markdown, to_markdown

    output = getattr(args, "output", None)
    if not output:
        raise UsageError("export: say where to write the report with -o FILE")
    partial = bool(getattr(args, "partial", False))
    if output == "-":
        from opsconsole.termsafe import printable

        sys.stdout.write(printable(to_markdown(_load(args, settings))))
        return 0
    path = resolve_session_path(str(getattr(args, "file", "") or ""), sessions_directory(settings))
    out = export_markdown(path, output, allow_partial=partial)
    print(f"exported {path.name} to {out}")
    return 0
