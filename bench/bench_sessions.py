"""Sessions benchmark: open a 10,000-event session for replay (goal <= 0.5 s) and the
recording cost per event, with and without fsync.

Baselines measured in the same run (docs/performance.md: report ratios):
- open: the floor is reading the file and ``json.loads`` of every line with the GC paused
  (what any JSONL reader must do); we report read_session and read_session + ReplayCursor
  (everything the replay screen needs before its first step) against it and against 0.5 s.
- record: the floor is ``json.dumps`` + ``os.write`` of the same event dict (no redaction,
  no lock); we report SessionRecorder.record with fsync off and on against it, and a bare
  ``os.fsync`` on the same disk.

Run: python bench/bench_sessions.py [--events 10000] [--repeat 7]
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from opsconsole.agent import events as ev  # noqa: E402
from opsconsole.sessions import ReplayCursor, SessionRecorder, read_session  # noqa: E402
from opsconsole.sessions.index import list_sessions  # noqa: E402

OUTPUT = "\n".join(
    f"shop/checkout-{i:04d}-7d9f8  1/1  Running  {i % 7} restarts  node-{i % 5}" for i in range(20)
)  # ~1 KB observation, like a small pod list


def sample_events(n: int) -> list[ev.AgentEvent]:
    """A realistic mix: per step a StepStarted, a Thought, a call, its result, usage."""
    out: list[ev.AgentEvent] = []
    t = 1_700_000_000.0
    run = 0
    step = 0
    while len(out) < n:
        if step == 0:
            run += 1
            out.append(ev.RunStarted(run_id=f"r{run}", task=f"为什么 checkout 失败? #{run}", ts=t))
        step += 1
        rid = f"r{run}"
        cid = f"c{run}-{step}"
        out += [
            ev.StepStarted(run_id=rid, step=step, ts=t + 0.1),
            ev.TextDelta(run_id=rid, step=step, text="Looking at the pods in shop.", ts=t + 0.2),
            ev.Thought(run_id=rid, step=step, text="Looking at the pods in shop.", ts=t + 0.3),
            ev.ToolCallStarted(run_id=rid, step=step, tool_call_id=cid, tool="get_k8s_pods",
                               arguments={"namespace": "shop"}, ts=t + 0.4),
            ev.ToolCallFinished(run_id=rid, step=step, tool_call_id=cid, tool="get_k8s_pods",
                                status="ok", output=OUTPUT, duration=0.05, ts=t + 0.5),
            ev.UsageReported(run_id=rid, step=step, prompt_tokens=900, completion_tokens=40,
                             total_prompt_tokens=900 * step, total_completion_tokens=40 * step,
                             ts=t + 0.6),
        ]  # fmt: skip
        t += 1.0
        if step == 8:
            out += [
                ev.Answer(run_id=rid, step=step, text="checkout crash-loops: DB down.", ts=t),
                ev.RunFinished(run_id=rid, step=step, steps=step, ts=t + 0.1),
            ]
            step = 0
    return out[:n]


def write_session(directory: Path, events: list[ev.AgentEvent]) -> Path:
    rec = SessionRecorder.create(directory, model="deepseek-chat", fsync=lambda fd: None)
    msgs: list[dict] = []
    rec.track_transcript(msgs)
    for e in events:
        if isinstance(e, ev.ToolCallFinished):
            msgs.append({"role": "tool", "tool_call_id": e.tool_call_id, "content": e.output})
        rec.record(e)
    rec.close()
    return rec.path


def median_time(fn, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def floor_open(path: Path) -> None:
    gc.disable()
    try:
        data = path.read_bytes()
        [json.loads(line) for line in data.split(b"\n") if line]
    finally:
        gc.enable()


def bench_open(directory: Path, n: int, repeat: int) -> dict[str, float]:
    path = write_session(directory, sample_events(n))
    size = path.stat().st_size
    session = read_session(path)
    assert len(session.events) == n, len(session.events)
    # interleaved, so drift on a shared machine hits all three alike
    fns = {
        "floor": lambda: floor_open(path),
        "read": lambda: read_session(path),
        "replay": lambda: ReplayCursor(read_session(path)),
    }
    times: dict[str, list[float]] = {k: [] for k in fns}
    for _ in range(repeat):
        for name, fn in fns.items():
            t0 = time.perf_counter()
            fn()
            times[name].append(time.perf_counter() - t0)
    floor, read, replay = (statistics.median(times[k]) for k in ("floor", "read", "replay"))
    return {"size_mb": size / 1e6, "records": session.lines, "floor": floor, "read": read,
            "replay": replay}  # fmt: skip


def bench_record(directory: Path, n: int) -> dict[str, float]:
    events = sample_events(n)
    directory.mkdir(parents=True, exist_ok=True)

    def floor() -> float:
        fd = os.open(directory / "floor.jsonl", os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
        t0 = time.perf_counter()
        for e in events:
            line = json.dumps({"type": "event", "event": e.to_dict()}, ensure_ascii=False)
            os.write(fd, line.encode() + b"\n")
        dt = time.perf_counter() - t0
        os.close(fd)
        return dt / n

    def bare_fsync() -> float:
        fd = os.open(directory / "fsync.bin", os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
        t0 = time.perf_counter()
        for _ in range(n):
            os.write(fd, b"x" * 300 + b"\n")
            os.fsync(fd)
        dt = time.perf_counter() - t0
        os.close(fd)
        return dt / n

    def recorder(fsync) -> float:
        rec = SessionRecorder.create(directory, model="m", fsync=fsync)
        t0 = time.perf_counter()
        for e in events:
            rec.record(e)
        rec.flush()
        dt = time.perf_counter() - t0
        rec.close()
        return dt / n

    return {
        "floor": floor(),
        "nosync": recorder(lambda fd: None),
        "sync": recorder(os.fsync),
        "bare_fsync": bare_fsync(),
    }


def bench_list(directory: Path, count: int) -> dict[str, float]:
    """`opsconsole sessions` over ``count`` sessions of ~60 events: cold (no index) and warm."""
    events = sample_events(60)
    for _ in range(count):
        write_session(directory, events)
    t0 = time.perf_counter()
    cold = list_sessions(directory, use_index=False)
    t_cold = time.perf_counter() - t0
    list_sessions(directory)  # builds the index
    t_warm = median_time(lambda: list_sessions(directory), 5)
    assert len(cold) == count
    return {"cold": t_cold, "warm": t_warm}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--events", type=int, default=10_000)
    ap.add_argument("--repeat", type=int, default=7)
    ap.add_argument("--record-events", type=int, default=2000)
    ap.add_argument("--list-sessions", type=int, default=300)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory(dir=os.environ.get("BENCH_DIR")) as tmp:
        o = bench_open(Path(tmp) / "open", args.events, args.repeat)
        print(f"open a {args.events}-event session ({o['records']} records, "
              f"{o['size_mb']:.1f} MB), median of {args.repeat}:")  # fmt: skip
        print(f"  floor (read + json.loads per line, GC paused): {o['floor'] * 1e3:7.1f} ms")
        print(f"  read_session:                                  {o['read'] * 1e3:7.1f} ms"
              f"  ({o['read'] / o['floor']:.2f}x floor)")  # fmt: skip
        print(
            f"  read_session + ReplayCursor (replay ready):    {o['replay'] * 1e3:7.1f} ms"
            f"  ({o['replay'] / o['floor']:.2f}x floor, {o['replay'] / 0.5:.2f}x the 0.5 s goal)"
        )
        r = bench_record(Path(tmp) / "rec", args.record_events)
        print(f"recording cost per event ({args.record_events} events, realistic mix):")
        print(f"  floor (json.dumps + os.write, no redaction):   {r['floor'] * 1e6:7.1f} us")
        print(f"  SessionRecorder.record, fsync off:             {r['nosync'] * 1e6:7.1f} us"
              f"  ({r['nosync'] / r['floor']:.2f}x floor)")  # fmt: skip
        print(f"  SessionRecorder.record, fsync on (default):    {r['sync'] * 1e6:7.1f} us"
              f"  ({r['sync'] / r['floor']:.2f}x floor)")  # fmt: skip
        print(f"  bare write + os.fsync on this disk:            {r['bare_fsync'] * 1e6:7.1f} us")
        li = bench_list(Path(tmp) / "list", args.list_sessions)
        print(f"list {args.list_sessions} sessions (`opsconsole sessions`):")
        print(f"  cold, every file read:                         {li['cold'] * 1e3:7.1f} ms")
        print(f"  warm, from the index (stat per file):          {li['warm'] * 1e3:7.1f} ms"
              f"  ({li['cold'] / li['warm']:.1f}x faster)")  # fmt: skip


if __name__ == "__main__":
    main()
