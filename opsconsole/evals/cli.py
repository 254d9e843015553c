"""``opsconsole eval``: score a model (or the offline planner) on the scenario suite.

``run_eval(args, settings)`` reads from ``args``: ``scenario`` (names, tags or ``fix-*``
patterns; None = all), ``lang`` ("en" default, "zh", or "both"), ``json`` (JSON lines on stdout),
``offline``, ``model`` / ``base_url`` (already applied to ``settings`` by the CLI; re-applied
here if set), ``from_session`` (turn a recorded session into a scenario file and stop; a path,
a session id or prefix, or ``last``, like ``opsconsole replay``),
``output`` (results file; default ``<state dir>/evals/<UTC timestamp>.json``), ``list`` (list
the scenarios), and optionally ``show`` (print the table of an earlier results file),
``jobs`` (scenarios run at once, default 1) and ``timeout`` (seconds per run, default 300).
With ``tasks`` (a directory of task folders) it runs those instead: see
:mod:`opsconsole.evals.taskcli`.

Exit codes: 0 every scenario passed, 1 any failed (or errored), 2 bad usage (unknown scenario,
invalid scenario file, bad option), 130 interrupted.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as _dt
import sys
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

from opsconsole.errors import OpsConsoleError, UsageError

if TYPE_CHECKING:  # pragma: no cover
    from opsconsole.config import Settings
    from opsconsole.evals.results import EvalReport, ScenarioResult
    from opsconsole.evals.scenario import Scenario

LANG_CHOICES = ("en", "zh", "both")


def _now_iso() -> str:
    return _dt.datetime.now(_dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def default_results_path() -> Path:
    from opsconsole import paths

    stamp = _dt.datetime.now(_dt.UTC).strftime("%Y%m%d-%H%M%S")
    directory = paths.state_dir() / "evals"
    path, n = directory / f"{stamp}.json", 1
    while path.exists():  # two runs in the same second keep both files
        n += 1
        path = directory / f"{stamp}-{n}.json"
    return path


def _langs(value: Any) -> list[str]:
    lang = value or "en"
    if lang not in LANG_CHOICES:
        raise UsageError(f"--lang: expected one of {', '.join(LANG_CHOICES)} (got {lang!r})")
    return ["en", "zh"] if lang == "both" else [lang]


def _settings_for(args: argparse.Namespace, settings: Settings) -> Settings:
    model: dict[str, Any] = {}
    if getattr(args, "model", None):
        model["name"] = args.model
    if getattr(args, "base_url", None):
        model["base_url"] = args.base_url
    if model:
        return settings.replace(model=settings.model.replace(**model))
    return settings


def _is_offline(args: argparse.Namespace, settings: Settings, err: IO[str]) -> bool:
    if getattr(args, "offline", False):
        print("eval: --offline: scoring the built-in offline planner (no model API)", file=err)
        return True
    if not settings.model.api_key():
        print(
            f"eval: no API key in ${settings.model.api_key_env}: scoring the built-in offline "
            "planner (no model API). Set the key, or pass --model/--base-url for another "
            "provider.",
            file=err,
        )
        return True
    return False


def list_text(scenarios: list[Scenario]) -> str:
    from opsconsole.evals.report import _pad, _width

    rows = [
        (
            s.name,
            s.agent,
            s.sandbox + ("+setup" if s.setup else ""),
            "fix" if s.write else "",
            "/".join(sorted(s.question)),
            s.title,
            "" if s.source == "builtin" else s.source,
        )
        for s in scenarios
    ]
    head = ("NAME", "AGENT", "SANDBOX", "KIND", "LANGS", "TITLE", "FILE")
    widths = [max([_width(h)] + [_width(r[i]) for r in rows]) for i, h in enumerate(head)]
    lines = []
    for r in [head, *rows]:
        lines.append("  ".join(_pad(c, widths[i]) for i, c in enumerate(r)).rstrip())
    return "\n".join(lines)


async def run_suite(
    scenarios: list[Scenario],
    langs: list[str],
    spec: Any,
    settings: Settings,
    *,
    jobs: int = 1,
    timeout: float | None = None,
    on_start: Any = None,
    on_step: Any = None,
    on_result: Any = None,
) -> list[ScenarioResult]:
    """Run every (scenario, language) pair, ``jobs`` at a time; results in suite order."""
    from opsconsole.evals.harness import DEFAULT_RUN_TIMEOUT, run_scenario

    pairs = [(s, lang) for lang in langs for s in scenarios]
    results: list[ScenarioResult | None] = [None] * len(pairs)
    sem = asyncio.Semaphore(max(1, jobs))

    def progress(kind: str, meta: dict[str, Any]) -> None:
        if kind == "step" and on_step is not None:
            on_step(meta.get("tool", ""))

    async def one(i: int, scn: Scenario, lang: str) -> None:
        async with sem:
            if on_start is not None:
                on_start(scn.name, lang)
            res = await run_scenario(
                scn,
                lang,
                spec,
                settings,
                timeout=timeout or DEFAULT_RUN_TIMEOUT,
                progress=progress,
            )
            results[i] = res
            if on_result is not None:
                on_result(res)

    await asyncio.gather(*(one(i, s, lang) for i, (s, lang) in enumerate(pairs)))
    return [r for r in results if r is not None]


def run_eval(args: argparse.Namespace, settings: Settings) -> int:
    """Entry point of ``opsconsole eval``; returns the process exit code."""
    out, err = sys.stdout, sys.stderr
    try:
        return _run(args, settings, out, err)
    except KeyboardInterrupt:
        print("\neval: interrupted", file=err)
        return 130
    except OpsConsoleError as exc:
        print(f"eval: {exc}", file=err)
        return exc.exit_code


def _run(args: argparse.Namespace, settings: Settings, out: IO[str], err: IO[str]) -> int:
    from opsconsole.evals.report import ProgressBar, render_table, result_line, totals_line
    from opsconsole.evals.results import EvalReport, load_results, write_results
    from opsconsole.evals.scenario import load_all, select

    if getattr(args, "from_session", None):
        from opsconsole.evals.from_session import scenario_from_session
        from opsconsole.sessions.cli import resolve_session_path, sessions_directory

        session = resolve_session_path(str(args.from_session), sessions_directory(settings))
        path = scenario_from_session(session)
        print(path, file=out)
        return 0
    if getattr(args, "show", None):
        from opsconsole.evals.taskresults import load_task_results, render_task_table

        tasks_report = load_task_results(Path(args.show))
        if tasks_report is not None:
            print(render_task_table(tasks_report), file=out)
            return 0 if tasks_report.ok else 1
        report = load_results(Path(args.show))
        print(render_table(report), file=out)
        return 0 if report.ok else 1
    if getattr(args, "tasks", None):
        return _run_tasks(args, settings, out, err)
    scenarios = load_all()
    if getattr(args, "list", False):
        print(list_text(scenarios), file=out)
        return 0
    langs = _langs(getattr(args, "lang", None))
    chosen = select(scenarios, getattr(args, "scenario", None) or None)
    jobs = int(getattr(args, "jobs", 1) or 1)
    if jobs < 1:
        raise UsageError("--jobs: expected an integer >= 1")
    settings = _settings_for(args, settings)
    from opsconsole.evals.harness import ModelSpec

    spec = ModelSpec.from_settings(settings, offline=_is_offline(args, settings, err))
    from opsconsole import __version__

    report = EvalReport(
        model=spec.label,
        offline=spec.offline,
        base_url=spec.base_url,
        langs=langs,
        started=_now_iso(),
        app_version=__version__,
    )
    as_json = bool(getattr(args, "json", False))
    bar = ProgressBar(err, len(chosen) * len(langs))

    def on_result(res: ScenarioResult) -> None:
        bar.finish(res)
        if as_json:
            print(result_line(res), file=out, flush=True)

    report.results = asyncio.run(
        run_suite(
            chosen,
            langs,
            spec,
            settings,
            jobs=jobs,
            timeout=getattr(args, "timeout", None),
            on_start=bar.start,
            on_step=bar.step,
            on_result=on_result,
        )
    )
    report.finished = _now_iso()
    target = Path(args.output) if getattr(args, "output", None) else default_results_path()
    written = write_results(report, target)
    if as_json:
        print(totals_line(report, str(written)), file=out, flush=True)
    else:
        print(render_table(report), file=out)
        print(f"results: {written}", file=out)
    return 0 if report.ok else 1


def _run_tasks(args: argparse.Namespace, settings: Settings, out: IO[str], err: IO[str]) -> int:
    from opsconsole.evals.harness import ModelSpec
    from opsconsole.evals.taskcli import run_tasks_eval

    settings = _settings_for(args, settings)
    spec = ModelSpec.from_settings(settings, offline=_is_offline(args, settings, err))
    return run_tasks_eval(args, settings, spec, out, err)


def summarize(report: EvalReport) -> str:  # pragma: no cover - convenience for scripts
    from opsconsole.evals.report import render_table

    return render_table(report)
