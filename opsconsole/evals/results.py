"""Eval results: one :class:`ScenarioResult` per (scenario, language) run, an
:class:`EvalReport` for a whole run, and the versioned JSON results file.

The file (``FORMAT``, ``VERSION`` 1)::

    {"format": "opsconsole-eval", "version": 1, "started": "...Z", "finished": "...Z",
     "app_version": "0.1.0", "model": "deepseek-chat", "base_url": "...", "offline": false,
     "langs": ["en"], "results": [ScenarioResult.to_dict(), ...], "totals": {...}}

Readers ignore unknown keys; a newer ``version`` or another ``format`` is refused with a clear
message. Answers are stored after :func:`opsconsole.redact.redact` (never a secret).
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from opsconsole.errors import OpsConsoleError
from opsconsole.evals.judge import Check

FORMAT = "opsconsole-eval"
VERSION = 1
MAX_ANSWER_CHARS = 20_000


class ResultsFileError(OpsConsoleError):
    exit_code = 2


@dataclass
class ScenarioResult:
    scenario: str
    lang: str
    #: "pass" | "fail" | "error" (the harness or the run itself broke)
    status: str
    title: str = ""
    agent: str = "ops"
    #: "loop" (one AgentLoop), "scheduler" (the multi-agent team) or "specialist"
    runner: str = "loop"
    question: str = ""
    answer: str = ""
    checks: list[Check] = field(default_factory=list)
    #: the run's end: "finished" | "failed" | "cancelled" | "timeout" | "error"
    run_status: str = "finished"
    error: str = ""
    steps: int = 0
    prompt_tokens: int = 0
    completion_tokens: int = 0
    duration: float = 0.0
    tool_calls: list[dict[str, Any]] = field(default_factory=list)
    approvals: int = 0
    #: the run's prompt tokens served from the provider's prompt cache, not served, and
    #: unknown (the provider did not say), every agent of a team included; its cost in USD
    cache_hit_tokens: int = 0
    cache_miss_tokens: int = 0
    cache_unknown_tokens: int = 0
    cost_usd: float = 0.0

    @property
    def passed(self) -> bool:
        return self.status == "pass"

    @property
    def cache_hit_share(self) -> float | None:
        """Cache hits over the prompt tokens whose outcome is known (None: none is known)."""
        return _share(self.cache_hit_tokens, self.cache_miss_tokens)

    @property
    def tokens(self) -> int:
        return self.prompt_tokens + self.completion_tokens

    @property
    def failed_rule(self) -> str:
        if self.status == "error":
            return f"error: {self.error}"
        bad = next((c for c in self.checks if not c.ok), None)
        if bad is None:
            return ""
        return f"{bad.rule}: {bad.detail}" if bad.detail else bad.rule

    def to_dict(self) -> dict[str, Any]:
        return {
            "scenario": self.scenario,
            "lang": self.lang,
            "status": self.status,
            "title": self.title,
            "agent": self.agent,
            "runner": self.runner,
            "question": self.question,
            "answer": self.answer[:MAX_ANSWER_CHARS],
            "checks": [c.to_dict() for c in self.checks],
            "failed_rule": self.failed_rule,
            "run_status": self.run_status,
            "error": self.error,
            "steps": self.steps,
            "prompt_tokens": self.prompt_tokens,
            "completion_tokens": self.completion_tokens,
            "tokens": self.tokens,
            "duration": round(self.duration, 3),
            "tool_calls": self.tool_calls,
            "approvals": self.approvals,
            "cache_hit_tokens": self.cache_hit_tokens,
            "cache_miss_tokens": self.cache_miss_tokens,
            "cache_unknown_tokens": self.cache_unknown_tokens,
            "cache_hit_share": _rounded(self.cache_hit_share),
            "cost_usd": round(self.cost_usd, 6),
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> ScenarioResult:
        return cls(
            scenario=str(d["scenario"]),
            lang=str(d.get("lang", "en")),
            status=str(d.get("status", "error")),
            title=str(d.get("title", "")),
            agent=str(d.get("agent", "ops")),
            runner=str(d.get("runner", "loop")),
            question=str(d.get("question", "")),
            answer=str(d.get("answer", "")),
            checks=[Check.from_dict(c) for c in d.get("checks") or [] if isinstance(c, dict)],
            run_status=str(d.get("run_status", "finished")),
            error=str(d.get("error", "")),
            steps=int(d.get("steps", 0)),
            prompt_tokens=int(d.get("prompt_tokens", 0)),
            completion_tokens=int(d.get("completion_tokens", 0)),
            duration=float(d.get("duration", 0.0)),
            tool_calls=list(d.get("tool_calls") or []),
            approvals=int(d.get("approvals", 0)),
            cache_hit_tokens=int(d.get("cache_hit_tokens", 0)),
            cache_miss_tokens=int(d.get("cache_miss_tokens", 0)),
            cache_unknown_tokens=int(d.get("cache_unknown_tokens", 0)),
            cost_usd=float(d.get("cost_usd", 0.0)),
        )


def _share(hit: int, miss: int) -> float | None:
    return hit / (hit + miss) if hit + miss else None


def _rounded(share: float | None) -> float | None:
    return None if share is None else round(share, 4)


@dataclass
class EvalReport:
    model: str
    offline: bool
    base_url: str = ""
    langs: list[str] = field(default_factory=list)
    started: str = ""
    finished: str = ""
    app_version: str = ""
    results: list[ScenarioResult] = field(default_factory=list)

    @property
    def passed(self) -> int:
        return sum(r.passed for r in self.results)

    @property
    def ok(self) -> bool:
        return bool(self.results) and self.passed == len(self.results)

    def totals(self, lang: str | None = None) -> dict[str, Any]:
        rs = [r for r in self.results if lang is None or r.lang == lang]
        n = len(rs)
        passed = sum(r.passed for r in rs)
        return {
            "scenarios": n,
            "passed": passed,
            "failed": sum(r.status == "fail" for r in rs),
            "errors": sum(r.status == "error" for r in rs),
            "score": round(passed / n, 4) if n else 0.0,
            "steps": sum(r.steps for r in rs),
            "tokens": sum(r.tokens for r in rs),
            "duration": round(sum(r.duration for r in rs), 3),
            "cache_hit_tokens": (hit := sum(r.cache_hit_tokens for r in rs)),
            "cache_miss_tokens": (miss := sum(r.cache_miss_tokens for r in rs)),
            "cache_unknown_tokens": sum(r.cache_unknown_tokens for r in rs),
            "cache_hit_share": _rounded(_share(hit, miss)),
            "cost_usd": round(sum(r.cost_usd for r in rs), 6),
        }

    def to_dict(self) -> dict[str, Any]:
        totals = self.totals()
        if len(self.langs) > 1:
            totals["by_lang"] = {lang: self.totals(lang) for lang in self.langs}
        return {
            "format": FORMAT,
            "version": VERSION,
            "started": self.started,
            "finished": self.finished,
            "app_version": self.app_version,
            "model": self.model,
            "base_url": self.base_url,
            "offline": self.offline,
            "langs": list(self.langs),
            "results": [r.to_dict() for r in self.results],
            "totals": totals,
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> EvalReport:
        return cls(
            model=str(d.get("model", "")),
            offline=bool(d.get("offline", False)),
            base_url=str(d.get("base_url", "")),
            langs=[str(x) for x in d.get("langs") or []],
            started=str(d.get("started", "")),
            finished=str(d.get("finished", "")),
            app_version=str(d.get("app_version", "")),
            results=[ScenarioResult.from_dict(r) for r in d.get("results") or []],
        )


def write_results(report: EvalReport, path: Path) -> Path:
    """Write the results file atomically (0600, parent made 0700 if missing)."""
    return write_private_json(report.to_dict(), path)


def write_private_json(data: dict[str, Any], path: Path) -> Path:
    """Write ``data`` as JSON atomically (0600, parent made 0700 if missing)."""
    from opsconsole.paths import ensure_private_dir

    path = Path(path)
    if not path.parent.exists():
        ensure_private_dir(path.parent)
    tmp = path.with_name(path.name + ".tmp")
    text = json.dumps(data, ensure_ascii=False, indent=1)
    try:
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text + "\n")
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except OSError as exc:
        raise ResultsFileError(
            f"cannot write the results file {path}: {exc.strerror or exc}"
        ) from None
    return path


def load_results(path: Path) -> EvalReport:
    """Read a results file back; refuses other formats and newer versions."""
    path = Path(path)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ResultsFileError(f"no results file at {path}") from None
    except (OSError, ValueError) as exc:
        raise ResultsFileError(f"{path} is not a readable results file: {exc}") from None
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        raise ResultsFileError(f"{path} is not an opsconsole eval results file")
    version = data.get("version")
    if not isinstance(version, int) or version > VERSION:
        raise ResultsFileError(
            f"{path} has results format version {version!r}; this opsconsole reads up to {VERSION}",
            hint="upgrade opsconsole to read it",
        )
    try:
        return EvalReport.from_dict(data)
    except (KeyError, TypeError, ValueError) as exc:
        raise ResultsFileError(f"{path}: a result is malformed ({exc})") from None
