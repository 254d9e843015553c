"""The console on the sandbox: ask -> the trace shows the steps -> the answer; the
trace-to-pod link; approvals (approve, decline) for a scripted model's scale_deployment."""

from __future__ import annotations

from pathlib import Path

from opsconsole.ui.factory import build_app
from opsconsole.ui.messages import ShowPod
from opsconsole.ui.screens.modals import ApprovalModal, OutputModal
from opsconsole.ui.widgets.trace import PodLink, ToolBlock
from tests.fakes.openai_server import reply, tool_call

from .conftest import chat_text, make_settings, trace_text, wait_for

SEED_QUESTION = "查看 default 命名空间下所有 Pod 的状态"


async def _ready(pilot, app) -> None:
    await wait_for(pilot, lambda: app.backend is not None and app.feeds.pods_ready, 30, "pods")


async def _ask(pilot, app, text: str) -> None:
    app.main.chat.input.focus()
    app.main.chat.input.value = text
    await pilot.press("enter")


async def test_seed_question_trace_then_answer_offline(tmp_path: Path) -> None:
    app = build_app(make_settings(tmp_path), demo=True, offline=True, frozen=True)
    async with app.run_test(size=(120, 40)) as pilot:
        await _ready(pilot, app)
        status = app.main.status
        assert status.offline and status.sandbox and status.context == "opsconsole-sandbox"
        await _ask(pilot, app, SEED_QUESTION)
        await wait_for(pilot, lambda: "■ finished" in trace_text(app), 60, "run finished")
        trace = trace_text(app)
        # Thought, Action and Observation of step 1, then the answer step
        assert "Step 1" in trace and "Thought" in trace
        assert "get_k8s_pods" in trace and "namespace=default" in trace
        assert "Observation" in trace and "pods in namespace default" in trace
        assert "Step 2" in trace and "answered" in trace
        answers = app.main.chat.log_view.answers
        assert len(answers) == 1 and "default" in answers[0].source
        # the offline planner calls no model: it uses no tokens
        assert status.state == "ready" and status.steps == 2 and status.tokens == 0
        # Enter on the Action (the trace's cursor: ↓ from the top) opens the whole observation
        trace_pane = app.main.trace
        trace_pane.focus()
        trace_pane.action_top()
        await pilot.press("down")
        assert isinstance(trace_pane.cursor, ToolBlock)
        await pilot.press("enter")
        assert isinstance(app.screen, OutputModal)
        assert "pods in namespace default" in app.screen.text
        await pilot.press("escape")
        assert not isinstance(app.screen, OutputModal)


async def test_trace_pod_link_selects_pod_and_shows_logs(tmp_path: Path) -> None:
    app = build_app(make_settings(tmp_path), demo=True, offline=True, frozen=True)
    async with app.run_test(size=(120, 40)) as pilot:
        await _ready(pilot, app)
        pods = app.main.pods
        target = next(r for r in pods.rows() if r.status == "CrashLoopBackOff")
        await _ask(
            pilot, app, f"show the logs of pod {target.name} in namespace {target.namespace}"
        )
        await wait_for(pilot, lambda: "■ finished" in trace_text(app), 60, "run finished")
        links = [
            link
            for link in app.main.trace.walk()
            if isinstance(link, PodLink)
            and (link.namespace, link.pod_name) == (target.namespace, target.name)
        ]
        assert links, trace_text(app)
        app.main.trace.focus()
        app.main.trace.select(links[0])
        await pilot.press("enter")
        await wait_for(
            pilot,
            lambda: pods.highlighted is not None and pods.highlighted.key == target.key,
            5,
            "pod selected",
        )
        logs = app.main.logs
        assert (logs.namespace, logs.pod) == (target.namespace, target.name)
        await wait_for(pilot, lambda: logs.line_count > 0, 10, "log lines")
        # k9s habit: d on the pod list describes the selected pod
        pods.table.focus()
        await pilot.press("d")
        await wait_for(pilot, lambda: isinstance(app.screen, OutputModal), 10, "describe")
        assert target.name in app.screen.text


def _scale_script(srv) -> None:
    srv.push(
        reply(
            "web 需要扩容。",
            tool_calls=[
                tool_call(
                    "scale_deployment",
                    {"namespace": "shop", "name": "cart", "replicas": 3},
                    id="call_scale",
                )
            ],
        ),
        reply("Done: cart is at 3 replicas."),
    )


async def _approval_run(tmp_path: Path, srv, keys: tuple[str, ...]):
    app = build_app(
        make_settings(tmp_path, base_url=srv.base_url), demo=True, write=True, frozen=True
    )
    async with app.run_test(size=(120, 40)) as pilot:
        await _ready(pilot, app)
        assert app.main.status.write_mode
        await _ask(pilot, app, "scale cart to 3")
        await wait_for(pilot, lambda: isinstance(app.screen, ApprovalModal), 15, "approval")
        modal = app.screen
        view = modal.view
        assert (view.verb, view.namespace, view.context) == ("scale", "shop", "opsconsole-sandbox")
        assert "cart" in view.target
        assert view.dry_run  # the server-side dry run is shown
        await wait_for(pilot, lambda: modal.armed, 15, "armed")  # keys work once armed
        await pilot.press(*keys)
        await wait_for(pilot, lambda: not app.bridge.running, 15, "run end")
        return app, chat_text(app), trace_text(app)


async def test_approval_decline_becomes_tool_result(tmp_path: Path, model_server) -> None:
    _scale_script(model_server)
    app, chat, trace = await _approval_run(tmp_path, model_server, ("d",))
    assert "declined" in trace
    tool_messages = [m for m in model_server.requests[1]["messages"] if m["role"] == "tool"]
    assert len(tool_messages) == 1 and "declined" in tool_messages[0]["content"]
    assert model_server.rejections == []


async def test_approval_approve_runs_the_call(tmp_path: Path, model_server) -> None:
    _scale_script(model_server)
    app, chat, trace = await _approval_run(tmp_path, model_server, ("a",))
    assert "Done: cart is at 3 replicas." in chat
    tool_messages = [m for m in model_server.requests[1]["messages"] if m["role"] == "tool"]
    assert len(tool_messages) == 1 and "declined" not in tool_messages[0]["content"]
    assert "scale_deployment" in trace and " ok" in trace
    assert model_server.rejections == []


async def test_approval_modal_lists_the_whole_batch(tmp_path: Path, model_server) -> None:
    model_server.push(
        reply(
            tool_calls=[
                tool_call("scale_deployment", {"namespace": "shop", "name": "cart", "replicas": 3}),
                tool_call("rollout_restart", {"namespace": "shop", "name": "web"}),
            ]
        ),
        reply("One done, one declined."),
    )
    app = build_app(
        make_settings(tmp_path, base_url=model_server.base_url), demo=True, write=True, frozen=True
    )
    async with app.run_test(size=(120, 40)) as pilot:
        await _ready(pilot, app)
        await _ask(pilot, app, "scale cart and restart web")
        await wait_for(pilot, lambda: isinstance(app.screen, ApprovalModal), 15, "approval 1")
        first = app.screen.view
        assert len(first.batch) == 2 and first.index == 0
        assert "restart deployment/web in shop" in first.batch[1]
        await wait_for(pilot, lambda: app.screen.armed, 15, "armed")
        await pilot.press("a")
        await wait_for(
            pilot,
            lambda: isinstance(app.screen, ApprovalModal) and app.screen.view.index == 1,
            15,
            "approval 2",
        )
        await wait_for(pilot, lambda: app.screen.armed, 15, "armed")
        await pilot.press("d")
        await wait_for(pilot, lambda: not app.bridge.running, 15, "run end")
    tools = [m for m in model_server.requests[1]["messages"] if m["role"] == "tool"]
    assert len(tools) == 2
    assert "declined" not in tools[0]["content"] and "declined" in tools[1]["content"]
    assert model_server.rejections == []


async def test_pod_link_to_another_namespace_switches_the_list(tmp_path: Path) -> None:
    app = build_app(make_settings(tmp_path), demo=True, offline=True, frozen=True)
    async with app.run_test(size=(120, 40)) as pilot:
        await _ready(pilot, app)
        await app.bridge.switch_namespace("shop")
        pods = app.main.pods
        await wait_for(pilot, lambda: app.feeds.pods_ready and pods.namespace == "shop", 15)
        app.post_message(ShowPod("payments", "postgres-0"))
        await wait_for(
            pilot,
            lambda: (
                pods.highlighted is not None and pods.highlighted.key == ("payments", "postgres-0")
            ),
            15,
            "pod selected in its namespace",
        )
        assert app.main.status.namespace == "payments"
        assert (app.main.logs.namespace, app.main.logs.pod) == ("payments", "postgres-0")
