"""Planning sequences of the offline planner against scripted observations."""

from __future__ import annotations

from typing import Any

from opsconsole.agent.tools import ToolResult
from opsconsole.agent.transcript import LOCAL
from opsconsole.planner import OfflinePlanner, plan
from opsconsole.planner.context import Final, Step

from .scripted import (
    TOOLS,
    changed,
    deployments,
    describe,
    drive,
    error,
    event,
    events,
    finding,
    findings,
    logs,
    nodes,
    pod,
    pods,
    tool,
    usage,
)

HEADER = "〔离线规划器 / offline planner〕"


def unhealthy(ledger: str = "payments/ledger") -> ToolResult:
    """The analyzers' scan: ``ledger`` (ns/workload) crash-loops, a cart pod is OOMKilled,
    Service shop/search selects no pod, and one security finding."""
    return findings(
        finding(
            "high",
            "CrashLoopBackOff",
            "pod",
            f"{ledger}-6f7d8c9b4-k2x9p",
            [
                f"container {ledger.split('/')[1]}: status CrashLoopBackOff, restarts=7, "
                "last exit code 1 (Error)"
            ],
        ),
        finding(
            "high",
            "OOMKilled",
            "pod",
            "shop/cart-5c6d7e8f9-abcde",
            [
                "container cart: last state OOMKilled (exit code 137), restarts=4",
                "memory limit 128Mi",
            ],
        ),
        finding(
            "medium",
            "ServiceNoEndpoints",
            "service",
            "shop/search",
            ["selector app=search-v2 matches no pod in shop"],
            selector={"app": "search-v2"},
        ),
        finding("low", "LatestImageTag", "pod", "web/frontend-1", ["image nginx:latest"]),
        summary="3 unhealthy of 25 pods",
    )


UNHEALTHY = unhealthy()
PAYMENTS_PODS = pods(
    "payments",
    pod(
        "ledger-6f7d8c9b4-k2x9p",
        "CrashLoopBackOff",
        "0/1",
        7,
        "ledger-6f7d8c9b4-k2x9p    0/1    CrashLoopBackOff  7         1h",
    ),
    pod(
        "ledger-db-0",
        "Running",
        "1/1",
        0,
        "ledger-db-0               1/1    Running           0         1h",
    ),
    columns="NAME                      READY  STATUS            RESTARTS  AGE",
)
DESCRIBE = describe(
    "payments",
    "ledger-6f7d8c9b4-k2x9p",
    [
        ("Name", "ledger-6f7d8c9b4-k2x9p"),
        ("Namespace", "payments"),
        ("State", "Waiting"),
        ("Reason", "CrashLoopBackOff"),
        ("Last State", "Terminated"),
        ("Reason", "Error"),
        ("Exit Code", "1"),
        ("Restart Count", "7"),
    ],
    containers=[{"name": "ledger", "limits": {}, "requests": {}, "env": []}],
)
EVENTS = events(
    event(
        "Warning",
        "BackOff",
        "Pod",
        "ledger-6f7d8c9b4-k2x9p",
        "Back-off restarting failed container",
        "Warning  BackOff  pod/ledger-6f7d8c9b4-k2x9p  Back-off restarting failed container",
    )
)
LOGS_PREV = [
    "starting ledger 2.3.1",
    "loading config from /etc/ledger/config.yaml",
    "Traceback (most recent call last):",
    '  File "/app/main.py", line 12, in <module>',
    "KeyError: 'LEDGER_DB_URL'",
]


def logs_of(args: dict[str, Any]) -> ToolResult:
    return logs(LOGS_PREV if args.get("previous") else ["waiting to start: CrashLoopBackOff"])


WORLD: dict[str, Any] = {
    "find_unhealthy_pods": UNHEALTHY,
    "get_k8s_pods": lambda a: (
        PAYMENTS_PODS if a["namespace"] == "payments" else pods(a["namespace"])
    ),
    "describe_pod": DESCRIBE,
    "get_events": EVENTS,
    "get_pod_logs": logs_of,
    "get_nodes": nodes(
        {"name": "node-1", "status": "Ready", "roles": "worker", "line": "node-1 Ready worker"},
        {
            "name": "node-2",
            "status": "NotReady",
            "roles": "worker",
            "line": "node-2 NotReady worker",
        },
        columns="NAME STATUS ROLES",
    ),
    "get_resource_usage": lambda a: usage(
        a.get("namespace"),
        {
            "namespace": "shop",
            "name": "cart-1",
            "cpu": "250m",
            "memory": "120Mi",
            "line": "shop/cart-1 250m 120Mi",
        },
        columns="POD CPU MEMORY",
    ),
    "get_deployments": lambda a: deployments(
        a.get("namespace"),
        {"name": "checkout", "ready": 0, "replicas": 2, "available": 0, "line": "checkout 0/2 0"},
        columns="NAME READY AVAILABLE",
    ),
}


async def test_seed_sentence_lists_default_pods() -> None:
    run = await drive("查看 default 命名空间下所有 Pod 的状态", WORLD)
    assert run.calls == [("get_k8s_pods", {"namespace": "default"})]
    assert run.answer.startswith(HEADER)
    assert "default" in run.answer
    assert run.thoughts and "default" in run.thoughts[0]


async def test_why_ledger_restarts_zh() -> None:
    run = await drive("为什么 payments 的 ledger 一直重启", WORLD)
    # resolve the name first, then describe + events + logs (with previous) in one step
    assert sorted(run.steps[0]) == ["find_unhealthy_pods", "get_k8s_pods"]
    assert sorted(run.steps[1]) == ["describe_pod", "get_events", "get_pod_logs", "get_pod_logs"]
    assert (
        "get_pod_logs",
        {
            "namespace": "payments",
            "pod_name": "ledger-6f7d8c9b4-k2x9p",
            "lines": 100,
            "previous": True,
        },
    ) in run.calls
    assert len(run.steps) == 2
    a = run.answer
    assert a.startswith(HEADER)
    assert "根因" in a and "CrashLoopBackOff" in a
    assert "KeyError: 'LEDGER_DB_URL'" in a  # the telling log line is quoted
    assert "Back-off restarting failed container" in a  # an event is quoted
    assert "kubectl rollout restart deployment/ledger -n payments" in a
    assert not any(name == "delete_pod" for name, _ in run.calls)


async def test_why_checkout_failing_en_without_namespace() -> None:
    world = dict(WORLD)
    world["find_unhealthy_pods"] = unhealthy("shop/checkout")
    run = await drive("why is checkout failing", world)
    assert run.steps[0] == ["find_unhealthy_pods"]
    assert ("describe_pod", {"namespace": "shop", "pod_name": "checkout-6f7d8c9b4-k2x9p"}) in (
        run.calls
    )
    assert "Root cause" in run.answer and "CrashLoopBackOff" in run.answer
    assert "Evidence" in run.answer and "Next steps" in run.answer


async def test_logs_of_a_pod() -> None:
    run = await drive("show logs of pod ledger-db-0 in ns payments", WORLD)
    assert run.calls[0] == ("get_k8s_pods", {"namespace": "payments"})
    assert ("get_pod_logs", {"namespace": "payments", "pod_name": "ledger-db-0", "lines": 100}) in (
        run.calls
    )
    # a healthy pod: no previous logs asked for
    assert not any(a.get("previous") for _, a in run.calls)
    assert "ledger-db-0" in run.answer


async def test_logs_of_a_crashing_pod_include_previous() -> None:
    run = await drive("看看 payments 里 ledger 的日志", WORLD)
    prev = [a for n, a in run.calls if n == "get_pod_logs" and a.get("previous")]
    assert prev and prev[0]["pod_name"] == "ledger-6f7d8c9b4-k2x9p"
    assert "KeyError: 'LEDGER_DB_URL'" in run.answer
    assert "日志" in run.answer


async def test_unhealthy_lists_findings_and_separates_security() -> None:
    run = await drive("哪些 Pod 不健康", WORLD)
    assert run.calls == [("find_unhealthy_pods", {})]
    a = run.answer
    assert "**payments/ledger**" in a and "`ledger-6f7d8c9b4-k2x9p`" in a and "OOMKilled" in a
    assert "shop/search" in a and "Service" in a
    assert "1 条安全发现" in a and "LatestImageTag" in a


async def test_usage_nodes_events_deployments() -> None:
    assert (await drive("top pods", WORLD)).calls == [("get_resource_usage", {})]
    nodes = await drive("节点状态", WORLD)
    assert nodes.calls == [("get_nodes", {})]
    assert "node-2 NotReady" in nodes.answer
    events = await drive("最近的告警", WORLD)
    assert events.calls == [("get_events", {})]
    deps = await drive("list deployments in shop", WORLD)
    assert deps.calls == [("get_deployments", {"namespace": "shop"})]


async def test_node_diagnosis() -> None:
    run = await drive("why is node node-2 NotReady", WORLD)
    assert ("get_nodes", {}) in run.calls
    assert "node-2" in run.answer and "NotReady" in run.answer


async def test_only_offered_tools_are_called() -> None:
    only_pods = [t for t in TOOLS if t["function"]["name"] == "get_k8s_pods"]
    run = await drive("为什么 payments 的 ledger 一直重启", WORLD, tools=only_pods)
    assert {name for name, _ in run.calls} <= {"get_k8s_pods"}
    assert run.answer.startswith(HEADER)


async def test_unsupported_request_zh_and_en() -> None:
    zh = await drive("帮我写一首关于春天的诗", WORLD)
    assert zh.calls == []
    assert "无法处理" in zh.answer and "DEEPSEEK_API_KEY" in zh.answer
    assert "model.base_url" in zh.answer and "查看 default 命名空间下所有 Pod 的状态" in zh.answer
    en = await drive("write me a poem about spring", WORLD)
    assert en.calls == []
    assert "cannot handle" in en.answer and "DEEPSEEK_API_KEY" in en.answer
    assert "Ollama" in en.answer and "vLLM" in en.answer


READ_ONLY_TOOLS = [t for t in TOOLS if t["function"]["name"] != "delete_pod"]
WRITE_TOOLS = [
    *TOOLS,
    tool(
        "scale_deployment",
        {"namespace": "string", "name": "string", "replicas": "integer"},
        ["namespace", "name", "replicas"],
    ),
    tool("rollout_restart", {"namespace": "string", "name": "string"}, ["namespace", "name"]),
]


def _shop_deployment(name: str, n: int) -> dict[str, Any]:
    return {
        "name": name,
        "ready": n,
        "replicas": n,
        "updated": n,
        "available": n,
        "line": f"{name}  {n}/{n}  {n}  {n}  4d",
    }


SHOP_DEPLOYMENTS = deployments(
    "shop",
    _shop_deployment("cart", 2),
    _shop_deployment("catalog", 2),
    _shop_deployment("web", 3),
    summary="deployments in namespace shop: 3",
    columns="NAME  READY  UP-TO-DATE  AVAILABLE  AGE",
)
CHANGE_WORLD: dict[str, Any] = dict(
    WORLD,
    get_deployments=lambda a: (
        SHOP_DEPLOYMENTS if a.get("namespace") == "shop" else deployments(a.get("namespace"))
    ),
)


def changes(run: Any) -> list[tuple[str, dict[str, Any]]]:
    return [
        (n, a) for n, a in run.calls if n in ("delete_pod", "scale_deployment", "rollout_restart")
    ]


async def test_mutating_request_in_read_only_mode_is_explained_not_done() -> None:
    run = await drive("delete pod ledger-db-0 in payments", WORLD, tools=READ_ONLY_TOOLS)
    # the pod is looked up (read-only), never deleted
    assert run.calls == [("get_k8s_pods", {"namespace": "payments"})]
    assert "kubectl delete pod ledger-db-0 -n payments" in run.answer
    assert "read-only" in run.answer


async def test_write_mode_proposes_the_change_for_approval() -> None:
    world = dict(CHANGE_WORLD, scale_deployment=changed("scaled shop/cart to 4 replicas"))
    run = await drive(
        "Scale the cart deployment in the shop namespace to 4 replicas.", world, tools=WRITE_TOOLS
    )
    # the deployment is looked up first, then the change is proposed
    assert run.calls[0] == ("get_deployments", {"namespace": "shop"})
    assert changes(run) == [
        ("scale_deployment", {"namespace": "shop", "name": "cart", "replicas": 4})
    ]
    assert "approval" in run.thoughts[-1]
    assert "scaled shop/cart to 4 replicas" in run.answer


async def test_write_mode_several_changes_in_one_request_zh() -> None:
    world = dict(
        CHANGE_WORLD, scale_deployment=changed("scaled"), rollout_restart=changed("restarted")
    )
    run = await drive(
        "在 shop 命名空间把 catalog deployment 扩到 3 个副本，并滚动重启 web deployment。",
        world,
        tools=WRITE_TOOLS,
    )
    assert sorted(changes(run)) == [
        ("rollout_restart", {"namespace": "shop", "name": "web"}),
        ("scale_deployment", {"namespace": "shop", "name": "catalog", "replicas": 3}),
    ]
    # one change per step, so each has its own approval and a decline skips only that one
    assert run.steps[-2:] == [["scale_deployment"], ["rollout_restart"]]
    assert "1" in run.thoughts[-2] and "2" in run.thoughts[-1]
    assert "变更结果" in run.answer


async def test_scale_without_a_count_is_explained() -> None:
    run = await drive("scale the cart deployment in shop", CHANGE_WORLD, tools=WRITE_TOOLS)
    assert changes(run) == []
    assert "How many replicas" in run.answer and "shop/cart" in run.answer


async def test_tool_error_is_reported_honestly() -> None:
    world = dict(
        WORLD,
        get_k8s_pods=error("forbidden", "error: forbidden: pods is forbidden in namespace default"),
    )
    run = await drive("查看 default 命名空间下所有 Pod 的状态", world)
    assert "forbidden" in run.answer and "错误" in run.answer


async def test_steps_are_bounded() -> None:
    # a world where the target is never found: the planner must still answer, within bounds
    world = dict(WORLD, find_unhealthy_pods=findings(summary="no unhealthy pods"))
    run = await drive("why is ghost failing", world)
    assert len(run.steps) <= 6
    assert "ghost" in run.answer


async def test_follow_up_uses_names_from_earlier_observations() -> None:
    first = await drive("哪些 Pod 不健康", WORLD)
    history = first.messages + [{"role": "assistant", "content": first.answer}]
    run = await drive("为什么 ledger 一直重启", WORLD, history=history)
    # ledger is known from the earlier findings: no need to search again
    assert run.steps[0][0] == "describe_pod"
    assert "CrashLoopBackOff" in run.answer


def test_plan_is_stateless_and_pure() -> None:
    messages = [{"role": "user", "content": "哪些 Pod 不健康"}]
    a, b = plan(messages, TOOLS), plan(messages, TOOLS)
    assert isinstance(a, Step) and a == b
    assert isinstance(plan([{"role": "user", "content": "hi there"}], []), Final)


def test_label() -> None:
    p = OfflinePlanner()
    assert p.label == "offline planner" and p.offline is True


def test_tool_schema_helper() -> None:
    assert tool("x", {}, [])["function"]["name"] == "x"


async def test_default_namespace_comes_from_the_session() -> None:
    """The session's default namespace (what stays local of the system message), not the
    prompt's wording."""
    history = [
        {
            "role": "system",
            "content": "当前集群上下文：demo；默认命名空间：payments。",
            LOCAL: {"context": "demo", "namespace": "payments"},
        }
    ]
    run = await drive("列出所有 Pod", WORLD, history=history)
    assert run.calls == [("get_k8s_pods", {"namespace": "payments"})]


def test_finding_with_suggestion_is_read_from_the_scans_data() -> None:
    from opsconsole.k8s.analyzers import Finding as K8sFinding
    from opsconsole.k8s.render import render_findings
    from opsconsole.planner.causes import finding_cause
    from opsconsole.planner.facts import findings_in
    from opsconsole.planner.observations import Observation

    node = K8sFinding(
        "critical",
        "node",
        None,
        "worker-3",
        "NodeNotReady",
        ["Ready=Unknown: NodeStatusUnknown Kubelet stopped posting node status."],
        "check the kubelet",
    )
    _text, data = render_findings([node], "all namespaces", 1, 1, 2000)
    (f,) = findings_in(Observation("c1", "find_unhealthy_pods", {}, data=data))
    assert (f.kind, f.namespace, f.name, f.reason) == ("node", None, "worker-3", "NodeNotReady")
    assert f.evidence.startswith("Ready=Unknown") and f.suggestion == "check the kubelet"
    assert finding_cause(f) is not None and finding_cause(f).key == "node"


async def test_forced_language() -> None:
    run = await drive("为什么 payments 的 ledger 一直重启", WORLD, language="en")
    assert "Root cause" in run.answer and "根因" not in run.answer
    assert run.thoughts[0].startswith("First") or run.thoughts[0].startswith("Scanning")
    run = await drive("why is ledger failing", WORLD, language="zh")
    assert "根因" in run.answer


async def test_wrong_namespace_finds_the_workload_elsewhere() -> None:
    run = await drive("为什么 shop 的 ledger 一直重启", WORLD)
    assert ("describe_pod", {"namespace": "payments", "pod_name": "ledger-6f7d8c9b4-k2x9p"}) in (
        run.calls
    )
    assert "命名空间 `shop` 里没有找到它" in run.answer and "CrashLoopBackOff" in run.answer


async def test_later_clause_about_the_same_object_wins() -> None:
    world = dict(CHANGE_WORLD, scale_deployment=changed("scaled"))
    run = await drive(
        "shop 的 cart deployment 被误缩容到 0，请恢复到 2 个副本。", world, tools=WRITE_TOOLS
    )
    assert changes(run) == [
        ("scale_deployment", {"namespace": "shop", "name": "cart", "replicas": 2})
    ]
