"""The judge's rules on answers and manifests, and the results file round trip."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from opsconsole.evals.judge import Check, extract_manifests, judge_answer
from opsconsole.evals.results import (
    FORMAT,
    EvalReport,
    ResultsFileError,
    ScenarioResult,
    load_results,
    write_results,
)
from opsconsole.evals.scenario import builtin_scenarios, select

RIGHT = (
    "Root cause: payments/payment-api crashes at start with KeyError: 'PAYMENT_GATEWAY_URL'; "
    "the pod reads it from ConfigMap payment-api-config key gateway_url, which was renamed."
)
WRONG = "Root cause: payment-api is OOMKilled; raise its memory limit to 1Gi."


def _rules(name: str):
    return select(builtin_scenarios(), [name])[0].answer


def test_a_right_answer_passes_every_rule() -> None:
    checks = judge_answer(_rules("payment-api-crashloop"), RIGHT)
    assert checks and all(c.ok for c in checks), checks


def test_a_wrong_answer_fails_and_the_forbidden_claim_is_named() -> None:
    checks = judge_answer(_rules("payment-api-crashloop"), WRONG)
    failed = [c.rule for c in checks if not c.ok]
    assert "answer.all[1]" in failed  # the real cause is not named
    assert "answer.none[0]" in failed  # and a wrong one is claimed


def test_a_right_answer_with_a_wrong_claim_still_fails() -> None:
    checks = judge_answer(_rules("payment-api-crashloop"), RIGHT + "\npayment-api was OOMKilled.")
    assert [c.rule for c in checks if not c.ok] == ["answer.none[0]"]


def test_other_pods_faults_in_a_broad_answer_are_not_forbidden_claims() -> None:
    answer = (
        "- shop/checkout: ImagePullBackOff, tag v2.3.1-rc not found\n"
        "- shop/image-resizer: OOMKilled (limit 128Mi)\n"
    )
    checks = judge_answer(_rules("checkout-imagepull"), answer)
    assert all(c.ok for c in checks), checks


def test_manifests_are_taken_from_yaml_code_blocks_only() -> None:
    answer = (
        "Here:\n```yaml\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\n---\n"
        "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: b}\n```\n"
        "```python\nprint('apiVersion: v1')\n```\n```\nnot: a manifest\n```"
    )
    assert [d["kind"] for d in extract_manifests(answer)] == ["ConfigMap", "Deployment"]


def _report() -> EvalReport:
    r1 = ScenarioResult(
        scenario="payment-api-crashloop",
        lang="zh",
        status="pass",
        question="为什么？",
        answer="根因：缺少 gateway_url",
        checks=[Check("answer.all[0]", True, "names 'payment-api'")],
        steps=3,
        prompt_tokens=900,
        completion_tokens=100,
        duration=1.25,
        tool_calls=[
            {
                "tool": "get_k8s_pods",
                "arguments": {"namespace": "payments"},
                "status": "ok",
                "mutating": False,
            }
        ],
    )
    r2 = ScenarioResult(
        scenario="fix-scale-cart",
        lang="en",
        status="fail",
        checks=[Check("run finished", True), Check("cluster: x", False, "replicas=2, ready=2")],
    )
    return EvalReport(
        model="m",
        offline=False,
        base_url="http://x",
        langs=["en", "zh"],
        started="2026-01-01T00:00:00Z",
        results=[r1, r2],
    )


def test_results_file_round_trip(tmp_path: Path) -> None:
    report = _report()
    path = write_results(report, tmp_path / "sub" / "r.json")
    assert path.stat().st_mode & 0o777 == 0o600
    data = json.loads(path.read_text(encoding="utf-8"))
    assert data["format"] == FORMAT and data["version"] == 1
    assert data["totals"]["passed"] == 1 and data["totals"]["scenarios"] == 2
    assert data["totals"]["by_lang"]["zh"]["score"] == 1.0
    back = load_results(path)
    assert back.to_dict() == report.to_dict()
    assert back.results[1].failed_rule == "cluster: x: replicas=2, ready=2"
    assert not back.ok and back.passed == 1


def test_results_file_refuses_other_formats_and_newer_versions(tmp_path: Path) -> None:
    path = tmp_path / "r.json"
    path.write_text(json.dumps({"format": FORMAT, "version": 99, "results": []}))
    with pytest.raises(ResultsFileError, match="version 99; this opsconsole reads up to 1"):
        load_results(path)
    path.write_text(json.dumps({"format": "something-else", "version": 1}))
    with pytest.raises(ResultsFileError, match="not an opsconsole eval results file"):
        load_results(path)
    path.write_text("{not json")
    with pytest.raises(ResultsFileError, match="not a readable results file"):
        load_results(path)
    with pytest.raises(ResultsFileError, match="no results file"):
        load_results(tmp_path / "missing.json")
