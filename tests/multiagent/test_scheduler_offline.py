"""The Scheduler with no model (offline router and offline specialists) over the demo sandbox:
keyword routing, fan-out, merged answer, the event tree, @-addressing, follow-ups, the Coder's
template manifests validated by a server dry run."""

from __future__ import annotations

from opsconsole.agent.events import (
    AgentDispatched,
    Answer,
    RunFinished,
    RunStarted,
    ToolCallFinished,
    ToolCallStarted,
)
from opsconsole.config import Settings
from opsconsole.team.scheduler import Scheduler, build_scheduler
from tests.fakes.openai_server import validate_chat_request
from tests.multiagent.kit import collect, of


def _scheduler(cluster) -> Scheduler:
    return build_scheduler(None, cluster, Settings(), offline=True)


def _valid(conv) -> None:
    assert (
        validate_chat_request(
            {"model": "m", "messages": conv.for_request(reasoning_passback=False)}
        )
        is None
    )


async def test_fan_out_merges_each_specialist_result_and_says_who_found_what(demo_cluster):
    s = _scheduler(demo_cluster)
    events = await collect(s, "看看 shop 命名空间的告警，再做一次安全扫描")
    top = of(events, RunStarted, "scheduler")[0]
    assert top.offline and top.parent_run_id is None
    dispatched = of(events, AgentDispatched)
    assert [d.target for d in dispatched] == ["ops", "security"]
    # the tree: every dispatch names the scheduler run, the child run and the ask_* call
    calls = {e.tool_call_id: e.tool for e in of(events, ToolCallStarted, "scheduler")}
    for d in dispatched:
        assert d.run_id == top.run_id and d.agent == "scheduler"
        assert calls[d.tool_call_id] == f"ask_{d.target}"
        child = next(e for e in of(events, RunStarted, d.target))
        assert child.run_id == d.child_run_id and child.parent_run_id == top.run_id
        assert events.index(d) < events.index(child)
        done = [e for e in of(events, RunFinished, d.target) if e.run_id == d.child_run_id]
        assert done and done[0].prompt_tokens > 0 and done[0].duration > 0
    # specialists' tools ran under their own agent names
    tools = {(e.agent, e.tool) for e in of(events, ToolCallFinished) if e.agent != "scheduler"}
    assert {("ops", "get_alerts"), ("security", "security_scan")} <= tools
    answer = of(events, Answer, "scheduler")[0].text
    assert "## 运维 Agent" in answer and "## 安全 Agent" in answer
    assert "ALERT severity=high" in answer  # the Ops agent's alerts
    assert "orders-worker" in answer and "SecretInEnv" in answer  # the Security agent's findings
    assert isinstance(s.terminal_event, RunFinished) and s.terminal_event.run_id == top.run_id
    # the specialists' answers entered the scheduler's transcript as untrusted data
    tool_msgs = [m for m in s.conversation.messages if m["role"] == "tool"]
    assert len(tool_msgs) == 2
    assert all(m["content"].startswith("<untrusted-agent-output agent=") for m in tool_msgs)
    for conv in s.conversations().values():
        _valid(conv)


async def test_english_security_request_goes_only_to_security(demo_cluster):
    s = _scheduler(demo_cluster)
    events = await collect(s, "Scan the cluster for security issues")
    assert [d.target for d in of(events, AgentDispatched)] == ["security"]
    answer = of(events, Answer, "scheduler")[0].text
    assert answer.startswith("Scheduler: routed to Security agent")
    for name in ("debug-tools", "orders-worker", "grafana", "node-exporter"):
        assert name in answer
    assert "sandbox-fake-password-123" not in answer


async def test_at_security_addresses_the_specialist_directly(demo_cluster):
    s = _scheduler(demo_cluster)
    events = await collect(s, "@security scan namespace monitoring")
    assert [d.target for d in of(events, AgentDispatched)] == ["security"]
    assert of(events, AgentDispatched)[0].tool_call_id is None
    # no scheduler model turn: no scheduler Thought / tool call
    assert not of(events, ToolCallStarted, "scheduler")
    sec_calls = [e for e in of(events, ToolCallStarted, "security")]
    assert sec_calls[0].arguments == {"namespace": "monitoring"}
    answer = of(events, Answer, "scheduler")[0].text
    assert "addressed directly" in answer and "grafana" in answer and "debug-tools" not in answer
    assert isinstance(s.terminal_event, RunFinished)
    assert [m["role"] for m in s.conversation.messages] == ["system", "user", "assistant"]
    # in the scheduler's own transcript the specialist's text stays labelled untrusted
    kept = s.conversation.messages[-1]["content"]
    assert '<untrusted-agent-output agent="security"' in kept and "grafana" in kept
    assert "untrusted-agent-output" not in answer


async def test_follow_up_continues_with_the_same_specialist(demo_cluster):
    s = _scheduler(demo_cluster)
    await collect(s, "扫描一下 default 的安全问题")
    events = await collect(s, "那 monitoring 呢？")
    assert [d.target for d in of(events, AgentDispatched)] == ["security"]
    scan = of(events, ToolCallStarted, "security")[0]
    assert scan.arguments == {"namespace": "monitoring"}
    # the security agent's own conversation holds both turns
    users = [m for m in s.subloops["security"].conversation.messages if m["role"] == "user"]
    assert len(users) == 2
    for conv in s.conversations().values():
        _valid(conv)


async def test_offline_coder_generates_and_validates_by_dry_run(demo_cluster):
    s = _scheduler(demo_cluster)
    events = await collect(
        s, "帮我生成一个 nginx 的 Deployment 和 Service，3 个副本，端口 8080，namespace shop"
    )
    assert [d.target for d in of(events, AgentDispatched)] == ["coder"]
    tools = [e.tool for e in of(events, ToolCallStarted, "coder")]
    assert tools == ["generate_manifest", "validate_manifest"]
    val = [e for e in of(events, ToolCallFinished, "coder") if e.tool == "validate_manifest"][0]
    assert val.status == "ok" and val.output.count("server dry run accepted") == 2
    answer = of(events, Answer, "scheduler")[0].text
    assert "## 编码 Agent" in answer and "```yaml" in answer and "replicas: 3" in answer
    assert "kind: Service" in answer and "containerPort: 8080" in answer
    # nothing was applied
    from opsconsole.k8s import queries as q

    assert "nginx" not in {d.name for d in q.list_deployments(demo_cluster, "shop")}


async def test_offline_coder_reviews_pasted_yaml_and_the_dry_run_rejects_it(demo_cluster):
    s = _scheduler(demo_cluster)
    yaml_text = (
        "请审查：\napiVersion: apps/v1\nkind: Deployment\nmetadata: {name: api}\nspec:\n"
        "  replica: 2\n  selector: {matchLabels: {app: api}}\n  template:\n"
        "    metadata: {labels: {app: api}}\n    spec:\n      containers:\n"
        "        - {name: api, image: 'api:latest', securityContext: {privileged: true}}\n"
    )
    events = await collect(s, yaml_text)
    assert [d.target for d in of(events, AgentDispatched)] == ["coder"]
    results = {e.tool: e for e in of(events, ToolCallFinished, "coder")}
    assert results["validate_manifest"].status == "error"
    assert "spec.replica: unknown field" in results["validate_manifest"].output
    assert "reason=PrivilegedContainer" in results["review_manifest"].output
