"""Keyword routing (the fallback when the model is offline or routing fails) and @-addressing.

The seed's table is kept as :func:`route_to_agent`; :func:`route` extends it with Chinese and
English keywords and may pick several specialists for one request, in the order the request
mentions them. Nothing matched -> ``["ops"]`` (the seed's default).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

#: the seed's routing table, exactly
ROUTING = {
    "代码生成": "coder",
    "部署/运维": "ops",
    "安全扫描": "security",
}


def route_to_agent(task_type: str) -> str:
    """The seed's router: a task type from :data:`ROUTING` -> agent name, default ``ops``."""
    return ROUTING.get(task_type, "ops")


_CJK = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]")

KEYWORDS: dict[str, tuple[str, ...]] = {
    "security": (
        # zh
        "安全",
        "漏洞",
        "合规",
        "扫描",
        "权限",
        "特权",
        "明文",
        "密钥",
        "暴露",
        "加固",
        "审计",
        "提权",
        # en
        "security",
        "secure",
        "vulnerability",
        "vulnerabilities",
        "vuln",
        "vulns",
        "compliance",
        "compliant",
        "cve",
        "rbac",
        "privileged",
        "pod security",
        "pss",
        "hardening",
        "harden",
        "exposed",
        "exposure",
        "audit",
        "scan",
        "cis",
        "secrets in",
        "plain text secret",
        "plaintext",
        "password",
        "passwords",
        "credential",
        "credentials",
        "expose",
        "environment variable",
        "environment variables",
        "env var",
        "env vars",
        "密码",
        "环境变量",
    ),
    "coder": (
        "代码",
        "生成",
        "编写",
        "写一个",
        "写个",
        "写一份",
        "写一下",
        "清单",
        "模板",
        "脚本",
        "补丁",
        "审查",
        "评审",
        "yaml",
        "manifest",
        "manifests",
        "helm",
        "kustomize",
        "dockerfile",
        "generate",
        "write a",
        "write an",
        "write me",
        "create a manifest",
        "template",
        "script",
        "patch",
        "code",
        "review this",
        "review the",
        "review my",
        "networkpolicy",
        "network policy",
        "hpa",
    ),
    "ops": (
        "部署",
        "运维",
        "日志",
        "重启",
        "监控",
        "告警",
        "报警",
        "节点",
        "资源",
        "内存",
        "事件",
        "崩溃",
        "状态",
        "扩容",
        "缩容",
        "故障",
        "排查",
        "为什么",
        "巡检",
        "异常",
        "不健康",
        "pod",
        "pods",
        "log",
        "logs",
        "restart",
        "restarting",
        "monitor",
        "monitoring",
        "alert",
        "alerts",
        "node",
        "nodes",
        "usage",
        "cpu",
        "memory",
        "event",
        "events",
        "crash",
        "crashing",
        "crashloop",
        "status",
        "deploy",
        "deployment",
        "deployments",
        "scale",
        "why",
        "failing",
        "diagnose",
        "health",
        "unhealthy",
        "oom",
        "oomkilled",
        "pending",
    ),
}
#: ops words that also describe what the Coder writes: ignored when the Coder is chosen and no
#: other ops word appears ("write a Deployment with 2 replicas and a cpu limit")
WEAK_OPS = frozenset(
    {"部署", "资源", "内存", "deploy", "deployment", "deployments", "cpu", "memory", "scale"}
)
#: security words that are too generic on their own next to a Coder request ("scan" in a YAML
#: review is the Coder's review)
#: nouns every specialist talks about: alone they do not call the Ops agent in next to another
GENERIC_OPS = frozenset(
    {"pod", "pods", "node", "nodes", "deployment", "deployments", "状态", "status", "部署"}
)
WEAK_SECURITY = frozenset({"scan", "扫描", "audit", "审计"})

MENTION_RE = re.compile(r"^\s*@(ops|security|coder|运维|安全|编码|代码)(?![\w-])", re.I)
MENTION_ALIASES = {"运维": "ops", "安全": "security", "编码": "coder", "代码": "coder"}


def _find(text: str, word: str) -> int:
    """Position of ``word`` in lower-cased ``text`` (whole word for ASCII), or -1."""
    if _CJK.search(word) or " " in word:
        return text.find(word)
    m = re.search(rf"(?<![a-z0-9_]){re.escape(word)}(?![a-z0-9_])", text)
    return m.start() if m else -1


def looks_like_yaml(text: str) -> bool:
    return bool(re.search(r"(?m)^\s*apiVersion:\s*\S+", text)) and "kind:" in text


def prose(text: str) -> str:
    """The words before a pasted manifest (the YAML itself must not steer the routing)."""
    m = re.search(r"(?m)^\s*(apiVersion:|kind:|---|```)", text)
    return text[: m.start()] if m else text


@dataclass(frozen=True)
class Route:
    agents: list[str]
    #: the keywords that decided, per agent (for the trace: routing is visible)
    matched: dict[str, list[str]]
    default: bool = False


def route(
    text: str, available: tuple[str, ...] | list[str] = ("ops", "security", "coder")
) -> Route:
    """The specialists a request needs, by keywords, in order of first mention."""
    yaml_like = looks_like_yaml(text or "")
    t = prose(text or "").lower() if yaml_like else (text or "").lower()
    hits: dict[str, tuple[int, list[str]]] = {}
    for agent, words in KEYWORDS.items():
        if agent not in available:
            continue
        found = [(p, w) for w in words if (p := _find(t, w)) >= 0]
        for task_type in ROUTING:  # the seed's task types route through the seed's router
            if route_to_agent(task_type) == agent and task_type in t:
                found.append((t.find(task_type), task_type))
        if found:
            hits[agent] = (min(p for p, _ in found), [w for _, w in sorted(found)])
    if "coder" in available and yaml_like:
        hits.setdefault("coder", (0, ["yaml"]))
    if "ops" in hits and len(hits) > 1 and all(w in GENERIC_OPS for w in hits["ops"][1]):
        del hits["ops"]
    if "coder" in hits:
        if "ops" in hits and all(w in WEAK_OPS for w in hits["ops"][1]):
            del hits["ops"]
        if "security" in hits and all(w in WEAK_SECURITY for w in hits["security"][1]):
            del hits["security"]
    if not hits:
        fallback = "ops" if "ops" in available else (list(available) or ["ops"])[0]
        return Route([fallback], {}, default=True)
    order = sorted(hits, key=lambda a: hits[a][0])
    return Route(order, {a: hits[a][1] for a in order})


def parse_mentions(text: str) -> tuple[list[str], str]:
    """Leading ``@security @ops ...`` addresses -> (agents, the rest of the text)."""
    agents: list[str] = []
    rest = text or ""
    while True:
        m = MENTION_RE.match(rest)
        if not m:
            break
        name = m.group(1).lower()
        name = MENTION_ALIASES.get(name, name)
        if name not in agents:
            agents.append(name)
        rest = rest[m.end() :].lstrip(" \t,，:：")
    return agents, rest.strip()
