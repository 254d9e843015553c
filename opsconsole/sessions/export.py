"""``opsconsole export FILE -o out.md``: a readable Markdown report of an investigation.

The report has the metadata (model, context, time, tokens, outcome), then for each question:
every step, with tool calls and trimmed observations in code blocks, approvals and audits,
errors, and the answer. Built from the recorded (already redacted) session only.
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

from opsconsole.sessions.index import summarize
from opsconsole.sessions.reader import Session
from opsconsole.sessions.replay import ReplayCursor, Step, trim_output

EXPORT_LINES = 60
EXPORT_CHARS = 6000


def _fence(text: str, lang: str = "") -> str:
    """A code block whose fence is longer than any backtick run inside ``text``."""
    longest = run = 0
    for ch in text:
        run = run + 1 if ch == "`" else 0
        longest = max(longest, run)
    fence = "`" * max(3, longest + 1)
    return f"{fence}{lang}\n{text}\n{fence}"


def _one_line(text: str, limit: int = 120) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"


def _md_escape(text: str) -> str:
    return text.replace("|", "\\|")


def _duration(session: Session) -> str:
    if not session.entries:
        return "-"
    first = min(float(session.header.get("ts") or session.entries[0].ts), session.entries[0].ts)
    span = max(0.0, session.entries[-1].ts - first)
    return f"{span:.1f} s" if span < 120 else f"{span / 60:.1f} min"


def _model_label(header: dict[str, Any]) -> str:
    model = str(header.get("model") or "?")
    if header.get("offline") and "offline" not in model:
        model += " (offline planner)"
    return model


def _step_md(step: Step) -> list[str]:
    tag = f" [{step.agent}]" if step.agent not in ("", "ops") else ""
    ev = step.event
    if step.kind == "thought":
        out = [f"**Thought**{tag}"]
        reasoning = getattr(ev, "reasoning", "") if ev is not None else ""
        if reasoning:
            out.append("")
            out.append("> " + "\n> ".join(reasoning.splitlines()))
        text = getattr(ev, "text", "") if ev is not None else step.body
        if text:
            out += ["", text]
        return out
    if step.kind == "action":
        tool = getattr(ev, "tool", "")
        args = getattr(ev, "arguments", {})
        mut = " (mutating)" if getattr(ev, "mutating", False) else ""
        return [
            f"**Action**{tag}: `{tool}`{mut}",
            "",
            _fence(json.dumps(args, ensure_ascii=False, indent=2), "json"),
        ]
    if step.kind == "observation":
        text = trim_output(step.body, EXPORT_LINES, EXPORT_CHARS)
        return [f"**Observation**{tag}: {step.title}", "", _fence(text or "(empty)", "text")]
    if step.kind == "approval_request":
        out = [f"**Approval requested**{tag}: {step.title}"]
        if step.body and step.body != step.title:
            out += ["", _fence(step.body, "text")]
        return out
    if step.kind == "approval":
        return [f"**Approval**{tag}: {step.title}"]
    if step.kind == "audit":
        out = [f"**Audit**{tag}: {step.title}"]
        if step.body:
            out += ["", _fence(trim_output(step.body, 20, 2000), "text")]
        return out
    if step.kind == "answer":
        return [f"### Answer{tag}", "", step.body]
    if step.kind == "error":
        return [f"**Error**{tag}: {step.body}"]
    if step.kind == "dispatch":
        return [f"**Dispatch**{tag}: {step.title}"]
    if step.kind == "interrupted" and step.body:
        return [f"**Interrupted**{tag}: {step.title}", "", _fence(step.body, "text")]
    return [f"**{step.label}**{tag}: {step.title}"]


def to_markdown(session: Session, *, now: float | None = None) -> str:
    """The Markdown report (deterministic for a given file and ``now``)."""
    cursor = ReplayCursor(session)
    summary = summarize(session)
    h = session.header
    title = _one_line(summary.question, 80) or "(no question)"
    lines: list[str] = [f"# Investigation: {title}", ""]
    meta: list[tuple[str, Any]] = [
        ("Started", h.get("started", "")),
        ("Duration", _duration(session)),
        ("Model", _model_label(h)),
        ("Context", (h.get("context") or "-") + (" (sandbox)" if h.get("sandbox") else "")),
        ("Questions", summary.runs),
        ("Model steps", summary.steps),
        ("Tokens", summary.tokens),
        ("Outcome", summary.outcome),
        ("Session", f"`{session.path.name}` (opsconsole {h.get('app_version', '?')})"),
    ]
    lines += ["| | |", "|---|---|"]
    lines += [f"| {k} | {_md_escape(str(v))} |" for k, v in meta]
    if session.warnings:
        lines += ["", "> **Note:** " + "\n> **Note:** ".join(session.warnings)]
    top = {r.run_id for r in cursor.runs}
    run_no = 0
    for step in cursor.steps:
        if step.kind == "question" and step.run_id in top:
            run_no += 1
            lines += ["", f"## Question {run_no}", "", step.body]
            continue
        lines.append("")
        lines += _step_md(step)
    if not cursor.steps:
        lines += ["", "_No steps were recorded._"]
    stamp = time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime(now or time.time()))
    lines += ["", "---", f"_Exported by opsconsole on {stamp}._", ""]
    return "\n".join(lines)


def export_markdown(
    session_path: Path | str, output: Path | str, *, allow_partial: bool = False
) -> Path:
    """Write the report of ``session_path`` to ``output`` (a file, or a directory to put
    ``<session>.md`` in), atomically and 0600; return the file written. For the console's
    export command and the CLI. Raises SessionError / UsageError."""
    from opsconsole.errors import SessionError, UsageError
    from opsconsole.sessions.atomic import atomic_write_text
    from opsconsole.sessions.reader import read_session

    session = read_session(session_path, allow_partial=allow_partial)
    out = Path(output).expanduser()
    if out.is_dir():
        out = out / (session.path.stem + ".md")
    if out.resolve() == session.path.resolve():
        raise UsageError("export: the output would overwrite the session file itself")
    try:
        atomic_write_text(out, to_markdown(session), mode=0o600)
    except OSError as exc:
        raise SessionError(f"cannot write {out}: {exc.strerror or exc}") from None
    return out
