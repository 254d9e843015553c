"""Peak memory against cluster size, whole process: 40 pods (the demo) against 10,000.

Each process is spawned and reaped with ``os.wait4``, whose rusage gives that child's own peak
resident set (``ru_maxrss``), so nothing else on the machine counts. Measured, all in one run:

- ``ask``: ``opsconsole ask --offline --kubeconfig K "<all pods' health>"`` against a sandbox in
  another process (the health check lists every pod, its events, deployments, nodes, services,
  endpoints and metrics);
- ``console``: the console (headless, Textual's ``run_test``) until its pod list shows every pod
  of the cluster, then one offline question about all namespaces answered;
- ``ask --demo --pods N``: the sandbox in the same process as ``ask`` (reported separately: the
  cluster's own objects are then part of the peak).

Goal (docs/performance.md): each front end's peak at 10,000 pods ≤ 2x its peak at 40 pods.

    python bench/bench_memory.py [--pods 10000]
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

TASK = "查看所有命名空间下 Pod 的状态"

CONSOLE = """
import asyncio, resource, sys, time
from opsconsole.config import ModelSettings, SessionSettings, Settings
from opsconsole.ui.factory import build_app

kubeconfig, expected, sessions = sys.argv[1], int(sys.argv[2]), sys.argv[3]
settings = Settings(
    model=ModelSettings(provider="openai", name="offline", base_url="http://127.0.0.1:9/v1"),
    sessions=SessionSettings(record=True, dir=sessions),
)

async def main() -> None:
    app = build_app(settings, offline=True, kubeconfig=kubeconfig, namespace="all", frozen=True)
    async with app.run_test(size=(160, 50)) as pilot:
        deadline = time.monotonic() + 600
        while not (app.feeds.pods_ready and len(app.main.pods.rows()) >= expected):
            if time.monotonic() > deadline:
                raise SystemExit(f"the pod list shows {len(app.main.pods.rows())} of {expected}")
            await pilot.pause(0.2)
        app.main.chat.input.value = sys.argv[4]
        await pilot.press("enter")
        await pilot.pause(0.2)
        while app.bridge.running:
            await pilot.pause(0.2)

asyncio.run(main())
print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)
"""


def _peak_kib(cmd: list[str], env: dict[str, str]) -> tuple[int, float]:
    """(peak RSS of the child in KiB, wall seconds)."""
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(status)
    wall = time.perf_counter() - start
    if proc.returncode != 0:
        err = proc.stderr.read().decode(errors="replace") if proc.stderr else ""
        raise SystemExit(f"{' '.join(cmd[:4])}… failed ({proc.returncode}): {err[-800:]}")
    return usage.ru_maxrss, wall


def _sandbox(tmp: Path, env: dict[str, str], name: str, pods: int | None) -> tuple[Any, Path]:
    kubeconfig = tmp / f"kubeconfig-{name}"
    cmd = [sys.executable, "-m", "opsconsole", "sandbox", "--port", "0"]
    cmd += ["--kubeconfig", str(kubeconfig)]
    if pods:
        cmd += ["--pods", str(pods)]
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 300
    while not (kubeconfig.exists() and kubeconfig.stat().st_size):
        if proc.poll() is not None or time.monotonic() > deadline:
            raise SystemExit(f"the {name} sandbox did not start")
        time.sleep(0.2)
    return proc, kubeconfig


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--pods", type=int, default=10_000)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as d:
        tmp = Path(d)
        env = dict(os.environ)
        for key in ("DEEPSEEK_API_KEY", "OPENAI_API_KEY"):
            env.pop(key, None)
        env.update(
            OPSCONSOLE_CONFIG_DIR=str(tmp / "cfg"),
            OPSCONSOLE_DATA_DIR=str(tmp / "data"),
            OPSCONSOLE_STATE_DIR=str(tmp / "state"),
        )
        small, small_kc = _sandbox(tmp, env, "demo", None)
        big, big_kc = _sandbox(tmp, env, "big", args.pods)
        try:
            rows = []
            for label, kc, n in (
                ("40 pods", small_kc, 40),
                (f"{args.pods} pods", big_kc, args.pods),
            ):
                ask = [sys.executable, "-m", "opsconsole", "ask", "--offline"]
                ask += ["--kubeconfig", str(kc), TASK]
                rows.append(("ask", label, *_peak_kib(ask, env)))
                console = [sys.executable, "-c", CONSOLE, str(kc), str(n), str(tmp / "s"), TASK]
                rows.append(("console", label, *_peak_kib(console, env)))
            for label, pods in (("40 pods", None), (f"{args.pods} pods", args.pods)):
                cmd = [sys.executable, "-m", "opsconsole", "ask", "--demo", "--offline"]
                if pods:
                    cmd += ["--pods", str(pods)]
                rows.append(("ask --demo (in-process)", label, *_peak_kib(cmd + [TASK], env)))
        finally:
            for proc in (small, big):
                proc.terminate()
                proc.wait(timeout=30)
    print(f"{'front end':<26}{'cluster':<13}{'peak RSS':>12}{'wall':>9}{'ratio':>8}")
    base: dict[str, int] = {}
    for front, label, kib, wall in rows:
        base.setdefault(front, kib)
        ratio = kib / base[front]
        print(f"{front:<26}{label:<13}{kib / 1024:>9.1f} MiB{wall:>8.2f}s{ratio:>7.2f}x")


if __name__ == "__main__":
    main()
