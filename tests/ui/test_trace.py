"""The trace widget on its own: one block per step and per tool_call_id, updated in place."""

from __future__ import annotations

from textual.app import App, ComposeResult

from opsconsole.agent import events as ev
from opsconsole.ui.widgets.trace import PodLink, StepBlock, ToolBlock, TracePane, pod_of, preview

from .conftest import screen_text


class TraceApp(App[None]):
    def compose(self) -> ComposeResult:
        yield TracePane(id="trace", timed=False)


def test_pod_of_and_preview() -> None:
    assert pod_of("get_pod_logs", {"namespace": "shop", "pod_name": "web-1"}) == ("shop", "web-1")
    assert pod_of("describe_pod", {"namespace": "shop", "name": "web-1"}) == ("shop", "web-1")
    assert pod_of("scale_deployment", {"namespace": "shop", "name": "web"}) is None
    assert pod_of("get_pod_logs", {"pod_name": "web-1"}) is None
    text = "\n".join(f"line {i}" for i in range(10))
    shown = preview(text)
    assert shown.splitlines()[:4] == ["line 0", "line 1", "line 2", "line 3"]
    assert "6 more line(s)" in shown


async def test_blocks_update_in_place() -> None:
    app = TraceApp()
    async with app.run_test(size=(100, 40)) as pilot:
        trace = app.query_one(TracePane)
        run = "run-1"
        events = [
            ev.RunStarted(run_id=run, task="日志"),
            ev.StepStarted(run_id=run, step=1),
            ev.Thought(run_id=run, step=1, text="先看日志"),
            ev.ToolCallStarted(
                run_id=run,
                step=1,
                tool_call_id="c1",
                tool="get_pod_logs",
                arguments={"namespace": "shop", "pod_name": "web-1"},
            ),
            ev.ToolCallStarted(
                run_id=run,
                step=1,
                tool_call_id="c2",
                tool="get_events",
                arguments={"namespace": "shop"},
            ),
            ev.ToolCallFinished(
                run_id=run,
                step=1,
                tool_call_id="c1",
                tool="get_pod_logs",
                status="ok",
                output="日志第一行\nline 2",
                duration=0.2,
            ),
            ev.UsageReported(run_id=run, step=1, prompt_tokens=100, completion_tokens=20),
            ev.RetryScheduled(
                run_id=run, step=2, attempt=1, max_attempts=3, wait=2.0, reason="rate limited"
            ),
            ev.ToolCallFinished(
                run_id=run,
                step=1,
                tool_call_id="c2",
                tool="get_events",
                status="error",
                output="forbidden",
                duration=0.1,
            ),
        ]
        for event in events:
            await trace.apply(event)
        await pilot.pause()
        # one block per tool_call_id, finished in place
        assert len([n for n in trace.walk() if isinstance(n, ToolBlock)]) == 2
        c1 = trace.tools["c1"]
        assert c1.status == "ok" and "日志第一行" in c1.observation_text()
        assert trace.tools["c2"].status == "error"
        steps = [n for n in trace.walk() if isinstance(n, StepBlock)]
        assert [s.step for s in steps] == [1, 2]
        assert steps[0].tokens == 120 and steps[0].state == "done"  # step 2 began
        assert "retrying in" in steps[1].plain()
        links = [n for n in trace.walk() if isinstance(n, PodLink)]
        assert [(link.namespace, link.pod_name) for link in links] == [("shop", "web-1")]
        assert "日志第一行" in screen_text(app)  # drawn, not only held
        await trace.apply(ev.RunCancelled(run_id=run, step=2))
        await pilot.pause()
        assert steps[1].state == "cancelled"
        assert "cancelled" in trace.lines_of("run-end")[-1].plain()


async def test_specialist_runs_are_nested_and_close_separately() -> None:
    app = TraceApp()
    async with app.run_test(size=(100, 40)) as pilot:
        trace = app.query_one(TracePane)
        top, child = "run-s", "run-o"
        for event in [
            ev.RunStarted(run_id=top, agent="scheduler", task="检查"),
            ev.StepStarted(run_id=top, agent="scheduler", step=1),
            ev.ToolCallStarted(
                run_id=top,
                agent="scheduler",
                step=1,
                tool_call_id="s1",
                tool="ask_ops",
                arguments={"task": "看 pod"},
            ),
            ev.AgentDispatched(
                run_id=top,
                agent="scheduler",
                step=1,
                target="ops",
                task="看 pod",
                child_run_id=child,
                tool_call_id="s1",
            ),
            ev.RunStarted(run_id=child, agent="ops", task="看 pod", parent_run_id=top),
            ev.StepStarted(run_id=child, agent="ops", step=1),
            ev.ToolCallStarted(
                run_id=child,
                agent="ops",
                step=1,
                tool_call_id="k1",
                tool="get_k8s_pods",
                arguments={"namespace": "shop"},
            ),
            ev.RunFinished(run_id=child, agent="ops", step=1, steps=1),
        ]:
            await trace.apply(event)
        await pilot.pause()
        child_step = trace.steps[(child, 1)]
        assert child_step.parent is trace.tools["s1"]  # the tree: inside the ask_ops call
        assert child_step.state == "done" and child_step.nested
        assert trace.steps[(top, 1)].state == "running"  # the scheduler goes on
        assert trace.tools["s1"].status == "running"  # its own call is not closed
        assert trace.tools["k1"].status == "interrupted"
        ends = [n for n in trace.tools["s1"].children if getattr(n, "kind", "") == "run-end"]
        assert "ops: ■ finished" in ends[-1].plain()


async def test_a_call_refused_before_it_started_still_gets_a_block() -> None:
    """A declined batch, read-only or a policy refusal: ToolCallFinished with no start."""
    app = TraceApp()
    async with app.run_test(size=(100, 40)) as pilot:
        trace = app.query_one(TracePane)
        run = "run-1"
        for event in [
            ev.RunStarted(run_id=run, task="restart two"),
            ev.StepStarted(run_id=run, step=1),
            ev.ToolCallFinished(
                run_id=run,
                step=1,
                tool_call_id="c2",
                tool="rollout_restart",
                status="declined",
                output="not run: an earlier change in this batch was declined",
            ),
        ]:
            await trace.apply(event)
        await pilot.pause()
        block = trace.tools["c2"]
        assert block.status == "declined" and block.args == {}
