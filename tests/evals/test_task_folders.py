"""Every task of ``evals/tasks`` is proven on the sandbox with the real kubectl: after its setup
the verifier fails; after its known fix (``fix.sh``, applied with kubectl) the verifier passes;
its cleanup removes what it made (the namespace, and what it did to nodes).

The proofs share one sandbox (each task works in its own namespace, and the few that change
nodes clean up after themselves), whose clock runs fast so rollouts take a moment only. The
scripts run through the runner's own ``run_script`` and ``script_env``.
"""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from opsconsole.config import Settings
from opsconsole.evals.taskrun import kubectl_path, run_script, script_env
from opsconsole.evals.tasks import Task, load_task

TASKS_DIR = Path(__file__).resolve().parents[2] / "evals" / "tasks"
TASK_NAMES = sorted(p.name for p in TASKS_DIR.iterdir() if p.is_dir())
#: the sandbox's clock for the proofs: pods start in a tenth of a second
PROOF_SPEED = 20.0


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    from opsconsole.sandbox import SandboxServer

    srv = SandboxServer(scenario="clean", speed=PROOF_SPEED).start()
    kubeconfig = srv.write_kubeconfig(tmp_path_factory.mktemp("tasks-kc") / "kubeconfig")
    kubectl = kubectl_path()
    env = script_env(str(kubeconfig), kubectl, Settings())
    yield {"env": env, "kubectl": kubectl}
    srv.stop()


def _kubectl(cluster: dict[str, Any], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [cluster["kubectl"], *args],
        env=cluster["env"],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_there_are_at_least_24_tasks_each_in_its_own_namespace() -> None:
    assert len(TASK_NAMES) >= 24
    for name in TASK_NAMES:
        task = load_task(TASKS_DIR / name)
        assert task.setup and task.verifier and task.cleanup, name
        assert task.difficulty in ("easy", "medium", "hard"), name
        for script in (task.setup, task.verifier, task.cleanup, TASKS_DIR / name / "fix.sh"):
            # each script works in the namespace named after its task
            assert f"NS={name}\n" in script.read_text(), script


@pytest.mark.parametrize("name", TASK_NAMES)
def test_setup_breaks_and_the_known_fix_passes_the_verifier(
    name: str, cluster: dict[str, Any]
) -> None:
    task: Task = load_task(TASKS_DIR / name)
    assert task.setup and task.verifier and task.cleanup
    env = cluster["env"]
    nodes_before = _kubectl(cluster, "get", "nodes", "-o", "jsonpath={.items[*].spec}").stdout
    try:
        code, out = run_script(task.setup, env)
        assert code == 0, f"setup failed: {out}"
        # the broken state holds still: checked once, no waiting
        code, out = run_script(task.verifier, {**env, "VERIFY_TIMEOUT": "0"})
        assert code == 1 and out.startswith("not solved"), f"verifier passed before the fix: {out}"
        code, out = run_script(TASKS_DIR / name / "fix.sh", env)
        assert code == 0, f"fix failed: {out}"
        code, out = run_script(task.verifier, {**env, "VERIFY_TIMEOUT": "90"})
        assert code == 0, f"verifier failed after the fix: {out}"
        assert out.endswith("solved")
    finally:
        code, out = run_script(task.cleanup, env)
    assert code == 0, f"cleanup failed: {out}"
    gone = _kubectl(cluster, "get", "namespace", name)
    assert gone.returncode != 0 and "NotFound" in gone.stderr
    nodes_after = _kubectl(cluster, "get", "nodes", "-o", "jsonpath={.items[*].spec}").stdout
    assert nodes_after == nodes_before, "the task left its mark on the nodes"
