"""Intent parsing for the offline planner: what the user asked, in Chinese or English.

Pure functions, no I/O. :func:`parse_intent` turns the latest user message into an
:class:`Intent`: a kind (list pods, logs, diagnose, ...), the namespace and target name it
mentions, and the language to answer in. Names the planner has already seen in earlier
observations (``known``) help tell a namespace from a pod or deployment name.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

from opsconsole.planner.states import pod_state

IntentKind = Literal[
    "pods",
    "logs",
    "diagnose",
    "unhealthy",
    "usage",
    "gpu",
    "nodes",
    "events",
    "deployments",
    "security",
    "mutate",
    "greeting",
    "help",
    "unknown",
]

Language = Literal["zh", "en"]

_CJK_RE = re.compile(r"[\u3400-\u9fff\uf900-\ufaff\u3000-\u303f\uff00-\uffef]")
#: a Kubernetes-style name (lower-cased text); dots allowed inside
_NAME = r"[a-z0-9](?:[a-z0-9.-]{0,251}[a-z0-9])?"
_NAME_RE = re.compile(rf"(?<![a-z0-9._/-]){_NAME}(?![a-z0-9_-])")
_ALL_NS_WORDS = (
    "所有命名空间",
    "全部命名空间",
    "所有的命名空间",
    "所有 namespace",
    "整个集群",
    "全集群",
)


@dataclass(frozen=True)
class Known:
    """Names seen in earlier observations of this conversation."""

    namespaces: frozenset[str] = frozenset()
    #: (namespace, pod name)
    pods: frozenset[tuple[str, str]] = frozenset()
    #: (namespace, deployment name)
    deployments: frozenset[tuple[str, str]] = frozenset()
    nodes: frozenset[str] = frozenset()


@dataclass(frozen=True)
class Intent:
    kind: IntentKind
    language: Language
    text: str
    namespace: str | None = None
    target: str | None = None
    #: what the target is, when the text says so: pod | deployment | node | service | None
    target_kind: str | None = None
    all_namespaces: bool = False
    previous: bool = False
    lines: int | None = None
    #: the mutating verb for kind == "mutate" (delete | scale | restart)
    verb: str | None = None
    #: for a change: the pods it selects by state ("the crashlooping pods"), a POD_STATES key
    state: str | None = None


def detect_language(text: str, preference: str = "auto") -> Language:
    if preference in ("zh", "en"):
        return preference  # type: ignore[return-value]
    return "zh" if _CJK_RE.search(text or "") else "en"


# --- vocabulary -------------------------------------------------------------------------

_STOPWORDS = frozenset(
    """
    a an the is are was were be been being am do does did done doing of in on at to for from by
    with without about into over under and or not no yes it its this that these those there here
    what whats what's which who why how when where whose show list get give tell me my our your
    please pls can could would should will shall may might must let lets let's check see look
    looking find all any some every each other others more most many much recent recently latest
    last now current currently just only also still again keep keeps kept going happening happen
    wrong broken failing failed fail fails failure failures crash crashes crashing crashed error
    errors restart restarts restarting restarted issue issues problem problems status state
    health healthy unhealthy ok okay up down running pending ready notready not-ready
    pod pods container containers deployment deployments deploy deploys node nodes namespace
    namespaces ns cluster clusters service services svc log logs event events alert alerts warning
    warnings resource resources usage use used top cpu memory mem gpu gpus disk metrics replica
    replicas workload workloads app apps application image images previous prev tail lines line
    k8s kubernetes kubectl describe diagnose diagnosis debug troubleshoot investigate analyse
    analyze analysis root cause reason reasons explain help hi hello thanks thank you i we you
    delete remove kill scale restart rollout rollback undo apply create edit patch set
    bring back zero mistake accidentally rolling replica-count
    crashloopbackoff crashloop oomkilled oom imagepullbackoff errimagepull backoff
    probe probes readiness liveness endpoint endpoints unavailable available stuck slow
    default-ish n x y via than then so if but why's isn't isnt doesn't doesnt won't wont can't cant
    myself cpu/memory usage/limits limit limits request requests quota write read run make
    want need like know think have has had having got gets getting does doesn't isn't aren't
    wasn't weren't cannot couldn't they them their he she his her him i'm i've you're we're
    it's that's there's anything something everything nothing reachable unreachable access
    accessible work works working
    crashlooping crash-looping crashlooped evicted unschedulable unready oom-killed
    return returns returning respond responds responding
    """.split()
)

_ZH_LOGS = ("日志", "输出", "打印")
_EN_LOGS = ("log", "logs", "logging", "stdout", "output")

_ZH_DIAG = (
    "为什么",
    "发生了什么",
    "出什么事",
    "被拒绝",
    "拒绝",
    "超时",
    "503",
    "为啥",
    "为何",
    "怎么回事",
    "怎么了",
    "什么原因",
    "原因",
    "排查",
    "诊断",
    "分析",
    "一直重启",
    "重启",
    "起不来",
    "启动失败",
    "失败",
    "挂了",
    "崩溃",
    "报错",
    "出错",
    "不可用",
    "不就绪",
    "没就绪",
    "卡在",
    "调度不上",
    "无法调度",
    "拉不下来",
    "访问不了",
    "没有 endpoint",
    "无 endpoint",
    "不正常",
    "有问题",
    "不够",
    "不足",
    "不 ready",
    "没 ready",
    "异常",
)
_EN_DIAG = (
    "why",
    "fail",
    "what happened",
    "happened",
    "refused",
    "503",
    "502",
    "timing out",
    "times out",
    "failing",
    "failed",
    "fails",
    "crash",
    "crashing",
    "crashes",
    "crashloop",
    "crashloopbackoff",
    "restarting",
    "restarts",
    "keeps restarting",
    "diagnose",
    "troubleshoot",
    "investigate",
    "debug",
    "root cause",
    "wrong with",
    "broken",
    "not ready",
    "notready",
    "unavailable",
    "stuck",
    "pending",
    "oomkilled",
    "imagepullbackoff",
    "no endpoints",
    "not working",
    "down",
    "error",
)
_ZH_UNHEALTHY = (
    "不健康",
    "异常的",
    "有问题的",
    "什么问题",
    "啥问题",
    "问题吗",
    "故障",
    "巡检",
    "健康检查",
    "健康状况",
    "有没有问题",
    "出问题",
    "坏了",
)
_EN_UNHEALTHY = (
    "unhealthy",
    "what's broken",
    "whats broken",
    "what is broken",
    "what's wrong",
    "whats wrong",
    "what is wrong",
    "failing pods",
    "broken pods",
    "problems",
    "issues",
    "health check",
    "healthcheck",
    "anything wrong",
    "any problems",
    "triage",
)
_ZH_USAGE = ("资源使用", "使用情况", "使用率", "占用", "资源", "cpu", "内存", "显存", "负载", "top")
_EN_USAGE = (
    "usage",
    "top",
    "cpu",
    "memory",
    "utilization",
    "utilisation",
    "consumption",
    "metrics",
)
_ZH_NODES = ("节点", "node")
_EN_NODES = ("node", "nodes")
_ZH_EVENTS = ("事件", "告警", "警告", "报警", "event")
_EN_EVENTS = ("event", "events", "alert", "alerts", "warning", "warnings")
_ZH_DEPLOY = ("deployment", "部署", "副本", "发布", "工作负载")
_EN_DEPLOY = ("deployment", "deployments", "deploy", "replicas", "rollout", "workloads")
_ZH_SECURITY = (
    "安全",
    "漏洞",
    "合规",
    "特权",
    "以 root",
    "用 root",
    "root 运行",
    "明文",
    "密码",
    "密钥",
)
_EN_SECURITY = (
    "security",
    "secure",
    "vulnerability",
    "vulnerabilities",
    "compliance",
    "privileged",
    "run as root",
    "running as root",
    "hostpath",
    "pss",
    "password",
    "passwords",
    "credentials",
    "plaintext",
    "plain environment",
    "plain env",
)
_GPU_WORDS = ("gpu", "gpus", "显卡", "nvidia", "nvidia.com/gpu", "cuda", "算力")
_ZH_PODS = ("pod", "容器", "状态", "列出", "查看", "看看", "实例")
_EN_PODS = ("pod", "pods", "list", "status", "containers", "show")
_ZH_MUTATE = {
    "删除": "delete",
    "删掉": "delete",
    "扩容": "scale",
    "缩容": "scale",
    "扩缩": "scale",
    "扩到": "scale",
    "缩到": "scale",
    "恢复到": "scale",
    "重启一下": "restart",
    "帮我重启": "restart",
    "滚动重启": "restart",
    "重新启动": "restart",
    "干掉": "delete",
    "杀掉": "delete",
    "回滚": "rollback",
}
_EN_MUTATE = {
    "delete": "delete",
    "remove": "delete",
    "kill": "delete",
    "scale": "scale",
    "rollout restart": "restart",
    "rolling restart": "restart",
    "restart the": "restart",
    "bring it back to": "scale",
    "please restart": "restart",
    "rollback": "rollback",
    "roll back": "rollback",
}
_GREETING_RE = re.compile(
    r"^\s*(?:谢谢|多谢|感谢|你好|您好|好的|好|ok|okay|thanks|thank you|thx|hi|hello|hey|cool|great|"
    r"got it|明白了|知道了)[\s!！.。,，~]*(?:你|您|a lot|so much)?[\s!！.。]*$",
    re.I,
)
_ZH_HELP = ("你能做什么", "你会什么", "帮助", "怎么用", "能干什么", "功能")
_EN_HELP = ("what can you do", "help", "how do i use", "usage:")
_PREVIOUS = (
    "previous",
    "上一次",
    "上次",
    "之前的容器",
    "崩溃前",
    "上一个容器",
    "--previous",
    "-p ",
)


#: "why" words: a request with one of them asks about a change, it does not ask for one
_ZH_WHY = (*_ZH_DIAG[:8], "为何", "怎么回事", "怎么了", "什么原因", "原因")
#: "重启" as a request ("重启 checkout", "把 web 重启"), not as a symptom ("一直重启", "重启次数")
_ZH_RESTART_RE = re.compile(
    r"(?<!一直)(?<!反复)(?<!不断)(?<!频繁)(?<!总是)(?<!经常)(?<!老是)(?<!多次)(?<!持续)"
    r"(?<!还在)(?<!在)(?<!会)重启(?!次数|了|过|的原因|原因|次|后)"
)
_EN_RESTART_RE = re.compile(
    r"^\s*(?:please\s+|pls\s+|(?:can|could|would) you\s+(?:please\s+)?)?restart\b"
)


def _has_word(text: str, words: tuple[str, ...]) -> bool:
    """Whole-word match for ASCII words, substring match for CJK ones."""
    for w in words:
        if _CJK_RE.search(w) or " " in w or "'" in w:
            if w in text:
                return True
        elif re.search(rf"(?<![a-z0-9]){re.escape(w)}(?![a-z0-9])", text):
            return True
    return False


# --- names ---------------------------------------------------------------------------------

_NS_PATTERNS = [
    re.compile(rf"(?<![a-z0-9-])(?:--namespace|-n)[=\s]+({_NAME})"),
    re.compile(rf"\bin\s+(?:the\s+)?({_NAME})\s+(?:namespace|ns)\b"),
    re.compile(rf"({_NAME})[\"'“”]?\s*(?:命名空间|名字空间|名称空间)"),
    re.compile(rf"(?:命名空间|名字空间|名称空间)\s*[\"'“”:：]?\s*({_NAME})"),
    re.compile(rf"(?<![a-z0-9-])({_NAME})[\"'”]?\s+(?:namespace|ns)\b"),
    re.compile(rf"(?<![a-z0-9-])(?:namespace|ns)(?:[\s=:：]+|\s*[\"'“]\s*)({_NAME})"),
]
_NS_SLASH_RE = re.compile(rf"(?<![a-z0-9./:-])({_NAME})/({_NAME})(?![a-z0-9/-])")
_ZH_IN_RE = re.compile(
    rf"(?:在\s*)?({_NAME})\s*(?:里面的|里的|中的|下的|内的|里面|里|中|下面的|下)\s*(?:的\s*)?"
    rf"(?:pod\s*|deployment\s*|服务\s*|应用\s*)?({_NAME})?"
)
_ZH_OF_RE = re.compile(rf"({_NAME})\s*的\s*(?:pod\s*|deployment\s*|服务\s*|应用\s*)?({_NAME})")
_EN_IN_RE = re.compile(rf"\b(?:in|from|of)\s+(?:the\s+)?({_NAME})\b(?!\s*/)")
_TARGET_KIND_RE = [
    ("pod", re.compile(rf"\bpods?\s+[\"'`]?({_NAME})")),
    ("deployment", re.compile(rf"\b(?:deployment|deploy|deployments)\s+[\"'`]?({_NAME})")),
    ("node", re.compile(rf"\bnodes?\s+[\"'`]?({_NAME})")),
    ("service", re.compile(rf"\b(?:service|svc)\s+[\"'`]?({_NAME})")),
    ("pod", re.compile(rf"({_NAME})\s*(?:这个|那个)?\s*pod")),
    ("deployment", re.compile(rf"({_NAME})\s*(?:这个|那个)?\s*(?:deployment|部署)")),
    ("node", re.compile(rf"({_NAME})\s*(?:这个|那个)?\s*(?:节点|node)")),
    ("service", re.compile(rf"({_NAME})\s*(?:这个|那个)?\s*(?:服务|service|svc)")),
    ("node", re.compile(rf"(?:节点)\s*[\"'`]?({_NAME})")),
    ("service", re.compile(rf"(?:服务)\s*[\"'`]?({_NAME})")),
]
_LINES_RE = re.compile(
    r"(?:last|tail|最后|最近|后)\s*(\d{1,5})\s*(?:lines?|行|条)?|(\d{1,5})\s*(?:lines|行)"
)


def _is_name(token: str | None) -> bool:
    return bool(token) and token not in _STOPWORDS and not str(token).isdigit()


def candidate_names(text: str) -> list[str]:
    """ASCII Kubernetes-style names in the text that are not common words, in order."""
    out: list[str] = []
    for m in _NAME_RE.finditer(text):
        tok = m.group(0).strip(".")
        if _is_name(tok) and tok not in out and len(tok) > 1:
            out.append(tok)
    return out


def extract_namespace(text: str, known: Known | None = None) -> str | None:
    """An explicitly named namespace, or a token that is a known namespace."""
    t = text.lower()
    for pat in _NS_PATTERNS:
        for m in pat.finditer(t):
            tok = m.group(1)
            if _is_name(tok):
                return tok
    slash = _NS_SLASH_RE.search(t)
    if slash and _is_name(slash.group(1)):
        return slash.group(1)
    known = known or Known()
    for tok in candidate_names(t):
        if tok in known.namespaces:
            return tok
    for rx in (_ZH_IN_RE, _ZH_OF_RE):
        for m in rx.finditer(t):
            first, second = m.group(1), m.group(2)
            if rx is _ZH_IN_RE and second is not None and not _is_name(second):
                second = None  # "shop 里 crashloop 的 pod": shop is still the namespace
            if _is_name(first) and (second is None or _is_name(second)):
                if second is None and rx is _ZH_OF_RE:
                    continue
                if (
                    second is not None
                    or known.namespaces == frozenset()
                    or first in known.namespaces
                ):
                    return first
    for m in _EN_IN_RE.finditer(t):
        tok = m.group(1)
        if _is_name(tok) and (not known.namespaces or tok in known.namespaces):
            # "logs of api-1 in shop": the token after "in" is a namespace; "of" only if known
            prefix = t[m.start() : m.start() + 3]
            if prefix.startswith("in") or tok in known.namespaces:
                return tok
    return None


def extract_target(text: str, namespace: str | None) -> tuple[str | None, str | None]:
    """The pod / deployment / node / service the text names, and its kind when said."""
    t = text.lower()
    m = _NS_SLASH_RE.search(t)
    if m and _is_name(m.group(2)):
        return m.group(2), None
    for kind, rx in _TARGET_KIND_RE:
        for m in rx.finditer(t):
            tok = m.group(1)
            if _is_name(tok) and tok != namespace:
                return tok, kind
    for tok in candidate_names(t):
        if tok != namespace:
            return tok, None
    return None, None


def _extract_lines(text: str) -> int | None:
    m = _LINES_RE.search(text.lower())
    if not m:
        return None
    n = int(m.group(1) or m.group(2))
    return n if 1 <= n <= 5000 else None


# --- classification ------------------------------------------------------------------------


def parse_intent(text: str, *, language: str = "auto", known: Known | None = None) -> Intent:
    """Classify a request. Never raises; unknown requests get kind ``"unknown"``."""
    raw = (text or "").strip()
    lang = detect_language(raw, language)
    t = raw.lower()
    known = known or Known()
    if not t:
        return Intent(kind="help", language=lang, text=raw)
    if _GREETING_RE.match(t):
        return Intent(kind="greeting", language=lang, text=raw)

    ns = extract_namespace(t, known)
    target, target_kind = extract_target(t, ns)
    if target is not None and target_kind is None:
        if any(target == n for n in known.nodes):
            target_kind = "node"
    all_ns = any(w in t for w in _ALL_NS_WORDS) or bool(
        re.search(r"\ball[\s-]+namespaces\b|\s-a\b|--all-namespaces|\bcluster[- ]wide\b", t)
    )
    previous = any(w in t for w in _PREVIOUS)
    lines = _extract_lines(t)
    common = dict(
        language=lang,
        text=raw,
        namespace=ns,
        target=target,
        target_kind=target_kind,
        all_namespaces=all_ns,
        previous=previous,
        lines=lines,
    )

    def has(zh: tuple[str, ...], en: tuple[str, ...]) -> bool:
        return _has_word(t, zh) or _has_word(t, en)

    # changes: proposed for approval in write mode, explained in read-only mode
    if not has(_ZH_WHY, ("why",)):
        verb = next(
            (v for w, v in {**_ZH_MUTATE, **_EN_MUTATE}.items() if _has_word(t, (w,))), None
        )
        if verb is None and (_ZH_RESTART_RE.search(t) or _EN_RESTART_RE.search(t)):
            verb = "restart"
        if verb is not None:
            state = pod_state(t) if verb == "delete" else None
            return Intent(kind="mutate", verb=verb, state=state, **common)  # type: ignore[arg-type]

    if has(_ZH_LOGS, _EN_LOGS):
        return Intent(kind="logs", **common)  # type: ignore[arg-type]
    if has(_ZH_HELP, _EN_HELP) and target is None and not has(_ZH_DIAG, ()):
        return Intent(kind="help", **common)  # type: ignore[arg-type]

    if has(_ZH_SECURITY, _EN_SECURITY):
        return Intent(kind="security", **common)  # type: ignore[arg-type]
    diag = has(_ZH_DIAG, _EN_DIAG)
    unhealthy = has(_ZH_UNHEALTHY, _EN_UNHEALTHY)
    nodes = has(_ZH_NODES, _EN_NODES)
    if diag and target is not None and not (unhealthy and target_kind is None and "哪些" in t):
        if target_kind is None and nodes and target in known.nodes:
            target_kind = "node"
        common["target_kind"] = target_kind
        return Intent(kind="diagnose", **common)  # type: ignore[arg-type]
    if _has_word(t, _GPU_WORDS):
        return Intent(kind="gpu", **common)  # type: ignore[arg-type]
    if has(_ZH_USAGE, _EN_USAGE) and not diag:
        return Intent(kind="usage", **common)  # type: ignore[arg-type]
    if nodes and not has(("pod",), ("pod", "pods")):
        return Intent(kind="nodes", **common)  # type: ignore[arg-type]
    if has(_ZH_EVENTS, _EN_EVENTS):
        return Intent(kind="events", **common)  # type: ignore[arg-type]
    if has(_ZH_DEPLOY, _EN_DEPLOY) and (not (diag or unhealthy) or target is None):
        return Intent(kind="deployments", **common)  # type: ignore[arg-type]
    if unhealthy or diag:
        return Intent(kind="unhealthy", **common)  # type: ignore[arg-type]
    if has(_ZH_DEPLOY, _EN_DEPLOY):
        return Intent(kind="deployments", **common)  # type: ignore[arg-type]
    if has(_ZH_PODS, _EN_PODS) or ns is not None:
        return Intent(kind="pods", **common)  # type: ignore[arg-type]
    look = ("看看", "看下", "看一下", "查一下", "查下", "查查", "检查", "瞧瞧")
    if target is not None and has(look, ("check", "look at", "inspect", "examine")):
        return Intent(kind="diagnose", **common)  # type: ignore[arg-type]
    return Intent(kind="unknown", **common)  # type: ignore[arg-type]
