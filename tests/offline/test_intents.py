"""Intent parsing of the offline planner, in Chinese and English."""

from __future__ import annotations

from typing import get_args

import pytest

from opsconsole.planner.intents import (
    IntentKind,
    Known,
    detect_language,
    parse_intent,
    similarity,
)
from opsconsole.planner.vocabulary import vocabulary


@pytest.mark.parametrize(
    ("text", "kind", "namespace", "target"),
    [
        # the seed's own sentence
        ("查看 default 命名空间下所有 Pod 的状态", "pods", "default", None),
        ("看看 shop 里 api-7d9f-x2 的日志", "logs", "shop", "api-7d9f-x2"),
        ("show logs of pod api-1 in ns shop", "logs", "shop", "api-1"),
        ("kubectl logs -n shop api-1 --previous", "logs", "shop", "api-1"),
        ("为什么 payments 的 ledger 一直重启", "diagnose", "payments", "ledger"),
        ("why is checkout failing", "diagnose", None, "checkout"),
        ("shop/api-1 为什么起不来", "diagnose", "shop", "api-1"),
        ("哪些 Pod 不健康", "unhealthy", None, None),
        ("what's broken in the cluster", "unhealthy", None, None),
        ("资源使用情况", "usage", None, None),
        ("top pods", "usage", None, None),
        ("节点状态", "nodes", None, None),
        ("最近的告警/事件", "events", None, None),
        ("list deployments in shop", "deployments", "shop", None),
        ("shop 命名空间的 deployment 状态", "deployments", "shop", None),
        ("pods in namespace monitoring", "pods", "monitoring", None),
        ("get pods -n kube-system", "pods", "kube-system", None),
        ("show pods in the shop namespace", "pods", "shop", None),
        ("写一首诗", "unknown", None, None),
        ("write me a poem", "unknown", None, None),
        ("delete pod api-1 in shop", "mutate", "shop", "api-1"),
        ("你能做什么", "help", None, None),
        ("谢谢！", "greeting", None, None),
        ("thanks a lot", "greeting", None, None),
        ("shop 命名空间有什么问题", "unhealthy", "shop", None),
        ("看下 worker-3", "diagnose", None, "worker-3"),
        ("image-resizer 内存不够吗", "diagnose", None, "image-resizer"),
        ("ml 命名空间里有哪些 pod", "pods", "ml", None),
        ("which deployments are unavailable", "deployments", None, None),
        ("trainer-0 用了几块 GPU", "gpu", None, "trainer-0"),
        ("有哪些安全风险", "security", None, None),
        ("feature-store 为什么没有 endpoints", "diagnose", None, "feature-store"),
        (
            "Connections to the feature-store service in the ml namespace are refused. Why?",
            "diagnose",
            "ml",
            "feature-store",
        ),
        (
            "Why is payment-api in the payments namespace crash-looping?",
            "diagnose",
            "payments",
            "payment-api",
        ),
        ("请求 shop 命名空间的 cart 服务返回 503，发生了什么？", "diagnose", "shop", "cart"),
        ("Which pods use GPUs, and on which nodes?", "gpu", None, None),
        (
            "Which workloads in shop expose passwords in plain env vars?",
            "security",
            "shop",
            "expose",
        ),
    ],
)
def test_parse(text: str, kind: str, namespace: str | None, target: str | None) -> None:
    intent = parse_intent(text)
    if kind == "unknown":  # the target of an unsupported request does not matter
        assert (intent.kind, intent.namespace) == (kind, namespace)
        return
    assert (intent.kind, intent.namespace, intent.target) == (kind, namespace, target)


def test_language() -> None:
    assert detect_language("查看 default 命名空间") == "zh"
    assert detect_language("show pods") == "en"
    assert detect_language("show pods", "zh") == "zh"
    assert parse_intent("哪些 Pod 不健康").language == "zh"
    assert parse_intent("why is checkout failing").language == "en"


def test_previous_and_lines() -> None:
    intent = parse_intent("show the previous logs of api-1 in ns shop, last 50 lines")
    assert intent.previous and intent.lines == 50
    assert parse_intent("看看 shop 里 api-1 最后 20 行日志").lines == 20


def test_target_kinds() -> None:
    assert parse_intent("why is node worker-3 NotReady").target_kind == "node"
    assert parse_intent("为什么 web 服务没有 endpoint").target_kind == "service"
    assert parse_intent("why is deployment checkout unavailable").target_kind == "deployment"


def test_known_namespace_disambiguates() -> None:
    known = Known(namespaces=frozenset({"payments"}))
    intent = parse_intent("why is ledger in payments crashing", known=known)
    assert (intent.namespace, intent.target) == ("payments", "ledger")
    intent = parse_intent("payments ledger 为什么一直重启", known=known)
    assert (intent.namespace, intent.target) == ("payments", "ledger")


# --- the intents are data: every example is classified as its intent ------------------------

VOCABULARY = vocabulary()
EXAMPLES = [
    (spec.name, lang, example)
    for spec in VOCABULARY.intents
    for lang in ("zh", "en")
    for example in spec.examples.get(lang, ())
]


@pytest.mark.parametrize(("kind", "lang", "example"), EXAMPLES)
def test_every_example_is_classified_as_its_intent(kind: str, lang: str, example: str) -> None:
    intent = parse_intent(example)
    assert intent.kind == kind, (example, intent)
    assert intent.language == lang, example


def test_every_intent_has_examples_in_both_languages_and_known_facts() -> None:
    names = [spec.name for spec in VOCABULARY.intents]
    assert sorted(names) == sorted(k for k in get_args(IntentKind) if k != "unknown")
    facts = {"target", "namespace", "target_kind", *VOCABULARY.cues}
    for spec in VOCABULARY.intents:
        assert spec.examples.get("zh") and spec.examples.get("en"), spec.name
        assert spec.rules, spec.name
        for rule in spec.rules:
            used = [*rule.when, *rule.need, *(f for combo in rule.unless for f in combo)]
            for fact in used:
                assert fact.lstrip("!").split(".")[0] in facts, (spec.name, fact)


def test_no_rule_firing_leaves_a_request_unknown_unless_it_copies_an_example() -> None:
    # no cue at all: unknown, however long the request
    assert parse_intent("describe trainer-0").kind == "unknown"
    # a help word next to a name: help's conditions refuse it, and no example is taken instead
    assert parse_intent("你能做什么 shop").kind == "unknown"
    assert similarity("why is checkout failing", "why is ledger failing") == 1.0
    assert similarity("why is checkout failing", "写一首诗") == 0.0


def test_the_verb_is_the_change_named_first() -> None:
    assert (
        parse_intent("scale the catalog deployment to 3 replicas and restart web").verb == "scale"
    )
    assert parse_intent("重启 web，然后删除 api-1").verb == "restart"
    assert parse_intent("回滚 checkout").verb == "rollback"
