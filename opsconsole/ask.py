"""``opsconsole ask "TASK"``: run one task headless and print every step as it happens.

Plain text by default (Thought / Action / Observation / Answer; ANSI colour only when stdout is
a terminal and ``NO_COLOR`` is unset), or ``--json``: one event per line (``event.to_dict()``).
Exit codes: 0 on an answer, 1 on a failed or cancelled run, 2 on bad usage or configuration.

Headless runs never execute a mutating call (RELIABILITY S6): the approver is
:class:`~opsconsole.agent.approval.DenyAllApprover`, even with ``--write`` (which only lets the
model *propose* changes). ``--write --dry-run`` previews them: each proposed change is dry-run
on the server (:class:`~opsconsole.agent.approval.PreviewApprover`) and printed with its diff
and blast radius, and the cluster connection stays read-only. The offline planner is used with
``--offline`` or when no API key is set, and the built-in sandbox cluster with ``--demo``; both
are announced.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import sys
from typing import IO, TYPE_CHECKING, Any

from opsconsole.agent.events import (
    AgentDispatched,
    AgentEvent,
    Answer,
    ApprovalRequested,
    ApprovalResolved,
    Notice,
    PrefixChanged,
    RetryScheduled,
    RunCancelled,
    RunFailed,
    RunFinished,
    RunStarted,
    Thought,
    ToolCallFinished,
    ToolCallStarted,
)
from opsconsole.agent.pricing import CacheTally
from opsconsole.errors import OpsConsoleError, UsageError
from opsconsole.termsafe import json_line, printable, printable_keeping_sgr

if TYPE_CHECKING:  # pragma: no cover
    from opsconsole.config import Settings

MAX_OBSERVATION_LINES = 40
MAX_OBSERVATION_CHARS = 4000

_STYLES = {
    "dim": "\033[2m",
    "bold": "\033[1m",
    "red": "\033[31m",
    "green": "\033[32m",
    "yellow": "\033[33m",
    "blue": "\033[34m",
    "magenta": "\033[35m",
    "cyan": "\033[36m",
}
_RESET = "\033[0m"


class Printer:
    """Turns events into lines on ``out`` (text or JSON)."""

    def __init__(self, out: IO[str], err: IO[str], *, as_json: bool, color: bool) -> None:
        self.out = out
        self.err = err
        self.as_json = as_json
        self.color = color
        self._started: set[str] = set()
        self._planned: dict[str, str] = {}
        #: runs of the offline planner (no cost, no prompt cache)
        self._offline: set[str] = set()
        #: literal values never printed (the configured API key), replaced by [REDACTED]
        self.secrets: list[str] = []

    def mask(self, text: str) -> str:
        for value in self.secrets:
            if value:
                text = text.replace(value, "[REDACTED]")
        return text

    def _diff_line(self, line: str) -> str:
        if line.startswith(("+++", "---")):
            return self._c("bold", line)
        if line.startswith("+"):
            return self._c("green", line)
        if line.startswith("-"):
            return self._c("red", line)
        if line.startswith("@@"):
            return self._c("cyan", line)
        return line

    def _c(self, style: str, text: str) -> str:
        return f"{_STYLES[style]}{text}{_RESET}" if self.color else text

    def _line(self, text: str = "", *, stream: IO[str] | None = None) -> None:
        """Every line ``ask`` prints: control characters from logs, tool outputs and the
        model made visible (only our own colours survive), and secret values masked."""
        text = self.mask(text)
        safe = (
            json_line(text)
            if self.as_json
            else (printable_keeping_sgr(text) if self.color else printable(text))
        )
        print(safe, file=stream or self.out, flush=True)

    def note(self, text: str, level: str = "info") -> None:
        """A notice from ``ask`` itself (sandbox, offline planner...)."""
        self.event(Notice(run_id="", agent="ask", text=text, level=level))  # type: ignore[arg-type]

    def event(self, ev: AgentEvent) -> None:
        if self.as_json:
            self._line(json.dumps(ev.to_dict(), ensure_ascii=False, default=str))
            return
        if isinstance(ev, AgentDispatched):
            self._line(self._c("bold", f"-> {ev.target} agent: ") + _clip(ev.task, 300))
            return
        if isinstance(ev, RunStarted):
            if ev.offline:
                self._offline.add(ev.run_id)
            label = ev.model or "?"
            if ev.offline and "offline" not in label:
                label += " (offline, no model API)"
            self._line(self._c("dim", f"[{ev.agent}] model: {label}"))
            self._line(self._c("bold", f"Task: {ev.task}"))
        elif isinstance(ev, Thought):
            for call in ev.tool_calls:
                self._planned[str(call.get("id"))] = str(call.get("arguments") or "")
            if ev.reasoning.strip():
                self._line(self._c("dim", "Reasoning: " + _clip(ev.reasoning.strip(), 600)))
            if ev.text.strip():
                self._line(_who(ev) + self._c("cyan", "Thought: ") + ev.text.strip())
        elif isinstance(ev, ToolCallStarted):
            self._started.add(ev.tool_call_id)
            flag = self._c("yellow", " [mutating]") if ev.mutating else ""
            action = _who(ev) + self._c("blue", "Action: ")
            self._line(action + _call_text(ev.tool, ev.arguments) + flag)
        elif isinstance(ev, ToolCallFinished):
            if ev.tool_call_id not in self._started:
                raw = _clip(self._planned.get(ev.tool_call_id, ""), 200)
                self._line(
                    self._c("blue", "Action: ") + f"{ev.tool}({raw}) " + self._c("dim", "(not run)")
                )
            style = "green" if ev.status == "ok" else "red"
            head = self._c(style, f"Observation [{ev.status}]")
            if ev.duration:
                head += self._c("dim", f" ({ev.duration:.2f}s)")
            self._line(_who(ev) + head + ":")
            self._line(_indent(_clip_lines(ev.output)))
        elif isinstance(ev, ApprovalRequested):
            where = f" in {ev.namespace}" if ev.namespace else ""
            ctx = f" (context {ev.context})" if ev.context else ""
            self._line(self._c("yellow", f"Approval needed: {ev.verb} {ev.target}{where}{ctx}"))
            for line in ev.dry_run.strip().splitlines():
                self._line("  " + line)
            for line in ev.diff.splitlines():
                self._line("  " + self._diff_line(line))
            if ev.blast_radius:
                self._line("  " + self._c("bold", "blast radius: ") + ev.blast_radius)
            if ev.confirm:
                self._line("  " + f"approving it in the console takes typing {ev.confirm!r}")
        elif isinstance(ev, ApprovalResolved):
            if ev.source == "preview":
                self._line(self._c("yellow", "  -> not executed (--dry-run)"))
            else:
                self._line(self._c("yellow", f"  -> {ev.decision} ({ev.source})"))
        elif isinstance(ev, RetryScheduled):
            self._line(
                self._c(
                    "yellow",
                    f"Retry in {ev.wait:.1f}s (attempt {ev.attempt}/"
                    f"{ev.max_attempts - 1}): {ev.reason}",
                )
            )
        elif isinstance(ev, Notice):
            style = {"info": "dim", "warning": "yellow", "error": "red"}[ev.level]
            self._line(self._c(style, f"Note: {ev.text}"))
        elif isinstance(ev, Answer):
            self._line(self._c("magenta", "Answer:"))
            self._line(ev.text.strip())
        elif isinstance(ev, PrefixChanged):
            self._line(self._c("yellow", f"Note: prompt cache: {ev.text}"))
        elif isinstance(ev, RunFinished):
            tokens = ev.prompt_tokens + ev.completion_tokens
            parts = [f"{ev.steps} steps", f"{tokens} tokens"]
            if ev.run_id not in self._offline and ev.prompt_tokens:
                parts.append(_cache_text(ev))
                parts.append(f"~${ev.cost_usd:.4f}")
            parts.append(f"{ev.duration:.1f}s")
            self._line(self._c("dim", f"({', '.join(parts)})"))
        elif isinstance(ev, RunFailed):
            self._line(self._c("red", f"Error: {ev.error}"), stream=self.err)
            if ev.hint:
                self._line(f"  hint: {ev.hint}", stream=self.err)
        elif isinstance(ev, RunCancelled):
            self._line(self._c("yellow", f"Cancelled: {ev.reason}"), stream=self.err)


def _cache_text(ev: RunFinished) -> str:
    """The run's prompt-cache share, or that it is unknown (no cache fields: A21)."""
    tally = CacheTally(ev.cache_hit_tokens, ev.cache_miss_tokens, ev.cache_unknown_tokens)
    share = tally.hit_share
    if share is None:
        return "prompt cache unknown (the provider did not say)"
    text = f"{share * 100:.0f}% of the prompt from the provider's cache"
    if tally.unknown:
        text += f" ({tally.unknown} tokens unknown)"
    return text


def _who(ev: AgentEvent) -> str:
    """``[security] `` for a specialist's or the scheduler's step; nothing for the single agent."""
    return "" if ev.agent in ("ops", "ask", "") else f"[{ev.agent}] "


def _clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[:limit] + "…"


def _clip_lines(text: str) -> str:
    text = _clip(text, MAX_OBSERVATION_CHARS)
    lines = text.splitlines() or [""]
    if len(lines) > MAX_OBSERVATION_LINES:
        more = len(lines) - MAX_OBSERVATION_LINES
        lines = lines[:MAX_OBSERVATION_LINES] + [f"… ({more} more lines)"]
    return "\n".join(lines)


def _indent(text: str) -> str:
    return "\n".join("  " + line for line in text.splitlines())


def _call_text(tool: str, args: dict[str, Any]) -> str:
    inner = ", ".join(f"{k}={json.dumps(v, ensure_ascii=False)}" for k, v in args.items())
    return f"{tool}({inner})"


def _use_color(stream: IO[str]) -> bool:
    if os.environ.get("NO_COLOR"):
        return False
    isatty = getattr(stream, "isatty", None)
    return bool(isatty and isatty())


def run(args: argparse.Namespace, settings: Settings) -> int:
    """Entry point of ``opsconsole ask``; returns the process exit code."""
    task = str(getattr(args, "task", "") or "").strip()
    if not task:
        print("ask: the task is empty; say what the agent should do", file=sys.stderr)
        return 2
    printer = Printer(
        sys.stdout,
        sys.stderr,
        as_json=bool(getattr(args, "json", False)),
        color=_use_color(sys.stdout),
    )
    printer.secrets = [settings.model.api_key() or ""]
    try:
        return asyncio.run(_ask(args, settings, task, printer))
    except KeyboardInterrupt:
        return 130
    except OpsConsoleError as exc:
        print(printable(printer.mask(f"error: {exc}")), file=sys.stderr)
        return exc.exit_code


async def _ask(args: argparse.Namespace, settings: Settings, task: str, printer: Printer) -> int:
    from opsconsole.agent.approval import DenyAllApprover, PreviewApprover
    from opsconsole.agent.loop import drive
    from opsconsole.agent.transcript import Conversation
    from opsconsole.errors import NoClusterConfigured
    from opsconsole.runtime import RuntimeOptions, build_runtime

    pods = getattr(args, "pods", None)
    demo = bool(getattr(args, "demo", False))
    if pods and not demo:
        raise UsageError("--pods generates a sandbox cluster: use it with --demo")
    resume = getattr(args, "resume", None)
    options = RuntimeOptions(
        demo=demo,
        pods=pods,
        kubeconfig=getattr(args, "kubeconfig", None),
        context=getattr(args, "context", None),
        namespace=getattr(args, "namespace", None),
        offline=bool(getattr(args, "offline", False)),
        write=bool(getattr(args, "write", False)),
        resume=resume,
        strict=True,
    )
    try:
        rt = build_runtime(settings, options)
    except NoClusterConfigured as exc:
        raise UsageError(exc.message, hint=exc.hint) from None
    with contextlib.closing(rt):
        for note in rt.notes:
            printer.note(_note_text(note.code, note.text, options), note.level)
        preview = bool(getattr(args, "dry_run", False))
        if preview and not rt.write_mode:
            raise UsageError(
                "--dry-run previews the changes the agent would make: use it with --write"
            )
        if preview:
            if rt.cluster is not None:
                rt.cluster.write_mode = False  # only dry runs leave the process
            printer.note(
                "dry run: each change the model proposes is dry-run on the server and shown "
                "with its diff and blast radius; nothing is executed",
                "warning",
            )
        elif rt.write_mode:
            printer.note(
                "write mode: the model may propose changes, but headless runs never "
                "execute them (use the console to approve)",
                "warning",
            )
        conversation = None
        if rt.resumed is not None:
            resumed = rt.resumed
            conversation = Conversation(resumed.messages, results=resumed.results)
            gone = len(resumed.interrupted)
            printer.note(
                f"resuming session {resumed.recorder.path.name}"
                + (f" ({gone} unfinished tool call(s) marked interrupted)" if gone else "")
            )
        team = _wants_team(args, task) and conversation is None
        if team:
            printer.note("multi-agent: the Scheduler routes to the Ops, Security and Coder agents")
        approver = PreviewApprover() if preview else DenyAllApprover()
        loop = rt.runner(approver, team=team, conversation=conversation)
        recorder = rt.recorder

        def on_event(ev: AgentEvent) -> None:
            printer.event(ev)
            if recorder is not None:
                with contextlib.suppress(Exception):
                    recorder.record(ev)

        try:
            terminal = await drive(loop, task, on_event)
        finally:
            if recorder is not None:
                with contextlib.suppress(Exception):
                    recorder.sync_messages(loop.conversation.messages)
            await loop.aclose()
        return 0 if isinstance(terminal, RunFinished) else 1


def _note_text(code: str, text: str, options: Any) -> str:
    """``ask``'s wording of the runtime's notes (the flag it names)."""
    return f"--offline: {text}" if code == "offline" else text


def _wants_team(args: argparse.Namespace, task: str) -> bool:
    """The multi-agent Scheduler: with --team, or when the task addresses an agent (@security)."""
    from opsconsole.team.routing import MENTION_RE

    return bool(getattr(args, "multi_agent", False)) or bool(MENTION_RE.match(task))
