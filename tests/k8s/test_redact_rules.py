"""The redactor's rules as data (opsconsole/redact/rules.toml): every rule loads and
compiles, and each rule's keywords really prefilter its regex (samples of each shape are in
test_redact.py's table) — the engine looks for a rule's
regex only where one of its keywords occurs, so a string the regex matches that holds none of
them would be a secret the redactor never sees."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from opsconsole.redact.rules import token_rules, vocabulary

RULES = token_rules()
PREFILTERED = [r for r in RULES if r.keywords and not r.context]


def test_every_rule_loads_with_an_id_and_keywords() -> None:
    assert len(RULES) >= 20
    ids = [r.id for r in RULES]
    assert len(ids) == len(set(ids)), "rule ids are unique"
    for rule in RULES:
        assert rule.keywords, f"{rule.id} has no keywords: it would be searched everywhere"
        assert all(k == k.lower() for k in rule.keywords), f"{rule.id}: keywords are lowercase"
    vocab = vocabulary()
    assert vocab is not None


@pytest.mark.parametrize("rule", PREFILTERED, ids=[r.id for r in PREFILTERED])
def test_keywords_prefilter_the_regex(rule) -> None:
    @settings(
        max_examples=30,
        deadline=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
    )
    @given(st.from_regex(rule.regex, fullmatch=True))
    def check(text: str) -> None:
        low = text.lower()
        assert any(k in low for k in rule.keywords), (rule.id, text)

    check()
