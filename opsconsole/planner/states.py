"""Pod states a change can select pods by ("delete the crashlooping pods", "删除 crashloop 的 pod").

Each state has the words that name it (English and Chinese), the analyzers' reasons
(:mod:`opsconsole.k8s.analyzers`) and the STATUS values of ``get_k8s_pods`` that put a pod in it.
"""

from __future__ import annotations

import re

#: pod states a change can select pods by ("delete the crashlooping pods"): key -> (words,
#: the analyzers' reasons, the STATUS column values of get_k8s_pods). Empty reasons: any health
#: finding.
POD_STATES: dict[str, tuple[tuple[str, ...], frozenset[str], frozenset[str]]] = {
    "crashloop": (
        (
            "crashloop",
            "crashlooping",
            "crash-looping",
            "crash looping",
            "crashloopbackoff",
            "crashing",
            "崩溃",
            "一直重启",
            "反复重启",
        ),
        frozenset({"CrashLoopBackOff", "OOMKilled"}),
        frozenset({"CrashLoopBackOff"}),
    ),
    "oom": (
        ("oomkilled", "oom-killed", "oom", "内存溢出", "内存超限"),
        frozenset({"OOMKilled"}),
        frozenset({"OOMKilled"}),
    ),
    "image": (
        ("imagepullbackoff", "errimagepull", "image pull", "拉不下来", "镜像拉取失败"),
        frozenset({"ImagePullBackOff", "ErrImagePull", "InvalidImageName"}),
        frozenset({"ImagePullBackOff", "ErrImagePull", "InvalidImageName"}),
    ),
    "pending": (
        ("pending", "unschedulable", "调度不上", "无法调度"),
        frozenset({"FailedScheduling", "GPUUnschedulable"}),
        frozenset({"Pending"}),
    ),
    "failed": (
        ("evicted", "failed", "被驱逐", "失败的"),
        frozenset({"PodFailed", "ContainerError"}),
        frozenset({"Failed", "Evicted", "Error"}),
    ),
    "notready": (
        ("not ready", "unready", "not-ready", "未就绪", "不就绪", "没就绪"),
        frozenset({"ReadinessProbeFailed"}),
        frozenset(),
    ),
    "unhealthy": (
        ("unhealthy", "broken", "failing", "不健康", "异常", "有问题"),
        frozenset(),
        frozenset(),
    ),
}


def pod_state(text: str) -> str | None:
    """The POD_STATES key a request selects pods by, if it names a state."""
    t = text.lower()
    for key, (words, _reasons, _statuses) in POD_STATES.items():
        if _has(t, words):
            return key
    return None


STATE_LABEL = {
    "crashloop": "CrashLoopBackOff",
    "oom": "OOMKilled",
    "image": "ImagePullBackOff",
    "pending": "Pending",
    "failed": "Failed",
    "notready": "NotReady",
    "unhealthy": "unhealthy",
}


def _has(text: str, words: tuple[str, ...]) -> bool:
    """Whole-word match for ASCII words, substring match for CJK ones and phrases."""
    for w in words:
        if not w.isascii() or " " in w:
            if w in text:
                return True
        elif re.search(rf"(?<![a-z0-9]){re.escape(w)}(?![a-z0-9])", text):
            return True
    return False
