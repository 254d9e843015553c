"""Results of ``opsconsole eval --tasks``: each run of a task, pass@1 / pass@N / pass^N per
task and in total, the table and the versioned JSON results file.

With ``n`` runs of which ``c`` passed, the unbiased estimators are
``pass@k = 1 - C(n-c, k) / C(n, k)`` (at least one of k runs passes) and
``pass^k = C(c, k) / C(n, k)`` (all k runs pass); for ``k = n`` they are 1 when some run
(pass@n) or every run (pass^n) passed, and both are ``c / n`` for ``k = 1``. A task that could
not be loaded counts as failed in every figure. Totals are the mean over the tasks.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field, fields
from math import comb
from pathlib import Path
from typing import Any

FORMAT = "opsconsole-eval-tasks"
VERSION = 1


def pass_at_k(n: int, c: int, k: int) -> float:
    """The chance that at least one of ``k`` runs drawn from ``n`` (``c`` passed) passes."""
    if n <= 0 or not 1 <= k <= n:
        return 0.0
    return 1.0 - comb(n - c, k) / comb(n, k)


def pass_hat_k(n: int, c: int, k: int) -> float:
    """The chance that all ``k`` runs drawn from ``n`` (``c`` passed) pass."""
    if n <= 0 or not 1 <= k <= n:
        return 0.0
    return comb(c, k) / comb(n, k)


@dataclass
class RunOutcome:
    """One run of one task: setup, agent, verifier, cleanup."""

    run: int
    #: pass | fail | error (setup failed, the agent or the harness broke)
    status: str = "error"
    #: where it stopped: setup | agent | verifier | expect | "" (passed)
    phase: str = ""
    error: str = ""
    verifier_exit: int | None = None
    verifier_output: str = ""
    expect: list[dict[str, Any]] = field(default_factory=list)
    answer: str = ""
    run_status: str = ""
    steps: int = 0
    tokens: int = 0
    tool_calls: list[dict[str, Any]] = field(default_factory=list)
    #: every mutating call the harness approved: tool, verb, kind, name, namespace
    approvals: list[dict[str, Any]] = field(default_factory=list)
    cleanup_error: str = ""
    duration: float = 0.0

    @property
    def passed(self) -> bool:
        return self.status == "pass"

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> RunOutcome:
        return cls(**{f.name: d[f.name] for f in fields(cls) if f.name in d})

    def to_dict(self) -> dict[str, Any]:
        return {
            "run": self.run,
            "status": self.status,
            "phase": self.phase,
            "error": self.error,
            "verifier_exit": self.verifier_exit,
            "verifier_output": self.verifier_output,
            "expect": self.expect,
            "answer": self.answer,
            "run_status": self.run_status,
            "steps": self.steps,
            "tokens": self.tokens,
            "tool_calls": self.tool_calls,
            "approvals": self.approvals,
            "cleanup_error": self.cleanup_error,
            "duration": round(self.duration, 3),
        }


@dataclass
class TaskResult:
    task: str
    difficulty: str = ""
    runs: list[RunOutcome] = field(default_factory=list)
    #: the task could not be loaded (no task.yaml, a script missing or not executable, ...)
    error: str = ""

    @property
    def passed(self) -> int:
        return sum(1 for r in self.runs if r.passed)

    def figures(self, n: int) -> dict[str, float]:
        """pass@1, pass@n, pass^n over ``n`` runs (a task that did not load: all 0)."""
        runs, c = len(self.runs), self.passed
        if self.error or runs == 0:
            return {"pass@1": 0.0, f"pass@{n}": 0.0, f"pass^{n}": 0.0}
        return {
            "pass@1": pass_at_k(runs, c, 1),
            f"pass@{n}": pass_at_k(runs, c, min(n, runs)),
            f"pass^{n}": pass_hat_k(runs, c, min(n, runs)),
        }

    @property
    def first_failure(self) -> str:
        if self.error:
            return self.error
        for r in self.runs:
            if not r.passed:
                return f"run {r.run}: {r.phase}" + (f": {r.error}" if r.error else "")
        return ""

    @property
    def duration(self) -> float:
        return sum(r.duration for r in self.runs)

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> TaskResult:
        return cls(
            task=str(d["task"]),
            difficulty=str(d.get("difficulty") or ""),
            runs=[RunOutcome.from_dict(r) for r in d.get("runs") or []],
            error=str(d.get("error") or ""),
        )

    def to_dict(self, n: int) -> dict[str, Any]:
        return {
            "task": self.task,
            "difficulty": self.difficulty,
            "error": self.error,
            "passed": self.passed,
            **{k: round(v, 4) for k, v in self.figures(n).items()},
            "runs": [r.to_dict() for r in self.runs],
        }


@dataclass
class TaskReport:
    """A whole ``eval --tasks`` run."""

    model: str
    offline: bool
    runs: int
    #: "sandbox" (a fresh sandbox per run) or the context of ``--cluster``
    cluster: str = "sandbox"
    base_url: str = ""
    tasks_dir: str = ""
    started: str = ""
    finished: str = ""
    app_version: str = ""
    results: list[TaskResult] = field(default_factory=list)

    def totals(self) -> dict[str, Any]:
        n = self.runs
        keys = ("pass@1", f"pass@{n}", f"pass^{n}")
        figs = [r.figures(n) for r in self.results]
        count = len(self.results) or 1
        return {
            "tasks": len(self.results),
            "runs": sum(len(r.runs) for r in self.results),
            "passed_runs": sum(r.passed for r in self.results),
            "errors": sum(1 for r in self.results if r.error),
            **{k: round(sum(f[k] for f in figs) / count, 4) for k in keys},
            "duration": round(sum(r.duration for r in self.results), 3),
        }

    @property
    def ok(self) -> bool:
        return bool(self.results) and all(
            not r.error and r.runs and r.passed == len(r.runs) for r in self.results
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "format": FORMAT,
            "version": VERSION,
            "started": self.started,
            "finished": self.finished,
            "app_version": self.app_version,
            "model": self.model,
            "base_url": self.base_url,
            "offline": self.offline,
            "cluster": self.cluster,
            "tasks_dir": self.tasks_dir,
            "runs": self.runs,
            "results": [r.to_dict(self.runs) for r in self.results],
            "totals": self.totals(),
        }


def load_task_results(path: Path) -> TaskReport | None:
    """An ``eval --tasks`` results file read back; None when the file is of another format
    (the scenario suite's). Refuses a newer version and a malformed file."""
    from opsconsole.evals.results import ResultsFileError

    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None  # the scenario suite's reader says what is wrong with it
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        return None
    version = data.get("version")
    if not isinstance(version, int) or version > VERSION:
        raise ResultsFileError(
            f"{path} has task results format version {version!r}; this opsconsole reads up to "
            f"{VERSION}",
            hint="upgrade opsconsole to read it",
        )
    try:
        return TaskReport(
            model=str(data.get("model") or ""),
            offline=bool(data.get("offline")),
            runs=int(data["runs"]),
            cluster=str(data.get("cluster") or "sandbox"),
            base_url=str(data.get("base_url") or ""),
            tasks_dir=str(data.get("tasks_dir") or ""),
            started=str(data.get("started") or ""),
            finished=str(data.get("finished") or ""),
            app_version=str(data.get("app_version") or ""),
            results=[TaskResult.from_dict(r) for r in data.get("results") or []],
        )
    except (KeyError, TypeError, ValueError) as exc:
        raise ResultsFileError(f"{path}: a task result is malformed ({exc})") from None


def _pct(x: float) -> str:
    return f"{x * 100:.0f}%"


def render_task_table(report: TaskReport) -> str:
    """One row per task, then TOTAL; plain text (the same as the JSON's figures). With one run
    per task pass@1 is the only figure shown."""
    from opsconsole.evals.report import _clip, _pad, _width

    n = report.runs
    keys = ["pass@1"] if n == 1 else ["pass@1", f"pass@{n}", f"pass^{n}"]
    head = ("TASK", "LEVEL", "PASSED", *(k.upper() for k in keys), "TIME", "FAILED")
    rows: list[tuple[str, ...]] = []
    for r in report.results:
        f = r.figures(n)
        rows.append(
            (
                r.task,
                r.difficulty,
                "error" if r.error else f"{r.passed}/{len(r.runs)}",
                *(_pct(f[k]) for k in keys),
                f"{r.duration:.1f}s",
                _clip(r.first_failure.replace("\n", " "), 70),
            )
        )
    t = report.totals()
    rows.append(
        (
            f"TOTAL ({t['tasks']} tasks)",
            "",
            f"{t['passed_runs']}/{t['runs']}",
            *(_pct(t[k]) for k in keys),
            f"{t['duration']:.1f}s",
            f"{t['errors']} not loaded" if t["errors"] else "",
        )
    )
    widths = [max([_width(h)] + [_width(row[i]) for row in rows]) for i, h in enumerate(head)]
    return "\n".join(
        "  ".join(_pad(c, widths[i]) for i, c in enumerate(row)).rstrip() for row in [head, *rows]
    )
