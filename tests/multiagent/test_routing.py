"""Keyword routing (the offline / fallback router) in Chinese and English, and @-addressing."""

from __future__ import annotations

import pytest

from opsconsole.team.routing import (
    ROUTING,
    parse_mentions,
    route,
    route_to_agent,
)


def test_seed_table_is_kept_with_ops_as_default():
    assert ROUTING == {"代码生成": "coder", "部署/运维": "ops", "安全扫描": "security"}
    assert route_to_agent("代码生成") == "coder"
    assert route_to_agent("部署/运维") == "ops"
    assert route_to_agent("安全扫描") == "security"
    assert route_to_agent("别的") == "ops"
    for task_type, agent in ROUTING.items():
        assert route(task_type).agents == [agent]


@pytest.mark.parametrize(
    "text, agents",
    [
        ("检查集群的安全问题", ["security"]),
        ("有没有以 root 运行或者特权的容器？做个合规检查", ["security"]),
        ("帮我生成一个 nginx 的 Deployment 和 Service", ["coder"]),
        ("写一个 redis 的部署清单，限制 cpu 和内存", ["coder"]),
        ("payments 里的 pod 为什么一直重启", ["ops"]),
        ("看看 shop 命名空间的告警，再做一次安全扫描", ["ops", "security"]),
        ("先做安全扫描，然后生成一个 NetworkPolicy 的 YAML", ["security", "coder"]),
        ("Scan the cluster for security issues", ["security"]),
        ("are there any RBAC risks or privileged pods?", ["security"]),
        ("write a Deployment manifest for redis with 2 replicas and a cpu limit", ["coder"]),
        ("generate an HPA for the web deployment", ["coder"]),
        ("why is payment-api crashing? show me its logs", ["ops"]),
        ("show the alerts, then check the cluster for vulnerabilities", ["ops", "security"]),
        ("hello there", ["ops"]),
        ("你好", ["ops"]),
    ],
)
def test_keyword_routing_zh_en(text, agents):
    assert route(text).agents == agents


def test_nothing_matched_is_the_seed_default_and_says_so():
    r = route("hello there")
    assert r.default and r.agents == ["ops"] and r.matched == {}
    r = route("检查集群的安全问题")
    assert not r.default and "安全" in r.matched["security"]


def test_pasted_yaml_goes_to_the_coder_and_its_content_does_not_steer():
    text = "review this please:\napiVersion: v1\nkind: Pod\nmetadata: {name: logs-pod}\n"
    assert route(text).agents == ["coder"]


def test_routing_only_offers_available_agents():
    assert route("security scan and logs", ["ops"]).agents == ["ops"]
    assert route("hello", ["security"]).agents == ["security"]


@pytest.mark.parametrize(
    "text, agents, rest",
    [
        ("@security scan shop", ["security"], "scan shop"),
        ("@coder 写一个 Deployment", ["coder"], "写一个 Deployment"),
        ("@ops: pods in shop", ["ops"], "pods in shop"),
        ("@安全 @运维 检查一下", ["security", "ops"], "检查一下"),
        ("@Security scan", ["security"], "scan"),
        ("please ask @security", [], "please ask @security"),
        ("@securityteam hi", [], "@securityteam hi"),
    ],
)
def test_mentions(text, agents, rest):
    assert parse_mentions(text) == (agents, rest)


def test_secret_questions_route_to_security_and_keep_their_namespace() -> None:
    from opsconsole.team.offline import namespace_hint
    from opsconsole.team.routing import route

    q = "Which workloads in the shop namespace expose passwords in plain environment variables?"
    assert route(q).agents == ["security"]
    assert namespace_hint(q) == "shop"
    assert namespace_hint("Do a security review of the cluster and list the riskiest ones.") is None
