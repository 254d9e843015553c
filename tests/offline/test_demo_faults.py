"""The offline planner diagnoses every fault of the demo scenario, in Chinese and in English.

End to end: the real agent loop, the real Kubernetes tools, the official client over HTTP to
the sandbox. Each answer must be labelled, name the right root cause, and quote evidence that
really appears in the observations the tools returned.
"""

from __future__ import annotations

import contextlib
import re
from dataclasses import dataclass, field
from typing import Any

import pytest

from opsconsole.agent.events import (
    Answer,
    RunFinished,
    Thought,
    ToolCallFinished,
    ToolCallStarted,
)
from opsconsole.agent.loop import AgentLoop
from opsconsole.agent.tools import ToolRegistry
from opsconsole.config import Settings
from opsconsole.planner import OfflinePlanner

HEADER = "〔离线规划器 / offline planner〕"


@dataclass
class Outcome:
    answer: str = ""
    thoughts: list[str] = field(default_factory=list)
    calls: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    observations: list[str] = field(default_factory=list)
    finished: RunFinished | None = None
    mutating: bool = False


async def ask(tools: ToolRegistry, task: str, *, errors_ok: bool = False) -> Outcome:
    loop = AgentLoop(OfflinePlanner(), tools, settings=Settings())
    out = Outcome()
    async with contextlib.aclosing(loop.run(task)) as events:
        async for ev in events:
            if isinstance(ev, Thought):
                out.thoughts.append(ev.text)
            elif isinstance(ev, ToolCallStarted):
                out.calls.append((ev.tool, ev.arguments))
                out.mutating |= ev.mutating
            elif isinstance(ev, ToolCallFinished):
                assert errors_ok or ev.status == "ok", (ev.tool, ev.output)
                out.observations.append(ev.output)
            elif isinstance(ev, Answer):
                out.answer = ev.text
            elif isinstance(ev, RunFinished):
                out.finished = ev
    assert out.finished is not None, f"the run did not finish: {out}"
    return out


def quoted(answer: str) -> list[str]:
    """The lines the answer quotes: bullets that are one code span each (``- `line` ``)."""
    pattern = r"^\s*- (`+) ?(.*?) ?\1\s*$"
    return [m.group(2).strip() for m in re.finditer(pattern, answer, re.M)]


def no_block_quotes(answer: str) -> None:
    """Markdown merges ``>`` lines into one paragraph: quoted lines are bullets instead."""
    assert not re.search(r"^\s*>", answer, re.M), answer


def check_common(out: Outcome, lang: str) -> None:
    assert out.answer.startswith(HEADER)
    assert out.thoughts, "a Thought must come before the tool calls"
    assert not out.mutating
    # no model, no tokens: the offline planner reports zero usage
    assert out.finished is not None
    assert (out.finished.prompt_tokens, out.finished.completion_tokens) == (0, 0)
    no_block_quotes(out.answer)
    words = (
        ("根因", "证据", "建议的下一步")
        if lang == "zh"
        else ("Root cause", "Evidence", "Next steps")
    )
    for w in words:
        assert w in out.answer, (w, out.answer)
    # every quoted line is really in what the tools returned
    seen = "\n".join(out.observations)
    lines = quoted(out.answer)
    assert lines, out.answer
    for line in lines:
        assert line in seen, f"quoted line not in any observation: {line!r}"


@dataclass(frozen=True)
class Fault:
    id: str
    zh: str
    en: str
    #: each group: at least one of these must be in the answer
    expect: tuple[tuple[str, ...], ...]


FAULTS = [
    Fault(
        "crashloop-bad-config",
        "为什么 payments 的 payment-api 一直重启",
        "why does payment-api in payments keep restarting",
        (
            ("CrashLoopBackOff",),
            ("KeyError: 'PAYMENT_GATEWAY_URL'",),
            ("payment-api-config",),
            ("gateway_url",),
        ),
    ),
    Fault(
        "oomkilled",
        "shop 里的 image-resizer 为什么老是崩溃",
        "why is image-resizer crashing",
        (
            ("OOMKilled",),
            ("memory=128Mi", "memory limit 128Mi"),
            ("137",),
            ("380Mi",),  # what the last log line before the kill says it needed
        ),
    ),
    Fault(
        "imagepullbackoff",
        "为什么 checkout 起不来",
        "why is checkout failing",
        (("ImagePullBackOff",), ("checkout:v2.3.1-rc",), ("not found",)),
    ),
    Fault(
        "pending-insufficient-cpu",
        "search-indexer 为什么一直 Pending",
        "why is search-indexer pending",
        (("FailedScheduling",), ("Insufficient cpu",), ("cpu=6",)),
    ),
    Fault(
        "readiness-probe",
        "shop 里的 recommendation 为什么不就绪",
        "why are the recommendation pods not ready",
        (
            ("ReadinessProbeFailed",),
            ("Readiness probe failed",),
            ("503",),
            ("ml/feature-store",),
        ),
    ),
    Fault(
        "deployment-unavailable",
        "payment-api 这个 deployment 为什么不可用",
        "why is deployment recommendation unavailable",
        (("DeploymentUnavailable",), ("0/2",), ("available 0",)),
    ),
    Fault(
        "node-pressure",
        "worker-3 节点怎么了",
        "why is node worker-3 under pressure",
        (
            ("MemoryPressure",),
            ("worker-3",),
            ("memory-pressure:NoSchedule",),
            ("EvictionThresholdMet",),
            ("monitoring/prometheus-0",),  # the biggest memory user on that node
        ),
    ),
    Fault(
        "service-no-endpoints",
        "为什么 ml 的 feature-store 服务没有 endpoint",
        "why does the feature-store service have no endpoints",
        (("ServiceNoEndpoints",), ("app=feature-store",), ("app=feature-store-server",)),
    ),
]


@pytest.mark.parametrize("lang", ["zh", "en"])
@pytest.mark.parametrize("fault", FAULTS, ids=[f.id for f in FAULTS])
async def test_diagnoses_demo_fault(demo_tools: ToolRegistry, fault: Fault, lang: str) -> None:
    out = await ask(demo_tools, fault.zh if lang == "zh" else fault.en)
    check_common(out, lang)
    for group in fault.expect:
        assert any(x in out.answer for x in group), (group, out.answer)
    if lang == "zh":
        assert "**根因**：" in out.answer
    assert len(out.thoughts) <= 6


@pytest.mark.parametrize(
    ("task", "lang"),
    [("trainer-0 用了几块 GPU", "zh"), ("how many GPUs does trainer-0 use", "en")],
)
async def test_gpu_pod(demo_tools: ToolRegistry, task: str, lang: str) -> None:
    out = await ask(demo_tools, task)
    assert out.answer.startswith(HEADER)
    assert "**2**" in out.answer and "gpu-1" in out.answer
    assert "nvidia.com/gpu=2" in out.answer  # quoted from describe_pod
    seen = "\n".join(out.observations)
    assert all(line in seen for line in quoted(out.answer))
    assert ("GPU 节点" if lang == "zh" else "GPU nodes") in out.answer


@pytest.mark.parametrize(
    ("task", "lang"), [("哪些 Pod 不健康", "zh"), ("what's broken in the cluster", "en")]
)
async def test_whats_broken_lists_every_fault(
    demo_tools: ToolRegistry, task: str, lang: str
) -> None:
    out = await ask(demo_tools, task)
    assert out.calls == [("find_unhealthy_pods", {})]
    for needle in (
        "payment-api",
        "CrashLoopBackOff",
        "OOMKilled",
        "ImagePullBackOff",
        "FailedScheduling",
        "ReadinessProbeFailed",
        "worker-3",
        "ml/feature-store",
    ):
        assert needle in out.answer, needle


async def test_seed_sentence_lists_default_pods(demo_tools: ToolRegistry) -> None:
    out = await ask(demo_tools, "查看 default 命名空间下所有 Pod 的状态")
    assert out.calls == [("get_k8s_pods", {"namespace": "default"})]
    assert "debug-tools" in out.answer and out.answer.startswith(HEADER)


async def test_logs_of_a_crashing_pod(demo_tools: ToolRegistry) -> None:
    out = await ask(demo_tools, "看看 payments 里 payment-api 的日志")
    assert out.calls[-1][0] == "get_pod_logs"
    assert "KeyError: 'PAYMENT_GATEWAY_URL'" in out.answer
    assert "previous" in out.answer  # the crashed container's logs are shown


async def test_unsupported_request_answers_honestly(demo_tools: ToolRegistry) -> None:
    out = await ask(demo_tools, "帮我写一个 Python 爬虫")
    assert out.calls == []
    assert "DEEPSEEK_API_KEY" in out.answer and "model.base_url" in out.answer


async def test_listings_with_attention_rows(demo_tools: ToolRegistry) -> None:
    deps = await ask(demo_tools, "which deployments are unavailable")
    assert deps.calls == [("get_deployments", {})]
    attention = deps.answer.split("Needs attention:")[1]
    for name in ("payments/payment-api", "shop/checkout", "shop/recommendation"):
        assert name in attention
    assert "payments/ledger" not in attention

    events = await ask(demo_tools, "最近 shop 有什么告警")
    assert events.calls == [("get_events", {"warnings_only": True})]
    rows = [ln for ln in events.answer.splitlines() if "  Warning  " in ln]
    assert rows and all("/shop/" in ln for ln in rows)

    nodes = await ask(demo_tools, "节点状态")
    assert nodes.calls == [("get_nodes", {})]
    assert "需要关注" in nodes.answer and "MemoryPressure" in nodes.answer.split("需要关注")[1]

    usage = await ask(demo_tools, "top pods in shop")
    assert usage.calls == [("get_resource_usage", {"namespace": "shop"})]


def test_planner_is_a_model_client() -> None:
    from opsconsole.agent.model import ModelClient

    assert isinstance(OfflinePlanner(), ModelClient)


async def test_pods_of_a_namespace_or_a_workload(demo_tools: ToolRegistry) -> None:
    ks = await ask(demo_tools, "列出 kube-system 的 pod")
    assert ks.calls == [("get_k8s_pods", {"namespace": "kube-system"})]
    assert "coredns" in ks.answer
    api = await ask(demo_tools, "payment-api 的 pod 状态")
    assert ("get_k8s_pods", {"namespace": "payments"}) in api.calls
    rows = [ln for ln in api.answer.splitlines() if "CrashLoopBackOff  0/1" in ln]
    assert len(rows) >= 2 and "ledger" not in api.answer.split("```")[1]


async def test_service_with_unready_pods_is_answered_through_its_pods(
    demo_tools: ToolRegistry,
) -> None:
    out = await ask(demo_tools, "Why is the checkout service down?")
    check_common(out, "en")
    assert "ImagePullBackOff" in out.answer.split("\n")[2]  # the root-cause line
    assert "ServiceNoReadyEndpoints" in out.answer


async def test_with_only_the_seeds_two_tools(demo_tools: ToolRegistry) -> None:
    seed = demo_tools.subset(["get_k8s_pods", "get_pod_logs"])
    out = await ask(seed, "为什么 payments 的 payment-api 一直重启")
    assert {name for name, _ in out.calls} <= {"get_k8s_pods", "get_pod_logs"}
    check_common(out, "zh")
    assert "CrashLoopBackOff" in out.answer and "KeyError: 'PAYMENT_GATEWAY_URL'" in out.answer
