"""The scenario files: the built-in suite loads and covers what the issue asks for; broken
files and unknown names give one clear message (file, key, what was expected)."""

from __future__ import annotations

from pathlib import Path

import pytest

from opsconsole.evals.scenario import (
    ScenarioError,
    builtin_scenarios,
    load_all,
    load_file,
    parse_scenario,
    select,
    user_dir,
)

GOOD = {
    "name": "t1",
    "question": {"en": "why?", "zh": "为什么？"},
    "expect": {"answer": {"all": [["payment-api"], ["KeyError", {"re": "gateway_?url"}]]}},
}


def test_builtin_suite_covers_the_issue() -> None:
    suite = builtin_scenarios()
    names = {s.name for s in suite}
    assert len(suite) >= 15
    demo_faults = {
        "payment-api-crashloop",
        "image-resizer-oom",
        "checkout-imagepull",
        "search-indexer-pending",
        "recommendation-unready",
        "feature-store-no-endpoints",
        "worker-3-memory-pressure",
    }
    assert demo_faults <= names
    assert {s.name for s in suite if "multi-fault" in s.tags} >= {"shop-triage", "cluster-triage"}
    assert any(s.agent == "security" for s in suite)
    coder = [s for s in suite if s.agent == "coder" and s.manifest and s.manifest.dry_run]
    assert coder, "a Coder scenario judged by a server-side dry run"
    fixes = [s for s in suite if s.cluster]
    assert fixes and all(s.write for s in fixes)
    assert any(c.kind == "restarted" for s in fixes for c in s.cluster)
    assert any(c.kind == "deployment" and c.replicas is not None for s in fixes for c in s.cluster)
    for s in suite:
        assert set(s.question) == {"en", "zh"}, s.name
        assert s.source == "builtin"


def test_a_valid_scenario_parses() -> None:
    scn = parse_scenario(GOOD, "t.yaml")
    assert scn.agent == "ops" and scn.sandbox == "demo" and not scn.write
    assert scn.answer.all[1][1].regex
    assert scn.question_for("zh") == ("为什么？", "zh")


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({**GOOD, "expekt": {}}, "t.yaml: top level: unknown key 'expekt'"),
        ({**GOOD, "agent": "dba"}, "t.yaml: agent: expected one of ops, security, coder"),
        (
            {**GOOD, "sandbox": "prod"},
            "t.yaml: sandbox.scenario: expected one of clean, demo, leaky, rbac (got 'prod')",
        ),
        ({**GOOD, "question": {}}, "t.yaml: question: expected a mapping with en and/or zh"),
        ({**GOOD, "question": {"fr": "pourquoi"}}, "question: unknown key 'fr'"),
        ({**GOOD, "name": "Bad Name"}, "t.yaml: name: expected lower-case letters"),
        ({**GOOD, "expect": {}}, "t.yaml: expect: expected at least one rule"),
        (
            {**GOOD, "expect": {"answer": {"all": [[{"re": "(unclosed"}]]}}},
            "t.yaml: expect.answer.all[0][0]: expected a valid regular expression",
        ),
        (
            {**GOOD, "expect": {"answer": {"all": [[]]}}},
            "t.yaml: expect.answer.all[0]: expected a non-empty list of keywords",
        ),
        (
            {**GOOD, "expect": {"cluster": [{"deployment": {"namespace": "a", "name": "b"}}]}},
            "expect.cluster[0].deployment: expected at least one of replicas, ready, min_ready",
        ),
        (
            {
                **GOOD,
                "expect": {
                    "cluster": [{"deployment": {"namespace": "a", "name": "b", "replicas": 2}}]
                },
            },
            "t.yaml: write: expected true for a scenario with cluster checks",
        ),
        (
            {**GOOD, "sandbox": {"scenario": "demo", "setup": [{"explode": {}}]}},
            "t.yaml: sandbox.setup[0]: unknown key 'explode'",
        ),
        (
            {**GOOD, "sandbox": {"setup": [{"scale": {"namespace": "shop", "name": "cart"}}]}},
            "t.yaml: sandbox.setup[0].scale.replicas: expected an integer >= 0",
        ),
    ],
)
def test_invalid_scenarios_say_what_and_where(data: dict, message: str) -> None:
    with pytest.raises(ScenarioError) as err:
        parse_scenario(data, "t.yaml")
    assert message in str(err.value)
    assert err.value.exit_code == 2


def test_bad_yaml_names_the_line(tmp_path: Path) -> None:
    path = tmp_path / "broken.yaml"
    path.write_text("name: broken\nquestion: {en: [unclosed\n", encoding="utf-8")
    with pytest.raises(ScenarioError) as err:
        load_file(path)
    assert str(path) in str(err.value) and "not valid YAML at line" in str(err.value)


def test_user_scenarios_load_and_duplicates_are_refused() -> None:
    d = user_dir()
    d.mkdir(parents=True)
    (d / "mine.yaml").write_text(
        'question: {en: "is cart ok?"}\nexpect: {answer: {all: [[cart]]}}\n', encoding="utf-8"
    )
    names = [s.name for s in load_all()]
    assert "mine" in names and "payment-api-crashloop" in names
    (d / "dup.yaml").write_text(
        "name: payment-api-crashloop\nquestion: {en: x}\nexpect: {answer: {all: [[x]]}}\n",
        encoding="utf-8",
    )
    with pytest.raises(ScenarioError, match="two scenarios are named 'payment-api-crashloop'"):
        load_all()


def test_select_by_name_tag_pattern_and_unknown() -> None:
    suite = builtin_scenarios()
    assert [s.name for s in select(suite, ["payment-api-crashloop"])] == ["payment-api-crashloop"]
    assert {s.name for s in select(suite, ["fix-*"])} == {
        s.name for s in suite if s.name.startswith("fix-")
    }
    assert len(select(suite, ["demo-fault"])) >= 7
    with pytest.raises(ScenarioError) as err:
        select(suite, ["no-such-thing"])
    assert "unknown scenario 'no-such-thing'; known scenarios:" in str(err.value)
    assert "payment-api-crashloop" in str(err.value)
