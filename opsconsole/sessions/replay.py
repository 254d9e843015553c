"""Replay: a recorded session as ordered steps, a cursor the console drives, and the text
``opsconsole replay FILE --print`` shows. Nothing here talks to a model or a cluster (P8):
replay only reads the file; it never imports ``openai`` or ``kubernetes``.

Steps. :func:`build_steps` turns the session's entries (events, approvals, audits, snapshots)
into :class:`Step` s a person reads: Question, Thought, Action, Observation, Approval request,
Approval, Answer, Error, Cancelled, Finished, Notice, Retry, Dispatch, Audit, Resumed, and
Interrupted (a run with no end in the file). Each step owns a contiguous slice
``entries[step.start:step.end]``: the streaming deltas before it and the usage reports and
snapshots right after it, so applying the slices in order reproduces the live stream exactly.

The console's player (``ReplayCursor``)::

    cur = ReplayCursor(read_session(path))
    while not cur.at_end:
        await asyncio.sleep(cur.delay_before(cur.position, speed))  # speed 1, 4 or None
        step = cur.forward()                 # the next Step; position += 1
        for entry in cur.entries_of(step):   # feed entry.event / entry.data to the widgets
            ...
    cur.back()                                # position -= 1: clear the widgets, then
    for entry in cur.entries_until():         # re-apply everything up to the new position
        ...
    cur.seek(n)                               # jump; same re-apply pattern
    pods, logs = cur.latest_snapshots()       # last pod / log snapshot at the position

``cur.runs`` groups steps per top-level run (one user question each) for a "next question"
jump. ``cur.position`` counts applied steps: 0 = nothing shown, ``len(cur.steps)`` = all.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

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
from opsconsole.sessions.reader import Entry, Session

#: at speed 1x a pause between two steps never exceeds this (the user was away...)
MAX_GAP = 3.0
OBSERVATION_LINES = 40
OBSERVATION_CHARS = 4000

# entries that attach to the next step (they stream it) vs. to the step before (they follow)
_FORWARD_EVENTS = {"step_started", "text_delta", "reasoning_delta"}


@dataclass(slots=True)
class Step:
    index: int
    kind: str  # question | subtask | thought | action | observation | approval_request | approval |
    #            answer | error | cancelled | finished | notice | retry | dispatch | audit |
    #            resumed | interrupted
    title: str
    body: str
    run_id: str
    agent: str
    ts: float
    start: int
    end: int
    tool_call_id: str | None = None
    event: AgentEvent | None = None
    data: dict[str, Any] | None = None

    @property
    def label(self) -> str:
        return _LABELS.get(self.kind, self.kind.title())


_LABELS = {
    "question": "Question",
    "subtask": "Sub-task",
    "thought": "Thought",
    "action": "Action",
    "observation": "Observation",
    "approval_request": "Approval requested",
    "approval": "Approval",
    "answer": "Answer",
    "error": "Error",
    "cancelled": "Cancelled",
    "finished": "Finished",
    "notice": "Notice",
    "retry": "Retry",
    "dispatch": "Dispatch",
    "audit": "Audit",
    "resumed": "Resumed",
    "interrupted": "Interrupted",
}


@dataclass
class RunInfo:
    run_id: str
    task: str
    agent: str
    first_step: int
    last_step: int
    outcome: str = "interrupted"  # answered | failed | cancelled | interrupted


def _args_text(arguments: Any) -> str:
    try:
        return json.dumps(arguments, ensure_ascii=False, sort_keys=True)
    except (TypeError, ValueError):
        return str(arguments)


def trim_output(text: str, lines: int = OBSERVATION_LINES, chars: int = OBSERVATION_CHARS) -> str:
    """At most ``lines`` lines / ``chars`` characters, with a marker saying what was cut."""
    all_lines = text.splitlines()
    kept = all_lines[:lines]
    out = "\n".join(kept)
    cut_lines = len(all_lines) - len(kept)
    if len(out) > chars:
        out = out[:chars]
        return out + f"\n… [{len(text) - chars} more characters]"
    if cut_lines > 0:
        out += f"\n… [{cut_lines} more lines]"
    return out


def _classify(entry: Entry, approvals_seen: set[str]) -> tuple[str, str, str] | None:
    """(kind, title, body) if the entry is a step, None if it folds into a neighbour."""
    ev = entry.event
    if ev is not None:
        if isinstance(ev, RunStarted):
            if ev.parent_run_id:
                return ("subtask", ev.task, ev.task)
            return ("question", ev.task, ev.task)
        if isinstance(ev, Thought):
            body = ev.text
            if ev.reasoning:
                body = f"(reasoning) {ev.reasoning}\n{ev.text}".strip()
            return ("thought", ev.text or ev.reasoning, body)
        if isinstance(ev, ToolCallStarted):
            title = f"{ev.tool} {_args_text(ev.arguments)}"
            return ("action", title, title)
        if isinstance(ev, ToolCallFinished):
            dur = f", {ev.duration:.2f}s" if ev.duration else ""
            return ("observation", f"{ev.tool} [{ev.status}{dur}]", ev.output)
        if isinstance(ev, ApprovalRequested):
            ns = f" in {ev.namespace}" if ev.namespace else ""
            ctx = f" (context {ev.context})" if ev.context else ""
            title = f"{ev.verb} {ev.target}{ns}{ctx}"
            radius = f"blast radius: {ev.blast_radius}" if ev.blast_radius else ""
            parts = [ev.dry_run, ev.diff, radius]
            return ("approval_request", title, "\n".join(p for p in parts if p) or title)
        if isinstance(ev, ApprovalResolved):
            if ev.tool_call_id in approvals_seen:
                return None  # already shown from the audit hook's approval record
            approvals_seen.add(ev.tool_call_id)
            return ("approval", f"{ev.decision} (by {ev.source})", "")
        if isinstance(ev, Answer):
            return ("answer", ev.text, ev.text)
        if isinstance(ev, RunFailed):
            hint = f"\nhint: {ev.hint}" if ev.hint else ""
            return ("error", f"{ev.error_type}: {ev.error}", f"{ev.error}{hint}")
        if isinstance(ev, RunCancelled):
            return ("cancelled", ev.reason, ev.reason)
        if isinstance(ev, RunFinished):
            tokens = ev.prompt_tokens + ev.completion_tokens
            title = f"{ev.steps} steps, {tokens} tokens, {ev.duration:.1f}s"
            return ("finished", title, title)
        if isinstance(ev, Notice):
            return ("notice", f"{ev.level}: {ev.text}", ev.text)
        if isinstance(ev, PrefixChanged):
            return ("notice", f"prompt cache: {ev.text}", ev.text)
        if isinstance(ev, RetryScheduled):
            title = f"attempt {ev.attempt}/{ev.max_attempts} in {ev.wait:.1f}s: {ev.reason}"
            return ("retry", title, title)
        if isinstance(ev, AgentDispatched):
            return ("dispatch", f"{ev.target}: {ev.task}", ev.task)
        return None  # deltas, step_started, usage
    data = entry.data or {}
    if entry.kind == "audit":
        status = f" -> {data['status']}" if data.get("status") else ""
        src = data.get("approval_source") or data.get("decision") or "?"
        ctx = f" context={data.get('context')}" if data.get("context") else ""
        title = (
            f"{data.get('phase', '')} {data.get('tool', '')} "
            f"{_args_text(data.get('arguments', {}))}{ctx} approved by {src}{status}"
        )
        return ("audit", title, str(data.get("output") or ""))
    if entry.kind == "approval":
        if str(data.get("tool_call_id")) in approvals_seen:
            return None
        approvals_seen.add(str(data.get("tool_call_id")))
        title = f"{data.get('decision')} {data.get('tool')} (by {data.get('source')})"
        return ("approval", title, "")
    if entry.kind == "resumed":
        return ("resumed", f"session resumed ({data.get('at', '')})", "")
    return None  # snapshots


def build_steps(session: Session) -> list[Step]:
    """The session's steps in order (see module docstring)."""
    entries = session.entries
    steps: list[Step] = []
    approvals_seen: set[str] = set()
    pending_start = 0
    open_step: Step | None = None
    run_id, agent = "", str(session.header.get("agent", "ops"))
    open_runs: dict[str, str] = {}  # run_id -> agent, runs without a terminal event
    for i, entry in enumerate(entries):
        ev = entry.event
        if ev is not None:
            run_id, agent = ev.run_id, ev.agent
            if isinstance(ev, RunStarted):
                open_runs[ev.run_id] = ev.agent
            elif isinstance(ev, RunFinished | RunFailed | RunCancelled):
                open_runs.pop(ev.run_id, None)
        if entry.kind == "resumed":
            # runs still open when the session was resumed were interrupted
            if open_runs:
                _close_open_runs(steps, open_runs, entries, pending_start, i, entry.ts)
                pending_start = i
            open_step = None
        cls = _classify(entry, approvals_seen)
        if cls is not None:
            kind, title, body = cls
            step = Step(
                index=len(steps),
                kind=kind,
                title=title,
                body=body,
                run_id=run_id,
                agent=agent,
                ts=entry.ts,
                start=pending_start,
                end=i + 1,
                tool_call_id=getattr(ev, "tool_call_id", None)
                if ev is not None
                else (entry.data or {}).get("tool_call_id"),
                event=ev,
                data=entry.data,
            )
            steps.append(step)
            open_step = step
            pending_start = i + 1
        elif (
            open_step is not None
            and open_step.end == i
            and not (ev is not None and ev.kind in _FORWARD_EVENTS)
        ):
            open_step.end = i + 1
            pending_start = i + 1
        else:
            open_step = None
    n = len(entries)
    if open_runs:
        last_ts = entries[-1].ts if entries else 0.0
        _close_open_runs(steps, open_runs, entries, pending_start, n, last_ts)
    elif pending_start < n:
        if steps:
            steps[-1].end = n
        else:
            steps.append(_interrupted(0, run_id, agent, entries[-1].ts, 0, end=n))
    return steps


def _close_open_runs(
    steps: list[Step],
    open_runs: dict[str, str],
    entries: list[Entry],
    start: int,
    end: int,
    ts: float,
) -> None:
    """An Interrupted step per run that never ended; the first takes the pending entries
    (the deltas that streamed before the app stopped) and shows their text."""
    for rid, ag in list(open_runs.items()):
        partial = "".join(
            getattr(e.event, "text", "")
            for e in entries[start:end]
            if e.event is not None and e.event.run_id == rid and e.event.kind == "text_delta"
        )
        steps.append(_interrupted(len(steps), rid, ag, ts, start, end=end, partial=partial))
        start = end
    open_runs.clear()


def _interrupted(
    index: int,
    run_id: str,
    agent: str,
    ts: float,
    start: int,
    *,
    end: int | None = None,
    partial: str = "",
) -> Step:
    body = f"partial output: {partial}" if partial else ""
    return Step(
        index=index,
        kind="interrupted",
        title="the run ended without finishing (the app stopped or was killed)",
        body=body,
        run_id=run_id,
        agent=agent,
        ts=ts,
        start=start,
        end=start if end is None else end,
    )


def build_runs(steps: list[Step], session: Session) -> list[RunInfo]:
    """Top-level runs (one user question each) and their step ranges."""
    parents: dict[str, str | None] = {}
    for ev in session.events:
        if isinstance(ev, RunStarted):
            parents[ev.run_id] = ev.parent_run_id

    def top(rid: str) -> str:
        seen = 0
        while parents.get(rid) and seen < 50:
            rid = str(parents[rid])
            seen += 1
        return rid

    runs: list[RunInfo] = []
    by_id: dict[str, RunInfo] = {}
    for step in steps:
        rid = top(step.run_id)
        info = by_id.get(rid)
        if info is None:
            task = step.body if step.kind == "question" else ""
            info = RunInfo(rid, task, step.agent, step.index, step.index)
            by_id[rid] = info
            runs.append(info)
        info.last_step = step.index
        if step.run_id == rid:
            if step.kind == "finished":
                info.outcome = "answered" if info.outcome != "failed" else info.outcome
            elif step.kind == "error":
                info.outcome = "failed"
            elif step.kind == "cancelled":
                info.outcome = "cancelled"
            elif step.kind == "interrupted":
                info.outcome = "interrupted"
    return runs


@dataclass
class ReplayCursor:
    """A position in a recorded session's steps (see module docstring)."""

    session: Session
    steps: list[Step] = field(init=False)
    runs: list[RunInfo] = field(init=False)
    position: int = 0

    def __post_init__(self) -> None:
        self.steps = build_steps(self.session)
        self.runs = build_runs(self.steps, self.session)

    @property
    def entries(self) -> list[Entry]:
        return self.session.entries

    @property
    def at_start(self) -> bool:
        return self.position <= 0

    @property
    def at_end(self) -> bool:
        return self.position >= len(self.steps)

    def forward(self) -> Step | None:
        """The next step (apply ``entries_of(step)``), or None at the end."""
        if self.at_end:
            return None
        step = self.steps[self.position]
        self.position += 1
        return step

    def back(self) -> int:
        """One step back; the caller clears its widgets and re-applies ``entries_until()``."""
        self.position = max(0, self.position - 1)
        return self.position

    def seek(self, position: int) -> int:
        self.position = max(0, min(len(self.steps), position))
        return self.position

    def seek_run(self, run_index: int) -> int:
        """Position just after the first step (the question) of run ``run_index``."""
        if not self.runs:
            return self.seek(0)
        run = self.runs[max(0, min(len(self.runs) - 1, run_index))]
        return self.seek(run.first_step + 1)

    def current_run(self) -> RunInfo | None:
        if not self.runs or self.position == 0:
            return None
        idx = self.position - 1
        for run in self.runs:
            if run.first_step <= idx <= run.last_step:
                return run
        return self.runs[-1]

    def entries_of(self, step: Step) -> list[Entry]:
        return self.session.entries[step.start : step.end]

    def entries_until(self, position: int | None = None) -> list[Entry]:
        """Every entry up to and including step ``position - 1`` (default: the position)."""
        pos = self.position if position is None else position
        if pos <= 0 or not self.steps:
            return []
        return self.session.entries[: self.steps[min(pos, len(self.steps)) - 1].end]

    def delay_before(self, index: int, speed: float | None) -> float:
        """Seconds to wait before showing step ``index`` at ``speed`` (None = instant)."""
        if speed is None or speed <= 0 or index <= 0 or index >= len(self.steps):
            return 0.0
        gap = self.steps[index].ts - self.steps[index - 1].ts
        return max(0.0, min(MAX_GAP, gap)) / speed

    def latest_snapshots(
        self, position: int | None = None
    ) -> tuple[dict[str, Any] | None, dict[str, Any] | None]:
        """The last pods and logs snapshots applied at ``position``."""
        pods = logs = None
        for entry in self.entries_until(position):
            if entry.kind == "snapshot" and entry.data:
                if entry.data.get("kind") == "pods":
                    pods = entry.data
                elif entry.data.get("kind") == "logs":
                    logs = entry.data
        return pods, logs


def pod_rows_from_snapshot(snapshot: dict[str, Any]) -> list[Any]:
    """Rebuild ``opsconsole.k8s.models.PodRow`` objects from a pods snapshot."""
    from opsconsole.k8s.models import ContainerRow, PodRow

    c_names = set(ContainerRow.__dataclass_fields__)
    p_names = set(PodRow.__dataclass_fields__) - {"containers", "packed"}
    rows = []
    for item in snapshot.get("rows") or []:
        if not isinstance(item, dict):
            continue
        try:
            containers = [
                ContainerRow(**{k: v for k, v in c.items() if k in c_names})
                for c in item.get("containers") or []
                if isinstance(c, dict)
            ]
            row = PodRow(**{k: v for k, v in item.items() if k in p_names})
        except TypeError:
            continue
        row.containers = containers
        rows.append(row)
    return rows


# --- headless text --------------------------------------------------------------------


def _indent(text: str, prefix: str = "    ") -> str:
    return "\n".join(prefix + line for line in text.splitlines()) if text else ""


def render_header(session: Session) -> list[str]:
    h = session.header
    bits = [f"session {session.path.name}", f"model {h.get('model') or '?'}"]
    if h.get("offline") and "offline" not in str(h.get("model") or ""):
        bits.append("offline planner")
    if h.get("context"):
        bits.append(f"context {h.get('context')}")
    if h.get("sandbox"):
        bits.append("sandbox")
    bits.append(f"started {h.get('started', '?')}")
    lines = [" · ".join(bits)]
    for warning in session.warnings:
        lines.append(f"warning: {warning}")
    return lines


def render_step(step: Step, *, show_agent: bool = False) -> str:
    tag = f"[{step.agent}] " if show_agent else ""
    if step.kind == "observation":
        text = trim_output(step.body)
        return f"{tag}Observation: {step.title}" + (f"\n{_indent(text)}" if text else "")
    if step.kind in ("thought", "answer", "error") and "\n" in step.body:
        return f"{tag}{step.label}:\n{_indent(step.body)}"
    if step.kind in ("thought", "error"):
        return f"{tag}{step.label}: {step.body}"
    if step.kind == "audit" and step.body:
        return f"{tag}Audit: {step.title}\n{_indent(trim_output(step.body, 10, 1000))}"
    if step.kind == "approval_request" and step.body and step.body != step.title:
        return f"{tag}Approval requested: {step.title}\n{_indent(step.body)}"
    if step.kind == "interrupted" and step.body:
        return f"{tag}Interrupted: {step.title}\n{_indent(step.body)}"
    return f"{tag}{step.label}: {step.title}"


def render_text(session: Session) -> str:
    """What ``opsconsole replay FILE --print`` prints: deterministic for a given file."""
    cursor = ReplayCursor(session)
    agents = {s.agent for s in cursor.steps}
    show_agent = len(agents) > 1
    out = render_header(session)
    run_no = 0
    top_ids = {r.run_id for r in cursor.runs}
    for step in cursor.steps:
        if step.kind == "question" and step.run_id in top_ids:
            run_no += 1
            out.append("")
            out.append(f"── run {run_no} " + "─" * 40)
        out.append(render_step(step, show_agent=show_agent))
    if not cursor.steps:
        out.append("(no steps recorded)")
    return "\n".join(out) + "\n"
