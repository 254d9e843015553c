"""``opsconsole eval --tasks`` end to end: task folders run on a fresh sandbox per run with the
real kubectl, the agent through the real loop (the offline planner, or the scripted
OpenAI-compatible server through the real openai client performing the known fix with the
change tools), the verifier deciding; pass@1 / pass@N / pass^N in the table and the JSON; bad
task folders reported while the others run; ``--cluster`` after a confirmation naming it.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from opsconsole.config import Settings
from opsconsole.evals.cli import run_eval
from opsconsole.evals.harness import ModelSpec
from opsconsole.evals.taskcli import run_tasks_eval
from opsconsole.evals.taskresults import pass_at_k, pass_hat_k
from opsconsole.evals.taskrun import kubectl_path, run_tasks
from opsconsole.evals.tasks import Task, TaskProblem, load_task, load_tasks
from tests.evals.conftest import FAKE_KEY_ENV
from tests.fakes.openai_server import ScriptedOpenAIServer, reply, tool_call

TASKS_DIR = Path(__file__).resolve().parents[2] / "evals" / "tasks"


def _args(**kw: Any) -> argparse.Namespace:
    base: dict[str, Any] = {
        "scenario": None,
        "lang": None,
        "json": False,
        "model": None,
        "base_url": None,
        "offline": True,
        "from_session": None,
        "output": None,
        "list": False,
        "tasks": None,
        "task": None,
        "runs": 1,
        "cluster": None,
        "yes": False,
        "kubeconfig": None,
        "timeout": 120,
    }
    base.update(kw)
    return argparse.Namespace(**base)


def _copy(names: list[str], into: Path) -> Path:
    into.mkdir(parents=True, exist_ok=True)
    for name in names:
        shutil.copytree(TASKS_DIR / name, into / name)
    return into


def _script(path: Path, body: str) -> Path:
    path.write_text("#!/usr/bin/env bash\n" + body)
    path.chmod(0o755)
    return path


def _task_yaml(folder: Path, text: str) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "task.yaml").write_text(text)


# --- the figures ----------------------------------------------------------------------------


def test_pass_figures() -> None:
    assert pass_at_k(4, 1, 1) == pass_hat_k(4, 1, 1) == 0.25
    assert pass_at_k(4, 1, 4) == 1.0 and pass_hat_k(4, 1, 4) == 0.0
    assert pass_at_k(4, 4, 4) == pass_hat_k(4, 4, 4) == 1.0
    assert pass_at_k(4, 0, 4) == 0.0
    # 5 runs, 2 passed, k=2: 1 - C(3,2)/C(5,2) = 0.7; C(2,2)/C(5,2) = 0.1
    assert pass_at_k(5, 2, 2) == pytest.approx(0.7)
    assert pass_hat_k(5, 2, 2) == pytest.approx(0.1)


# --- loading: bad folders are named, with what is wrong -------------------------------------


def test_bad_task_folders_are_reported_one_by_one(tmp_path: Path) -> None:
    root = tmp_path / "tasks"
    (root / "a-no-task-yaml").mkdir(parents=True)
    _task_yaml(root / "b-missing-script", "script: [{prompt: hi}]\nverifier: verify.sh\n")
    _task_yaml(root / "c-not-executable", "script: [{prompt: hi}]\nverifier: verify.sh\n")
    (root / "c-not-executable" / "verify.sh").write_text("#!/usr/bin/env bash\nexit 0\n")
    _task_yaml(root / "d-typo", "script: [{prompt: hi}]\nverifer: verify.sh\n")
    _task_yaml(root / "e-no-verdict", "script: [{prompt: hi}]\n")
    _task_yaml(root / "f-empty-prompt", "script: [{prompt: ''}]\nexpect: [{contains: x}]\n")
    _task_yaml(root / "g-outside", "script: [{prompt: hi}]\nverifier: ../../etc/passwd\n")
    _task_yaml(
        root / "h-good",
        "script: [{promptFile: p.md}]\nexpect: [{contains: Ready}, {notContains: OOM}]\n"
        "difficulty: easy\n",
    )
    (root / "h-good" / "p.md").write_text("Is it ready?\n")
    loaded = {t.name: t for t in load_tasks(root)}
    errors = {n: t.error for n, t in loaded.items() if isinstance(t, TaskProblem)}
    assert errors == {
        "a-no-task-yaml": f"task a-no-task-yaml: no task.yaml in {root / 'a-no-task-yaml'}",
        "b-missing-script": (
            f"task b-missing-script: verifier: script verify.sh does not exist in "
            f"{root / 'b-missing-script'}"
        ),
        "c-not-executable": (
            "task c-not-executable: verifier: script verify.sh is not executable "
            f"(chmod +x {root / 'c-not-executable' / 'verify.sh'})"
        ),
        "d-typo": "task d-typo: task.yaml: unknown key 'verifer' (did you mean 'verifier'?)",
        "e-no-verdict": "task e-no-verdict: task.yaml: a task needs a verifier script or "
        "expect entries",
        "f-empty-prompt": "task f-empty-prompt: script[0]: the prompt is empty",
        "g-outside": "task g-outside: verifier: ../../etc/passwd is outside the task folder",
    }
    good = loaded["h-good"]
    assert isinstance(good, Task)
    assert good.prompts == ("Is it ready?",) and good.verifier is None
    assert [e.holds("All pods Ready") for e in good.expect] == [True, True]
    assert [e.holds("ready, then OOMKilled") for e in good.expect] == [True, False]


def test_tasks_dir_and_selection_errors(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    code = run_eval(_args(tasks=str(tmp_path / "nope")), Settings())
    assert code == 2
    assert f"--tasks: {tmp_path / 'nope'} is not a directory" in capsys.readouterr().err
    code = run_eval(_args(tasks=str(TASKS_DIR), task=["no-such-*"]), Settings())
    assert code == 2
    err = capsys.readouterr().err
    assert "no task in" in err and "matches no-such-*" in err and "scaled-to-zero" in err
    code = run_eval(_args(tasks=str(TASKS_DIR), runs=0), Settings())
    assert code == 2 and "--runs: expected an integer >= 1" in capsys.readouterr().err


# --- the offline planner, end to end through the command line -------------------------------


def test_offline_run_with_bad_folders_beside_a_real_task(
    tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    root = _copy(["svc-selector-mismatch"], tmp_path / "tasks")
    (root / "empty-folder").mkdir()
    _task_yaml(root / "missing-setup", "script: [{prompt: hi}]\nsetup: setup.sh\nverifier: v.sh\n")
    _script(root / "missing-setup" / "v.sh", "exit 0\n")
    marker = tmp_path / "cleaned"
    _task_yaml(
        root / "setup-fails",
        "script:\n  - prompt: Is the cluster fine?\nsetup: setup.sh\nverifier: verify.sh\n"
        "cleanup: cleanup.sh\n",
    )
    _script(root / "setup-fails" / "setup.sh", "echo 'creating the namespace'\nexit 3\n")
    _script(root / "setup-fails" / "verify.sh", "exit 0\n")
    _script(root / "setup-fails" / "cleanup.sh", f"touch {marker}\n")
    out_file = tmp_path / "results.json"
    code = run_eval(_args(tasks=str(root), runs=2, output=str(out_file)), Settings())
    out, err = capsys.readouterr()
    assert code == 1
    assert "offline planner" in err
    assert "eval: setup-fails run 2: error (setup: setup exited 3: creating the namespace)" in err
    lines = out.splitlines()
    assert lines[0].split() == [
        "TASK", "LEVEL", "PASSED", "PASS@1", "PASS@2", "PASS^2", "TIME", "FAILED"
    ]  # fmt: skip
    rows = {line.split()[0]: line for line in lines[1:]}
    assert "no task.yaml" in rows["empty-folder"] and " error " in rows["empty-folder"]
    assert "script setup.sh does not exist" in rows["missing-setup"]
    assert "setup exited 3" in rows["setup-fails"]
    assert rows["TOTAL"].split()[:3] == ["TOTAL", "(4", "tasks)"]
    assert marker.exists(), "the cleanup runs after a failed setup"

    data = json.loads(out_file.read_text())
    assert data["format"] == "opsconsole-eval-tasks" and data["runs"] == 2
    assert data["offline"] is True and data["cluster"] == "sandbox"
    assert oct(out_file.stat().st_mode & 0o777) == "0o600"
    by_task = {r["task"]: r for r in data["results"]}
    real = by_task["svc-selector-mismatch"]
    assert len(real["runs"]) == 2 and real["difficulty"] == "easy"
    for run in real["runs"]:
        # the agent ran, the verifier (not the answer) decided, on the cluster the setup broke
        assert run["run_status"] == "finished" and run["tool_calls"]
        assert run["verifier_exit"] in (0, 1) and run["phase"] in ("", "verifier")
        assert run["status"] == ("pass" if run["verifier_exit"] == 0 else "fail")
    c = real["passed"]
    assert real["pass@1"] == c / 2
    assert real["pass@2"] == (1.0 if c else 0.0) and real["pass^2"] == (1.0 if c == 2 else 0.0)
    assert by_task["setup-fails"]["runs"][0]["status"] == "error"
    assert by_task["empty-folder"]["error"] and by_task["empty-folder"]["runs"] == []
    totals = data["totals"]
    assert totals["tasks"] == 4 and totals["errors"] == 2 and totals["runs"] == 4
    assert totals["pass@1"] == pytest.approx(real["pass@1"] / 4, abs=1e-4)
    # --show prints the same table again from the file
    assert run_eval(_args(show=str(out_file)), Settings()) == 1
    shown = capsys.readouterr().out

    def cells(text: list[str]) -> list[str]:  # the rows without their TIME (rounded in the file)
        return [" ".join(re.sub(r"\d+\.\ds\b", "T", row).split()) for row in text]

    assert cells(shown.splitlines()) == cells(lines[:-1]) and lines[-1].startswith("results:")


# --- a scripted model performs the known fix through the change tools -----------------------


def _model_settings(srv: ScriptedOpenAIServer) -> Settings:
    return Settings.from_data(
        {
            "model": {
                "base_url": srv.base_url,
                "name": "fake-model",
                "api_key_env": FAKE_KEY_ENV,
                "max_retries": 0,
                "timeout": {"connect": 5, "read": 30, "total": 60},
            }
        }
    )


async def test_a_scripted_model_fixes_three_tasks_and_the_verifier_decides(
    srv: ScriptedOpenAIServer,
) -> None:
    scale = {"kind": "deployment", "name": "orders", "namespace": "scaled-to-zero", "replicas": 3}
    selector = {
        "kind": "service",
        "name": "web",
        "namespace": "svc-selector-mismatch",
        "patch": {"spec": {"selector": {"app": "web"}}},
        "patch_type": "merge",
    }
    srv.push(
        # scaled-to-zero, run 1: the fix through scale_resource
        reply(tool_calls=[tool_call("scale_resource", scale)]),
        reply("orders is back at 3 replicas."),
        # run 2: the fix claimed in words only
        reply("I scaled orders back to 3 replicas. Done."),
        # svc-selector-mismatch: read the Service, then patch its selector
        reply(
            tool_calls=[
                tool_call(
                    "get_resource",
                    {"kind": "service", "name": "web", "namespace": "svc-selector-mismatch"},
                )
            ]
        ),
        reply(tool_calls=[tool_call("patch_resource", selector)]),
        reply("The Service selected app=web-frontend; it now selects app=web."),
        # rollback-bad-image: back to the previous revision
        reply(
            tool_calls=[
                tool_call("rollout_undo", {"name": "catalog", "namespace": "rollback-bad-image"})
            ]
        ),
        reply("catalog is back on its previous revision."),
    )
    tasks = [
        load_task(TASKS_DIR / "scaled-to-zero"),
        load_task(TASKS_DIR / "svc-selector-mismatch"),
        load_task(TASKS_DIR / "rollback-bad-image"),
    ]
    settings = _model_settings(srv)
    spec = ModelSpec.from_settings(settings, offline=False)
    runs: list[str] = []
    results = await run_tasks(
        [tasks[0]], spec, settings, runs=2, timeout=120, on_run=lambda n, o: runs.append(n)
    )
    results += await run_tasks(tasks[1:], spec, settings, runs=1, timeout=120)
    assert srv.rejections == [] and runs == ["scaled-to-zero", "scaled-to-zero"]
    zero, svc, undo = results
    first, second = zero.runs
    assert first.status == "pass", first.error
    assert [a["tool"] for a in first.approvals] == ["scale_resource"]
    assert first.approvals[0]["name"] == "orders" and "replicas" in first.approvals[0]["diff"]
    assert second.status == "fail" and second.phase == "verifier"
    assert "orders wants 0 replicas, not 3" in second.verifier_output
    assert second.approvals == [] and "I scaled orders" in second.answer
    assert zero.figures(2) == {"pass@1": 0.5, "pass@2": 1.0, "pass^2": 0.0}

    (run,) = svc.runs
    assert run.status == "pass", run.error
    assert [c["tool"] for c in run.tool_calls] == ["get_resource", "patch_resource"]
    assert (
        run.approvals[0]["kind"].lower() == "service" and "web-frontend" in run.approvals[0]["diff"]
    )
    # the change tools were offered: write mode
    offered = {t["function"]["name"] for t in srv.requests[3]["tools"]}
    assert {"patch_resource", "scale_resource", "apply_resource"} <= offered

    (run,) = undo.runs
    assert run.status == "pass", run.error
    assert [a["tool"] for a in run.approvals] == ["rollout_undo"]
    assert "nginx:1.27-hotfix" in run.approvals[0]["diff"]


# --- --cluster: a real cluster's context, confirmed first -----------------------------------


def _cluster_args(kubeconfig: Path, tmp_path: Path, **kw: Any) -> argparse.Namespace:
    root = _copy(["cronjob-suspended"], tmp_path / "tasks")
    return _args(
        tasks=str(root),
        cluster="opsconsole-sandbox",
        kubeconfig=str(kubeconfig),
        output=str(tmp_path / "r.json"),
        **kw,
    )


def _namespaces(kubeconfig: Path) -> str:
    return subprocess.run(
        [kubectl_path(), "--kubeconfig", str(kubeconfig), "get", "ns", "-o", "name"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout


def test_cluster_needs_a_confirmation_that_names_it(
    tmp_path: Path, fresh_sandbox: Any, capsys: pytest.CaptureFixture
) -> None:
    kc = Path(fresh_sandbox("clean").write_kubeconfig(tmp_path / "kc"))
    args = _cluster_args(kc, tmp_path)
    spec = ModelSpec.from_settings(Settings(), offline=True)
    with open(os.devnull) as not_a_terminal:
        with pytest.raises(Exception) as refused:
            run_tasks_eval(args, Settings(), spec, sys.stdout, sys.stderr, stdin=not_a_terminal)
    assert "'opsconsole-sandbox'" in str(refused.value)
    assert "Refusing without a terminal" in str(refused.value) and "--yes" in str(refused.value)
    # a terminal where the person types something else
    master, slave = os.openpty()
    os.write(master, b"prod\n")
    with open(slave, encoding="utf-8") as tty, pytest.raises(Exception) as declined:
        run_tasks_eval(args, Settings(), spec, sys.stdout, sys.stderr, stdin=tty)
    os.close(master)
    assert "not confirmed (typed 'prod', expected 'opsconsole-sandbox'); nothing ran" in str(
        declined.value
    )
    assert "Type the context name (opsconsole-sandbox)" in capsys.readouterr().err
    assert "cronjob-suspended" not in _namespaces(kc), "nothing ran"
    assert not (tmp_path / "r.json").exists()
    # through the command line: exit 2, the context named
    assert run_eval(args, Settings()) == 2


def test_cluster_with_yes_runs_there(
    tmp_path: Path, fresh_sandbox: Any, capsys: pytest.CaptureFixture
) -> None:
    srv = fresh_sandbox("clean", speed=4)
    kc = Path(srv.write_kubeconfig(tmp_path / "kc"))
    marker = tmp_path / "saw-it"
    args = _cluster_args(kc, tmp_path, yes=True, json=True)
    task = Path(args.tasks) / "cronjob-suspended"
    # the setup leaves a mark of the cluster it ran on: the sandbox's own server address
    with (task / "setup.sh").open("a") as fh:
        fh.write(
            "kubectl config view --minify "
            f'-o jsonpath="{{.clusters[0].cluster.server}}" > {marker}\n'
        )
    code = run_eval(args, Settings())
    out, err = capsys.readouterr()
    assert code == 1  # the offline planner does not unsuspend CronJobs
    line, totals = (json.loads(x) for x in out.splitlines())
    assert line["task"] == "cronjob-suspended" and line["pass@1"] == 0.0
    assert totals["totals"]["runs"] == 1 and totals["results_file"] == str(tmp_path / "r.json")
    assert "--yes: running 1 task(s) on cluster context opsconsole-sandbox" in err
    assert marker.read_text() == srv.url
    data = json.loads((tmp_path / "r.json").read_text())
    assert data["cluster"] == "opsconsole-sandbox"
    (run,) = data["results"][0]["runs"]
    assert run["verifier_exit"] == 1 and "cleanup is suspended" in run["verifier_output"]
    assert "cronjob-suspended" not in _namespaces(kc), "the cleanup ran there"


def test_an_unknown_cluster_context_is_a_usage_error(
    tmp_path: Path, fresh_sandbox: Any, capsys: pytest.CaptureFixture
) -> None:
    kc = Path(fresh_sandbox("clean").write_kubeconfig(tmp_path / "kc"))
    args = _cluster_args(kc, tmp_path, yes=True)
    args.cluster = "prod-eu"
    assert run_eval(args, Settings()) == 2
    assert "--cluster: no context 'prod-eu' in the kubeconfig" in capsys.readouterr().err


async def test_an_answer_judged_task_passes_on_the_words_only_when_they_hold(
    srv: ScriptedOpenAIServer, tmp_path: Path
) -> None:
    folder = tmp_path / "which-nodes"
    _task_yaml(
        folder,
        "script:\n  - prompt: How many nodes does the cluster have, and what are they called?\n"
        "  - prompt: Which one is the oldest?\n"
        "expect:\n  - contains: node-1\n  - notContains: node-4\ndifficulty: easy\n",
    )
    srv.push(
        reply(tool_calls=[tool_call("get_nodes", {})]),
        reply("Three nodes: node-1, node-2 and node-3."),
        reply("They are all 20 days old."),
        reply("Four nodes: node-1 to node-4."),
        reply("node-4."),
    )
    settings = _model_settings(srv)
    spec = ModelSpec.from_settings(settings, offline=False)
    (result,) = await run_tasks([load_task(folder)], spec, settings, runs=2, timeout=120)
    assert srv.rejections == []
    # the second prompt continued the same conversation
    assert "Three nodes" in json.dumps(srv.requests[2]["messages"])
    right, wrong = result.runs
    assert right.status == "pass" and right.verifier_exit is None
    assert right.expect == [
        {"rule": "contains 'node-1'", "ok": True},
        {"rule": "notContains 'node-4'", "ok": True},
    ]
    assert wrong.status == "fail" and wrong.phase == "expect"
    assert wrong.error == "notContains 'node-4' fails"


def test_the_command_line_takes_the_task_options(capsys: pytest.CaptureFixture) -> None:
    from opsconsole.cli import build_parser, main

    args = build_parser().parse_args(
        ["eval", "--tasks", "evals/tasks", "--task", "a", "b*", "--runs", "3"]
        + ["--cluster", "kind-bench", "--yes"]
    )
    assert (args.tasks, args.task, args.runs, args.cluster, args.yes) == (
        "evals/tasks",
        ["a", "b*"],
        3,
        "kind-bench",
        True,
    )
    assert main(["eval", "--offline", "--tasks", "/nonexistent/tasks"]) == 2
    assert "eval: --tasks: /nonexistent/tasks is not a directory" in capsys.readouterr().err


def test_the_scripts_get_a_kubeconfig_of_the_chosen_context_only(tmp_path: Path) -> None:
    import yaml

    from opsconsole.errors import UsageError
    from opsconsole.evals.taskcli import context_kubeconfig

    kc = tmp_path / "kc"
    kc.write_text(
        yaml.safe_dump(
            {
                "apiVersion": "v1",
                "kind": "Config",
                "clusters": [
                    {"name": n, "cluster": {"server": f"https://{n}.example:6443"}}
                    for n in ("prod", "bench")
                ],
                "users": [{"name": "u", "user": {"token": "t0ken"}}],
                "contexts": [
                    {"name": f"ctx-{n}", "context": {"cluster": n, "user": "u"}}
                    for n in ("prod", "bench")
                ],
                "current-context": "ctx-prod",
            }
        )
    )
    with context_kubeconfig("ctx-bench", str(kc), kubectl_path()) as path:
        only = yaml.safe_load(Path(path).read_text())
        assert oct(Path(path).stat().st_mode & 0o777) == "0o600"
    assert not Path(path).exists()
    assert only["current-context"] == "ctx-bench"
    assert [c["cluster"]["server"] for c in only["clusters"]] == ["https://bench.example:6443"]
    with pytest.raises(UsageError, match="no context 'ctx-dev' in the kubeconfig"):
        with context_kubeconfig("ctx-dev", str(kc), kubectl_path()):
            pass
