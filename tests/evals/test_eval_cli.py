"""``run_eval`` end to end with the offline planner: table, JSON lines, results file, exit
codes, listing, and a recorded session turned into a scenario that then runs."""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

import pytest

from opsconsole.config import Settings
from opsconsole.evals.cli import run_eval
from opsconsole.evals.results import load_results
from opsconsole.evals.scenario import load_file


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
    }
    base.update(kw)
    return argparse.Namespace(**base)


def test_offline_scenarios_pass_end_to_end(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    out_file = tmp_path / "results.json"
    code = run_eval(
        _args(
            scenario=["payment-api-crashloop", "coder-deployment-service"],
            lang="both",
            output=str(out_file),
        ),
        Settings(),
    )
    out, err = capsys.readouterr()
    assert code == 0, out
    assert "offline planner" in err
    assert "[4/4]" in err  # progress, one line per scenario when not a terminal
    lines = out.splitlines()
    assert lines[0].split() == [
        "SCENARIO",
        "LANG",
        "RESULT",
        "STEPS",
        "TOKENS",
        "CACHE",
        "TIME",
        "FAILED",
        "RULE",
    ]
    assert sum(" pass " in line for line in lines) == 4
    assert "TOTAL: 4/4 passed (100%)" in out
    report = load_results(out_file)
    assert report.offline and report.ok and report.langs == ["en", "zh"]
    by = {(r.scenario, r.lang): r for r in report.results}
    coder = by[("coder-deployment-service", "zh")]
    assert any(c.rule.startswith("manifest.dry_run Deployment") and c.ok for c in coder.checks)
    assert by[("payment-api-crashloop", "en")].steps >= 2


def test_json_lines_and_a_failing_scenario_exits_1(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture
) -> None:
    # a user scenario whose cluster check the planner cannot meet: it asks for 4 replicas,
    # the judge wants 5, so the (correct) change still fails on the cluster state
    monkeypatch.setenv("OPSCONSOLE_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("OPSCONSOLE_STATE_DIR", str(tmp_path / "state"))
    user = tmp_path / "data" / "evals"
    user.mkdir(parents=True)
    (user / "must-fail.yaml").write_text(
        "name: must-fail\n"
        "title: judged on a replica count nobody asked for\n"
        "sandbox: {scenario: demo, speed: 4}\n"
        "write: true\n"
        "question:\n"
        "  en: Scale the cart deployment in the shop namespace to 4 replicas.\n"
        "  zh: 把 shop 命名空间的 cart deployment 扩容到 4 个副本。\n"
        "expect:\n"
        "  cluster:\n"
        "    - deployment: {namespace: shop, name: cart, replicas: 5, ready: 5}\n"
    )
    code = run_eval(_args(scenario=["must-fail"], json=True), Settings())
    out, _ = capsys.readouterr()
    assert code == 1
    rows = [json.loads(line) for line in out.splitlines()]
    assert [r["type"] for r in rows] == ["result", "totals"]
    assert rows[0]["status"] == "fail" and rows[0]["lang"] == "en"
    assert rows[0]["failed_rule"].startswith("cluster: deployment shop/cart replicas=5")
    assert rows[1]["passed"] == 0 and rows[1]["scenarios"] == 1
    results = Path(rows[1]["results_file"])
    assert results.parent.name == "evals" and results.exists()  # default: the state dir
    assert str(results).startswith(str(tmp_path / "state"))


def test_offline_fix_task_passes_on_the_cluster(capsys: pytest.CaptureFixture) -> None:
    # write mode: the offline planner proposes scale_deployment, the harness approves it
    code = run_eval(_args(scenario=["fix-scale-cart"], json=True), Settings())
    rows = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert code == 0, rows
    assert rows[0]["status"] == "pass"


def test_unknown_scenario_and_bad_lang_are_usage_errors(capsys: pytest.CaptureFixture) -> None:
    assert run_eval(_args(scenario=["nope"]), Settings()) == 2
    err = capsys.readouterr().err
    assert "unknown scenario 'nope'; known scenarios:" in err and "fix-scale-cart" in err
    assert run_eval(_args(lang="fr"), Settings()) == 2
    assert "--lang: expected one of en, zh, both" in capsys.readouterr().err


def test_list(capsys: pytest.CaptureFixture) -> None:
    assert run_eval(_args(list=True), Settings()) == 0
    out = capsys.readouterr().out
    assert out.splitlines()[0].split()[:3] == ["NAME", "AGENT", "SANDBOX"]
    assert "security-review" in out and "coder" in out


def test_show_reads_a_results_file_back(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    out_file = tmp_path / "r.json"
    assert run_eval(_args(scenario=["image-resizer-oom"], output=str(out_file)), Settings()) == 0
    first = capsys.readouterr().out
    assert run_eval(_args(show=str(out_file)), Settings()) == 0
    again = capsys.readouterr().out
    assert "image-resizer-oom" in again and "TOTAL: 1/1 passed" in again
    assert again.splitlines()[0] == first.splitlines()[0]


def _record_session(directory: Path) -> Path:
    from opsconsole.agent import events as ev
    from opsconsole.sessions.recorder import SessionRecorder

    rec = SessionRecorder.create(directory, model="some-model", context="prod-eu", sandbox=False)
    run = "r1"
    rec.record(ev.RunStarted(run_id=run, task="为什么 shop 里的 image-resizer 一直重启？"))
    rec.record(
        ev.Answer(
            run_id=run,
            step=3,
            text=(
                "**根因**：`shop/image-resizer-bqljgnb7gv-zz6wc` 被 OOMKilled（exit code 137），"
                "内存限制 128Mi 太小。\n\n**证据**：\n> lastState: terminated, reason "
                "CrashLoopBackOff ... ImagePullBackOff of another pod\n"
            ),
        )
    )
    rec.record(ev.RunFinished(run_id=run, steps=3))
    rec.close()
    return rec.path


def test_from_session_writes_a_scenario_that_runs(
    tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    session = _record_session(tmp_path / "sessions")
    assert run_eval(_args(from_session=str(session)), Settings()) == 0
    written = Path(capsys.readouterr().out.strip())
    assert written.parent.name == "evals" and written.exists()
    text = written.read_text(encoding="utf-8")
    assert "WARNING: recorded on cluster context prod-eu" in text
    scn = load_file(written)
    assert scn.question == {"zh": "为什么 shop 里的 image-resizer 一直重启？"}
    assert scn.sandbox == "demo"
    groups = [[k.text for k in g] for g in scn.answer.all]
    # the pod's generated suffix is stripped; only the root-cause part is used (not the
    # evidence's ImagePullBackOff)
    assert groups[0] == ["image-resizer"]
    assert "OOMKilled" in groups[1] and "ImagePullBackOff" not in groups[1]
    # the new scenario is picked up by name from the user's dir and runs (in zh)
    out_file = tmp_path / "r.json"
    assert run_eval(_args(scenario=[scn.name], lang="en", output=str(out_file)), Settings()) == 0
    capsys.readouterr()
    [res] = load_results(out_file).results
    assert (res.scenario, res.lang, res.status) == (scn.name, "zh", "pass")
    # a second export of the same session does not overwrite the first
    assert run_eval(_args(from_session=str(session)), Settings()) == 0
    second = Path(capsys.readouterr().out.strip())
    assert second != written and second.name.endswith("-2.yaml")


def test_from_session_without_an_answer_is_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    from opsconsole.agent import events as ev
    from opsconsole.sessions.recorder import SessionRecorder

    rec = SessionRecorder.create(tmp_path / "s", model="m")
    rec.record(ev.RunStarted(run_id="r", task="why?"))
    rec.record(ev.RunFailed(run_id="r", error="boom"))
    rec.close()
    assert run_eval(_args(from_session=str(rec.path)), Settings()) == 2
    assert "the first task has no final answer" in capsys.readouterr().err


def test_from_session_accepts_last_like_replay(
    tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    from opsconsole import paths

    _record_session(paths.sessions_dir())
    assert run_eval(_args(from_session="last"), Settings()) == 0
    written = Path(capsys.readouterr().out.strip())
    assert load_file(written).answer.all[0][0].text == "image-resizer"
