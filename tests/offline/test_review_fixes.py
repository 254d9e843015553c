"""Review findings on the offline planner's answers, through the real loop and tools.

- with the cluster down, the answer says it is unreachable and how to check; it does not
  conclude that the object does not exist.
- no model, no tokens: every UsageReported and the RunFinished carry zero.
- B: Chinese answers carry the analyzers' suggestions in Chinese; quoted lines are not ``>``
  block quotes (Markdown merges those into one paragraph); no ``<name>`` placeholders; each
  Thought describes the calls of its own step.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from opsconsole.agent.events import Answer, RunFinished, Thought, UsageReported
from opsconsole.agent.loop import AgentLoop
from opsconsole.agent.tools import ToolRegistry
from opsconsole.config import Settings
from opsconsole.k8s.analyzers import SUGGESTIONS_ZH, suggestion_text
from opsconsole.k8s.client import Cluster
from opsconsole.k8s.tools import build_k8s_tools
from opsconsole.planner import OfflinePlanner

from .conftest import CONTEXT

HEADER = "〔离线规划器 / offline planner〕"


async def run(tools: ToolRegistry, task: str) -> list[Any]:
    loop = AgentLoop(OfflinePlanner(), tools, settings=Settings(), context=CONTEXT)
    return [ev async for ev in loop.run(task)]


def answer_of(events: list[Any]) -> str:
    (answer,) = [e for e in events if isinstance(e, Answer)]
    assert answer.text.startswith(HEADER)
    return answer.text


# --- the cluster is down -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("task", "words"),
    [
        ("why is the api crashing?", ("cluster is unreachable", "kubectl cluster-info")),
        ("为什么 api 一直崩溃", ("无法连接集群", "kubectl cluster-info")),
        ("restart the checkout deployment", ("cluster is unreachable", "Nothing was changed")),
    ],
)
async def test_unreachable_cluster_is_said_not_guessed(
    fresh_sandbox: Any, tmp_path: Path, task: str, words: tuple[str, ...]
) -> None:
    server = fresh_sandbox()
    kc = server.write_kubeconfig(tmp_path / "kubeconfig")
    cluster = Cluster(kubeconfig=kc, context=CONTEXT, request_timeout=2)
    tools = ToolRegistry(build_k8s_tools(cluster, Settings()))
    server.stop()
    try:
        events = await run(tools, task)
    finally:
        cluster.close()
    assert isinstance(events[-1], RunFinished)
    text = answer_of(events)
    for w in words:
        assert w in text, text
    assert "connection refused" in text  # the tools' own error is quoted
    assert f"--context {CONTEXT}" in text
    assert "No pod" not in text and "Pods seen" not in text and "default/cluster" not in text
    # it stops at the first failed step instead of trying more lookups
    assert len([e for e in events if isinstance(e, Thought)]) == 1


# --- zero tokens ------------------------------------------------------------------------


async def test_offline_runs_report_zero_tokens(demo_tools: ToolRegistry) -> None:
    events = await run(demo_tools, "为什么 payments 的 payment-api 一直重启")
    usage = [e for e in events if isinstance(e, UsageReported)]
    assert len(usage) >= 2
    for e in usage:
        assert (e.prompt_tokens, e.completion_tokens) == (0, 0)
        assert (e.total_prompt_tokens, e.total_completion_tokens, e.cost_usd) == (0, 0, 0.0)
    done = events[-1]
    assert isinstance(done, RunFinished)
    assert (done.prompt_tokens, done.completion_tokens) == (0, 0)


# --- B: wording --------------------------------------------------------------------------------


def test_every_analyzer_suggestion_on_the_demo_has_chinese_text(demo_tools: ToolRegistry) -> None:
    texts = [
        demo_tools.get(name).handler({}).content  # type: ignore[union-attr]
        for name in ("find_unhealthy_pods", "find_security_issues")
    ]
    suggestions = {
        line.split("| suggestion:", 1)[1].strip()
        for text in texts
        for line in text.splitlines()
        if "| suggestion:" in line
    }
    assert len(suggestions) >= 8
    for s in suggestions:
        zh = suggestion_text(s, "zh")
        assert zh and re.search(r"[\u4e00-\u9fff]", zh), s
        assert suggestion_text(s, "en") == s


@pytest.mark.parametrize(
    "task",
    [
        "为什么 payments 的 payment-api 一直重启",
        "为什么 shop 的 image-resizer 一直重启",
        "shop 命名空间有哪些安全风险",
    ],
)
async def test_chinese_answers_carry_no_english_suggestions(
    demo_tools: ToolRegistry, task: str
) -> None:
    text = answer_of(await run(demo_tools, task))
    for en in SUGGESTIONS_ZH:
        assert en not in text, en
    assert "建议" in text
    assert any(zh in text for zh in SUGGESTIONS_ZH.values()), text


@pytest.mark.parametrize(
    "task",
    [
        "show pods in namespace shop",
        "what's broken in the cluster",
        "why does payment-api in payments keep restarting",
        "查看 shop 命名空间下所有 Pod 的状态",
    ],
)
async def test_quoted_lines_stay_lines_and_no_angle_placeholders(
    demo_tools: ToolRegistry, task: str
) -> None:
    text = answer_of(await run(demo_tools, task))
    assert not re.search(r"^\s*>", text, re.M), text  # no block quotes
    assert not re.search(r"<(?:name|namespace|名称|命名空间|N)>", text), text
    # evidence / attention lines are bullets of code, one per line
    assert re.search(r"^\s*- (?:evidence: |证据：)?`[^`\n]+`$", text, re.M), text


async def test_listing_tip_uses_a_real_workload(demo_tools: ToolRegistry) -> None:
    text = answer_of(await run(demo_tools, "show pods in namespace shop"))
    # the first pod that needs attention is the example of the follow-up question
    assert re.search(r'ask: "why is [a-z-]+ in shop failing"', text), text


def _described(step_calls: list[dict[str, Any]]) -> set[str]:
    return {c["name"] for c in step_calls}


async def test_thoughts_describe_their_own_calls(demo_tools: ToolRegistry) -> None:
    """The service question's first step is an analyzer scan: its thought says so (and
    does not claim to read endpoints itself); no thought claims the crashed container's logs
    unless a previous-logs call is in its step."""
    events = await run(demo_tools, "payment 服务为什么返回 503")
    thoughts = [e for e in events if isinstance(e, Thought)]
    first = thoughts[0]
    assert _described(first.tool_calls) == {"find_unhealthy_pods"}
    assert "分析器" in first.text and "扫描" in first.text
    for th in thoughts:
        previous = any('"previous": true' in c["arguments"] for c in th.tool_calls)
        assert ("崩溃前的日志" in th.text) == previous, th.text
    events = await run(demo_tools, "why is checkout failing in the shop namespace")
    for th in [e for e in events if isinstance(e, Thought)]:
        names = _described(th.tool_calls)
        if "listing the pods of namespace" in th.text:
            assert "get_k8s_pods" in names, th
        if "scanning" in th.text.lower():
            assert "find_unhealthy_pods" in names, th
