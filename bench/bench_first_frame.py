"""Time to first frame, whole process: ``opsconsole --demo`` against a minimal Textual app.

Both processes run in a pseudo-terminal (so Textual drives a real terminal driver) and exit on
their first ``Ready`` event (the first frame is on screen): the minimal app by itself, opsconsole
through ``OPSCONSOLE_EXIT_AFTER_FIRST_FRAME=1`` (implemented in opsconsole.ui.app). Runs are
interleaved and the medians compared; the goal (PERFORMANCE.md) is a ratio ≤ 1.25.

    python bench/bench_first_frame.py [--runs 15]

Also measured, for the diagnosis: the console built by the factory without the CLI's config
loading (``factory``), which isolates what the UI itself costs.
"""

from __future__ import annotations

import argparse
import os
import pty
import select
import statistics
import subprocess
import sys
import tempfile
import time

MINIMAL_APP = """
from textual.app import App
from textual.widgets import Static

class Minimal(App):
    def compose(self):
        yield Static("hello")

    def on_ready(self):
        self.exit()

Minimal().run()
"""

FACTORY_ONLY = """
import os
os.environ["OPSCONSOLE_EXIT_AFTER_FIRST_FRAME"] = "1"
from opsconsole.config import Settings
from opsconsole.ui.factory import build_app
build_app(Settings(), demo=True).run()
"""


def run_in_pty(argv: list[str], env: dict[str, str], timeout: float = 30.0) -> float:
    """Wall time from spawn to exit of ``argv`` running on a 120x40 pseudo-terminal."""
    master, slave = pty.openpty()
    os.set_blocking(master, False)
    try:
        import fcntl
        import struct
        import termios

        fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 40, 120, 0, 0))
    except OSError:
        pass
    start = time.perf_counter()
    proc = subprocess.Popen(argv, stdin=slave, stdout=slave, stderr=slave, env=env, close_fds=True)
    os.close(slave)
    deadline = start + timeout
    try:
        while proc.poll() is None:
            if time.perf_counter() > deadline:
                proc.kill()
                raise RuntimeError(f"{argv} did not exit within {timeout}s")
            ready, _, _ = select.select([master], [], [], 0.01)
            if ready:
                try:
                    os.read(master, 65536)  # drain, or the child blocks on a full pty
                except OSError:
                    pass
        elapsed = time.perf_counter() - start
    finally:
        os.close(master)
    if proc.returncode != 0:
        raise RuntimeError(f"{argv} exited with {proc.returncode}")
    return elapsed


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=15)
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        env = dict(os.environ)
        env.update(
            {
                "TERM": "xterm-256color",
                "COLUMNS": "120",
                "LINES": "40",
                "OPSCONSOLE_EXIT_AFTER_FIRST_FRAME": "1",
                "OPSCONSOLE_CONFIG_DIR": os.path.join(tmp, "config"),
                "OPSCONSOLE_DATA_DIR": os.path.join(tmp, "data"),
                "OPSCONSOLE_STATE_DIR": os.path.join(tmp, "state"),
            }
        )
        minimal_path = os.path.join(tmp, "minimal.py")
        with open(minimal_path, "w") as fh:
            fh.write(MINIMAL_APP)
        commands = {
            "minimal": [sys.executable, minimal_path],
            "opsconsole --demo": [sys.executable, "-m", "opsconsole", "--demo"],
            "factory (no CLI)": [sys.executable, "-c", FACTORY_ONLY],
        }
        for argv in commands.values():  # warm the OS caches and .pyc files
            run_in_pty(argv, env)
        times: dict[str, list[float]] = {name: [] for name in commands}
        for _ in range(args.runs):
            for name, argv in commands.items():
                times[name].append(run_in_pty(argv, env))

    base = statistics.median(times["minimal"])
    print(f"runs: {args.runs} each, interleaved; medians (whole process, to first frame)")
    for name, values in times.items():
        med = statistics.median(values)
        print(
            f"  {name:20s} {med * 1000:7.1f} ms   ratio {med / base:5.2f}   "
            f"(min {min(values) * 1000:.1f}, max {max(values) * 1000:.1f})"
        )
    ratio = statistics.median(times["opsconsole --demo"]) / base
    goal = 1.25
    verdict = "OK" if ratio <= goal else "MISSED"
    print(f"opsconsole --demo / minimal = {ratio:.2f} (goal ≤ {goal}): {verdict}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
