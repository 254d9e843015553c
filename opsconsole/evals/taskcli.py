"""``opsconsole eval --tasks DIR``: run task folders, print the table, write the results.

Reads from ``args``: ``tasks`` (the directory), ``task`` (folder names or patterns; None =
all), ``runs`` (N, default 1), ``cluster`` (a kubeconfig context: run there instead of a fresh
sandbox per run, after a confirmation that names it; ``yes`` skips it, and without a terminal
it is required), ``kubeconfig``, ``json``, ``output``, ``timeout``, ``offline``.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import IO, TYPE_CHECKING

from opsconsole.errors import UsageError

if TYPE_CHECKING:  # pragma: no cover
    from opsconsole.config import Settings
    from opsconsole.evals.harness import ModelSpec
    from opsconsole.evals.taskresults import RunOutcome


def confirm_cluster(context: str, count: int, *, yes: bool, stdin: IO[str], err: IO[str]) -> None:
    """Ask before scripts break things on a real cluster; refuse without a terminal."""
    if yes:
        print(f"eval: --yes: running {count} task(s) on cluster context {context}", file=err)
        return
    what = (
        f"eval: {count} task(s) will run on cluster context {context!r}: their setup scripts "
        "break things there and the agent's changes are approved without asking."
    )
    if not stdin.isatty():
        raise UsageError(
            f"{what} Refusing without a terminal to confirm.",
            hint="pass --yes to run them anyway",
        )
    print(what, file=err)
    print(f"Type the context name ({context}) to go on: ", end="", file=err, flush=True)
    answer = stdin.readline().strip()
    if answer != context:
        raise UsageError(f"not confirmed (typed {answer!r}, expected {context!r}); nothing ran")


@contextlib.contextmanager
def context_kubeconfig(context: str, kubeconfig: str | None, kubectl: str) -> Iterator[str]:
    """A kubeconfig of ``context`` alone (so the scripts reach nothing else), removed after."""
    env = dict(os.environ)
    if kubeconfig:
        env["KUBECONFIG"] = kubeconfig
    proc = subprocess.run(
        [kubectl, "config", "view", "--minify", "--flatten", "--context", context],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    if proc.returncode != 0 or "current-context" not in proc.stdout:
        why = (proc.stderr or proc.stdout).strip().splitlines()[-1:] or ["not found"]
        raise UsageError(f"--cluster: no context {context!r} in the kubeconfig ({why[0]})")
    with tempfile.TemporaryDirectory(prefix="opsconsole-eval-") as tmp:
        path = os.path.join(tmp, "kubeconfig")
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(proc.stdout)
        yield path


def _line(name: str, o: RunOutcome) -> str:
    what = o.status + (f" ({o.phase}: {o.error})" if o.error and not o.passed else "")
    return f"eval: {name} run {o.run}: {what[:200]} [{o.duration:.1f}s]"


def run_tasks_eval(
    args: argparse.Namespace,
    settings: Settings,
    spec: ModelSpec,
    out: IO[str],
    err: IO[str],
    stdin: IO[str] | None = None,
) -> int:
    """Run the task folders of ``args.tasks``; the exit code (0: every run of every task
    passed)."""
    import json

    from opsconsole import __version__
    from opsconsole.evals.cli import _now_iso, default_results_path
    from opsconsole.evals.results import write_private_json
    from opsconsole.evals.taskresults import TaskReport, render_task_table
    from opsconsole.evals.taskrun import Target, kubectl_path, run_tasks
    from opsconsole.evals.tasks import load_tasks

    runs = getattr(args, "runs", None)
    runs = 1 if runs is None else int(runs)
    if runs < 1:
        raise UsageError("--runs: expected an integer >= 1")
    directory = Path(args.tasks)
    tasks = load_tasks(directory, getattr(args, "task", None) or None)
    kubectl = kubectl_path()
    context = getattr(args, "cluster", None)
    as_json = bool(getattr(args, "json", False))
    report = TaskReport(
        model=spec.label,
        offline=spec.offline,
        base_url=spec.base_url,
        runs=runs,
        cluster=context or "sandbox",
        tasks_dir=str(directory),
        started=_now_iso(),
        app_version=__version__,
    )

    def on_run(name: str, outcome: RunOutcome) -> None:
        print(_line(name, outcome), file=err, flush=True)

    with contextlib.ExitStack() as stack:
        target = Target()
        if context:
            kc = getattr(args, "kubeconfig", None) or settings.kubernetes.kubeconfig
            path = stack.enter_context(context_kubeconfig(context, kc, kubectl))
            confirm_cluster(
                context,
                len(tasks),
                yes=bool(getattr(args, "yes", False)),
                stdin=stdin or sys.stdin,
                err=err,
            )
            target = Target(context=context, kubeconfig=path)
        report.results = asyncio.run(
            run_tasks(
                tasks,
                spec,
                settings,
                runs=runs,
                target=target,
                timeout=float(getattr(args, "timeout", None) or 300.0),
                kubectl=kubectl,
                on_run=on_run,
            )
        )
    report.finished = _now_iso()
    target_path = Path(args.output) if getattr(args, "output", None) else default_results_path()
    written = write_private_json(report.to_dict(), target_path)
    if as_json:
        for r in report.results:
            print(json.dumps(r.to_dict(runs), ensure_ascii=False), file=out)
        print(json.dumps({"totals": report.totals(), "results_file": str(written)}), file=out)
    else:
        print(render_task_table(report), file=out)
        print(f"results: {written}", file=out)
    return 0 if report.ok else 1
