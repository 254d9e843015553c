"""Replay seek (issue 11): stepping back (←) and on (→) through a recorded session shows the
same chat, trace, status bar, pod list and log viewer as playing it forward, at every
position, whatever the way there (a checkpoint before each question, then its steps)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from opsconsole.agent import events as ev
from opsconsole.k8s.models import ContainerRow, PodRow
from opsconsole.sessions import SessionRecorder
from opsconsole.sessions.reader import read_session
from opsconsole.ui.replay import build_replay_app

from .conftest import make_settings, wait_for


def _pod(name: str, restarts: int) -> PodRow:
    return PodRow(
        namespace="shop", name=name, uid=name, phase="Running", status="Running",
        ready=1, total=1, restarts=restarts, node="n1", pod_ip="10.0.0.1",
        created="2026-01-01T00:00:00Z",
        containers=[ContainerRow(name="app", image="app:1", ready=True, restart_count=restarts)],
    )  # fmt: skip


def _session(directory: Path) -> Path:
    """Three questions: thoughts, calls (one naming a pod), streamed answers (one long enough
    to be collapsed), pod and log snapshots between the questions."""
    rec = SessionRecorder.create(directory, model="m", fsync=lambda fd: None)
    t = 1_700_000_000.0
    for run in range(1, 4):
        rid = f"r{run}"
        rec.snapshot_pods([_pod(f"web-{run}", run), _pod("db-0", 0)], namespace="shop")
        rec.snapshot_logs([f"log line {run}.{i}" for i in range(5)], pod=f"web-{run}")
        rec.record(ev.RunStarted(run_id=rid, task=f"why does web-{run} fail?", ts=t))
        for step in (1, 2):
            cid = f"c{run}{step}"
            rec.record(ev.StepStarted(run_id=rid, step=step, ts=t + 0.1))
            rec.record(ev.TextDelta(run_id=rid, step=step, text="Looking at ", ts=t + 0.2))
            rec.record(ev.TextDelta(run_id=rid, step=step, text="the pod.", ts=t + 0.21))
            rec.record(ev.Thought(run_id=rid, step=step, text="Looking at the pod.", ts=t + 0.3))
            args = {"namespace": "shop", "pod_name": f"web-{run}"}
            rec.record(ev.ToolCallStarted(
                run_id=rid, step=step, tool_call_id=cid, tool="get_pod_logs", arguments=args,
                ts=t + 0.4,
            ))  # fmt: skip
            rec.record(ev.ToolCallFinished(
                run_id=rid, step=step, tool_call_id=cid, tool="get_pod_logs", status="ok",
                output="\n".join(f"line {i}" for i in range(12)), duration=0.1, ts=t + 0.5,
            ))  # fmt: skip
            rec.record(ev.UsageReported(
                run_id=rid, step=step, prompt_tokens=100, completion_tokens=10,
                total_prompt_tokens=100 * step, total_completion_tokens=10 * step, ts=t + 0.6,
            ))  # fmt: skip
            t += 1
        rec.record(ev.StepStarted(run_id=rid, step=3, ts=t))
        lines = 300 if run == 2 else 6
        answer = "\n".join(f"- finding {run}.{i}: `web-{run}` restarted" for i in range(lines))
        for i in range(0, len(answer), 700):
            rec.record(ev.TextDelta(run_id=rid, step=3, text=answer[i : i + 700], ts=t + i))
            rec.flush()
        rec.record(ev.Answer(run_id=rid, step=3, text=answer, ts=t + 0.5))
        rec.record(ev.RunFinished(run_id=rid, step=3, steps=3, ts=t + 0.6))
        t += 10
    rec.close()
    return rec.path


def _state(app: Any) -> tuple[Any, ...]:
    main = app.main
    status = main.status.snapshot()
    return (
        main.chat.log_view.plain_text(),
        main.trace.plain_text(),
        tuple(sorted(status.items(), key=lambda kv: kv[0])),
        tuple(row.name for row in main.pods.rows()),
        (main.logs.pod, main.logs.line_count),
    )


async def test_stepping_back_and_on_shows_what_playing_forward_shows(tmp_path: Path) -> None:
    session = read_session(_session(tmp_path / "sessions"))
    app = build_replay_app(make_settings(tmp_path), session, speed=None, frozen=True)
    async with app.run_test(size=(120, 40)) as pilot:
        cursor = app.cursor
        await wait_for(pilot, lambda: cursor.at_end and not app.playing, 30, "played")
        await pilot.pause()
        end = len(cursor.steps)
        assert end >= 27  # 3 x (question, 2 x thought, action, observation, answer, finished)
        at_end = _state(app)
        assert "finding 3.5" in at_end[0] and at_end[3] == ("db-0", "web-3")
        back: dict[int, tuple[Any, ...]] = {end: at_end}
        while cursor.position > 0:  # ← all the way
            await pilot.press("left")
            await pilot.pause()
            back[cursor.position] = _state(app)
        assert sorted(back) == list(range(end + 1))
        assert "web-1 fail" not in back[0][0] and back[0][3] == ()
        for position in range(1, end + 1):  # → all the way: playing forward, step by step
            await pilot.press("right")
            await pilot.pause()
            assert cursor.position == position
            assert _state(app) == back[position], f"position {position}"
        # jumps: back over two questions at once, then forward again
        await app.seek(3)
        await pilot.pause()
        assert _state(app) == back[3]
        await app.seek(end - 1)
        await pilot.pause()
        assert _state(app) == back[end - 1]
