"""Benchmark: the pod list at 10,000 pods against Textual's DataTable, in the same run.

Run: ``python bench/bench_pod_list.py [--pods 10000] [--repeat 5]``

Both widgets run inside one headless Textual app at 120x40. Each measurement is the wall time
of the operation, plus processing the messages it caused (``pilot.pause()``), plus rendering
every visible line once (what the next frame costs). Medians over ``--repeat`` runs.

- re-filter: ours ``pod_list.filter = text``; DataTable ``clear()`` + ``add_rows(filtered)``
  (how a DataTable-based list filters);
- re-sort: ours ``set_sort(column)``; DataTable ``sort(column)``;
- one pod changing: ours ``apply("MODIFIED", row)`` (rows touched: 1), against a full resync
  ``set_rows(all)`` and DataTable ``update_cell`` (the best a DataTable can do for one cell).

Goals (docs/performance.md): re-filter / re-sort <= 35 ms (DataTable ~850 ms); one pod <= 5 ms.
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import gc
import random
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from textual import events  # noqa: E402
from textual.app import App, ComposeResult  # noqa: E402
from textual.widgets import DataTable  # noqa: E402

from opsconsole.k8s.models import PodRow  # noqa: E402
from opsconsole.ui.widgets.pod_list import PodList  # noqa: E402
from opsconsole.ui.widgets.pod_model import format_age  # noqa: E402

STATUSES = ["Running"] * 12 + [
    "CrashLoopBackOff",
    "Pending",
    "Completed",
    "ImagePullBackOff",
    "ContainerCreating",
    "Error",
]
FILTERS = ["api", "crash", "node:node-07", "ns:team-3 !running", "is:unhealthy", ""]
SORTS = ["status", "restarts", "age", "node", "name"]


def make_pods(n: int) -> list[PodRow]:
    rnd = random.Random(7)
    rows = []
    for i in range(n):
        status = rnd.choice(STATUSES)
        app = rnd.choice(["api", "web", "worker", "cache", "gateway", "batch", "auth"])
        rows.append(
            PodRow(
                namespace=f"team-{i % 40}",
                name=f"{app}-{rnd.randrange(16**9):09x}-{rnd.randrange(36**5):05x}",
                uid=f"uid-{i}",
                phase={"Pending": "Pending", "Completed": "Succeeded"}.get(status, "Running"),
                status=status,
                ready=0 if status != "Running" else 1,
                total=1,
                restarts=rnd.randrange(20) if status != "Running" else rnd.randrange(3),
                node=f"node-{rnd.randrange(60):02d}",
                pod_ip=f"10.{i // 65536}.{i // 256 % 256}.{i % 256}",
                created=f"2026-11-{1 + rnd.randrange(24):02d}T{rnd.randrange(24):02d}:00:00Z",
            )
        )
    return rows


def cells(row: PodRow) -> tuple[str, ...]:
    return (
        row.namespace,
        row.name,
        row.ready_text,
        row.status,
        str(row.restarts),
        format_age(0),
        row.node,
    )


class Host(App[None]):
    def __init__(self, which: str) -> None:
        super().__init__()
        self.which = which

    def compose(self) -> ComposeResult:
        if self.which == "ours":
            yield PodList()
        else:
            yield DataTable()


def render_visible(widget, height: int) -> None:
    for y in range(height):
        widget.render_line(y)


async def settle(pilot, widget) -> None:
    """Process every message the operation caused, and a DataTable's deferred (idle) work.

    ``pilot.pause()`` would add ~20 ms of waiting for CPU idle to every sample; this waits only
    for the messages (Textual's own ``Pilot._wait_for_screen``) and then runs the DataTable's
    idle handler, where it measures the rows it was given.
    """
    await pilot._wait_for_screen()
    if isinstance(widget, DataTable):
        await widget._on_idle(events.Idle())
        await pilot._wait_for_screen()


async def timed(pilot, widget, height: int, op) -> float:
    """Operation + the messages it caused + rendering every visible line once (a frame)."""
    await settle(pilot, widget)
    gc.collect()
    t0 = time.perf_counter()
    op()
    await settle(pilot, widget)
    render_visible(widget, height)
    return time.perf_counter() - t0


async def bench_ours(rows: list[PodRow], repeat: int) -> dict[str, float]:
    app = Host("ours")
    out: dict[str, float] = {}
    async with app.run_test(size=(120, 40)) as pilot:
        pl = app.query_one(PodList)
        table = pl.table
        h = table.size.height
        out["harness (no-op)"] = statistics.median(
            [await timed(pilot, table, h, lambda: None) for _ in range(20)]
        )
        out["initial set_rows"] = await timed(pilot, table, h, lambda: pl.set_rows(rows))
        filt, sort = [], []
        for _ in range(repeat):
            for f in FILTERS:
                filt.append(await timed(pilot, table, h, lambda f=f: setattr(pl, "filter", f)))
            for c in SORTS:
                sort.append(await timed(pilot, table, h, lambda c=c: pl.set_sort(c)))
        out["re-filter"] = statistics.median(filt)
        out["re-filter min"] = min(filt)
        out["re-filter max"] = max(filt)
        out["re-sort"] = statistics.median(sort)
        out["re-sort min"] = min(sort)
        out["re-sort max"] = max(sort)
        # one pod changing: median over many events, each followed by a frame's rendering
        rnd = random.Random(3)
        one = []
        repainted: list[int] = []
        real_refresh_lines = table.refresh_lines

        def counting_refresh_lines(y_start: int, line_count: int = 1) -> None:
            repainted[-1] += line_count
            real_refresh_lines(y_start, line_count)

        table.refresh_lines = counting_refresh_lines  # count the lines each event repaints
        for _ in range(200 * repeat):
            repainted.append(0)
            i = rnd.randrange(len(rows))
            new = dataclasses.replace(rows[i], restarts=rows[i].restarts + 1, status="Error")
            rows[i] = new
            one.append(await timed(pilot, table, h, lambda r=new: pl.apply("MODIFIED", r)))
        table.refresh_lines = real_refresh_lines
        out["one pod (apply)"] = statistics.median(one)
        out["one pod (apply) p99"] = sorted(one)[int(len(one) * 0.99)]
        # most events hit pods off screen (0 lines); one on screen repaints its own line
        out["lines repainted/event max"] = max(repainted) / 1000
        out["lines repainted/event mean"] = statistics.mean(repainted) / 1000
        resync = [await timed(pilot, table, h, lambda: pl.set_rows(rows)) for _ in range(repeat)]
        out["one pod as full resync"] = statistics.median(resync)
    return out


async def bench_datatable(rows: list[PodRow], repeat: int) -> dict[str, float]:
    app = Host("datatable")
    out: dict[str, float] = {}
    data = [cells(r) for r in rows]
    async with app.run_test(size=(120, 40)) as pilot:
        dt = app.query_one(DataTable)
        h = dt.size.height
        keys = dt.add_columns("NAMESPACE", "NAME", "READY", "STATUS", "RESTARTS", "AGE", "NODE")

        def load(subset):
            dt.clear()
            dt.add_rows(subset)

        out["harness (no-op)"] = statistics.median(
            [await timed(pilot, dt, h, lambda: None) for _ in range(20)]
        )
        out["initial set_rows"] = await timed(pilot, dt, h, lambda: load(data))
        filt, sort = [], []
        for _ in range(repeat):
            for f in FILTERS:
                needle = f.split(":")[-1].split()[0] if f else ""
                subset = [d for d in data if needle in " ".join(d).lower()]
                filt.append(await timed(pilot, dt, h, lambda s=subset: load(s)))
            load(data)
            for i in (3, 4, 5, 6, 1):
                sort.append(await timed(pilot, dt, h, lambda i=i: dt.sort(keys[i])))
        out["re-filter"] = statistics.median(filt)
        out["re-filter min"] = min(filt)
        out["re-filter max"] = max(filt)
        out["re-sort"] = statistics.median(sort)
        out["re-sort min"] = min(sort)
        out["re-sort max"] = max(sort)
        row_keys = list(dt.rows)
        rnd = random.Random(3)
        one = []
        for _ in range(50 * repeat):
            rk = row_keys[rnd.randrange(len(row_keys))]
            one.append(await timed(pilot, dt, h, lambda rk=rk: dt.update_cell(rk, keys[4], "99")))
        out["one pod (apply)"] = statistics.median(one)
        out["one pod (apply) p99"] = sorted(one)[int(len(one) * 0.99)]
    return out


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--pods", type=int, default=10_000)
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    rows = make_pods(args.pods)
    ours = asyncio.run(bench_ours(list(rows), args.repeat))
    theirs = asyncio.run(bench_datatable(list(rows), args.repeat))
    print(f"pod list, {args.pods:,} pods, 120x40, medians of {args.repeat} rounds")
    print(f"{'measure':28} {'ours ms':>10} {'DataTable ms':>13} {'ratio':>8}")
    # every figure: the operation + the messages it caused + rendering all visible rows once
    # (min: the least disturbed sample; on a shared 2-core machine the median drifts with load)
    for key in ours:
        if key.startswith("lines repainted"):
            print(f"{key:28} {ours[key] * 1000:10.2f}  (count, not ms)")
            continue
        a = ours[key] * 1000
        b = theirs.get(key)
        if b is None:
            print(f"{key:28} {a:10.2f} {'-':>13} {'-':>8}")
        else:
            print(f"{key:28} {a:10.2f} {b * 1000:13.2f} {a / (b * 1000):8.3f}")
    goal_filter = ours["re-filter"] * 1000 <= 35 and ours["re-sort"] * 1000 <= 35
    goal_one = ours["one pod (apply)"] * 1000 <= 5
    print(f"goal re-filter/re-sort <= 35 ms: {'met' if goal_filter else 'MISSED'}")
    print(f"goal one pod <= 5 ms (1 row touched): {'met' if goal_one else 'MISSED'}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
