"""Time to first frame, whole process: ``opsconsole --demo`` against a minimal Textual app.

Both processes run in a pseudo-terminal (so Textual drives a real terminal driver), stamp the
wall clock on their first ``Ready`` event (the first frame is on screen) into
``$OPSCONSOLE_FIRST_FRAME_FILE`` and exit: the minimal app by itself, opsconsole through
``OPSCONSOLE_EXIT_AFTER_FIRST_FRAME=1`` (both hooks are in opsconsole.ui.app). Reported: spawn
-> first frame (the goal, docs/performance.md: ratio ≤ 1.25) and spawn -> exit (includes Textual's
shutdown, the same for both). Runs are interleaved and medians compared.

    python bench/bench_first_frame.py [--runs 15]

Also measured, for the diagnosis: the console built by the factory without the CLI's config
loading (``factory``), which isolates what the UI itself costs.
"""

from __future__ import annotations

import argparse
import os
import pty
import select
import shlex
import statistics
import subprocess
import sys
import tempfile
import time
from typing import Any

MINIMAL_APP = """
import os, time
from textual.app import App
from textual.widgets import Static

class Minimal(App):
    def compose(self):
        yield Static("hello")

    def on_ready(self):
        stamp = os.environ.get("OPSCONSOLE_FIRST_FRAME_FILE")
        if stamp:
            open(stamp, "w").write(f"{time.time()!r} {time.process_time()!r}")
        self.exit()

Minimal().run()
"""

FACTORY_ONLY = """
import gc, os
gc.disable()  # as the CLI does for the console (opsconsole.cli._run_console)
os.environ["OPSCONSOLE_EXIT_AFTER_FIRST_FRAME"] = "1"
from opsconsole.config import Settings
from opsconsole.ui.factory import build_app
build_app(Settings(), demo=True).run()
"""


def run_in_pty(
    argv: list[str], env: dict[str, str], timeout: float = 30.0
) -> tuple[float, float, float, float | None]:
    """``argv`` on a 120x40 pseudo-terminal: seconds from spawn to its first frame (the
    wall-clock stamp it writes to $OPSCONSOLE_FIRST_FRAME_FILE), the CPU time the process had
    used by then (robust when other processes load the machine), and spawn to exit."""
    stamp = os.path.join(env["OPSCONSOLE_BENCH_TMP"], "first-frame")
    for old in (stamp, stamp + ".interactive"):
        if os.path.exists(old):
            os.unlink(old)
    env = {**env, "OPSCONSOLE_FIRST_FRAME_FILE": stamp}
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
    wall_start = time.time()
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
    with open(stamp) as fh:
        wall, cpu = (float(x) for x in fh.read().split())
    interactive = None
    if os.path.exists(stamp + ".interactive"):  # opsconsole: the chat input on screen
        with open(stamp + ".interactive") as fh:
            interactive = float(fh.read().strip()) - wall_start
    return wall - wall_start, cpu, elapsed, interactive


def run_in_tmux(
    argv: list[str], env: dict[str, str], timeout: float = 30.0
) -> tuple[float, float, float, float | None]:
    """``argv`` in a window of a real terminal (a tmux server started once, 120x40), same
    measures as :func:`run_in_pty`. Spawn is stamped by the window's shell just before it
    ``exec``s the command, so the terminal's own start-up is not counted for either app."""
    stamp = os.path.join(env["OPSCONSOLE_BENCH_TMP"], "first-frame")
    spawned = stamp + ".spawn"
    done = stamp + ".done"
    for old in (stamp, stamp + ".interactive", spawned, done):
        if os.path.exists(old):
            os.unlink(old)
    sets = {**{k: v for k, v in env.items() if k.startswith("OPSCONSOLE_")}}
    sets["OPSCONSOLE_FIRST_FRAME_FILE"] = stamp
    exports = " ".join(f"{k}={shlex.quote(v)}" for k, v in sets.items())
    script = (
        f"date +%s.%N > {shlex.quote(spawned)}; env {exports} {shlex.join(argv)}; "
        f"echo $? > {shlex.quote(done)}"
    )
    subprocess.run(
        ["tmux", "-L", TMUX_SOCKET, "new-window", "-d", "sh", "-c", script],
        check=True,
        env=env,
    )
    deadline = time.perf_counter() + timeout
    while not os.path.exists(done) or not os.path.getsize(done):
        if time.perf_counter() > deadline:
            raise RuntimeError(f"{argv} did not exit within {timeout}s in tmux")
        time.sleep(0.01)
    with open(done) as fh:
        code = int(fh.read().strip() or "1")
    if code != 0:
        raise RuntimeError(f"{argv} exited with {code} in tmux")
    with open(spawned) as fh:
        wall_start = float(fh.read().strip())
    with open(stamp) as fh:
        wall, cpu = (float(x) for x in fh.read().split())
    exited = os.path.getmtime(done) - wall_start
    interactive = None
    if os.path.exists(stamp + ".interactive"):
        with open(stamp + ".interactive") as fh:
            interactive = float(fh.read().strip()) - wall_start
    return wall - wall_start, cpu, exited, interactive


TMUX_SOCKET = f"opsconsole-bench-{os.getpid()}"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=15)
    parser.add_argument(
        "--no-compile",
        action="store_true",
        help="do not byte-compile opsconsole first (source-only start, as with "
        "PYTHONDONTWRITEBYTECODE=1 and an editable install)",
    )
    parser.add_argument(
        "--terminal",
        choices=("pty", "tmux"),
        default="tmux",
        help="tmux: a real terminal (the goal's measurement); pty: a bare pseudo-terminal",
    )
    args = parser.parse_args()
    run = run_in_tmux if args.terminal == "tmux" else run_in_pty
    if not args.no_compile:
        # An installed opsconsole has its bytecode compiled (pip does it for a wheel, Python on
        # the first run otherwise); Textual's is already. Without this, a machine that sets
        # PYTHONDONTWRITEBYTECODE (this one does) compiles our ~40 UI and config modules from
        # source on every start (~15 ms) while the minimal app compiles nothing.
        import compileall

        package = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
        compileall.compile_dir(os.path.join(package, "opsconsole"), quiet=1)

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
                "OPSCONSOLE_CACHE_DIR": os.path.join(tmp, "cache"),
                "OPSCONSOLE_BENCH_TMP": tmp,
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
        if args.terminal == "tmux":
            subprocess.run(
                ["tmux", "-L", TMUX_SOCKET, "new-session", "-d", "-x", "120", "-y", "40"],
                check=True,
                env={**env, "TERM": "xterm-256color"},
            )
        try:
            return _measure(args, run, commands, env)
        finally:
            if args.terminal == "tmux":
                subprocess.run(["tmux", "-L", TMUX_SOCKET, "kill-server"], check=False)


def _measure(args: argparse.Namespace, run: Any, commands: dict[str, list[str]], env: Any) -> int:
    for argv in commands.values():  # warm the OS caches and the parsed-theme cache
        run(argv, env)
    first: dict[str, list[float]] = {name: [] for name in commands}
    cpu: dict[str, list[float]] = {name: [] for name in commands}
    whole: dict[str, list[float]] = {name: [] for name in commands}
    ready: list[float] = []
    for _ in range(args.runs):
        for name, argv in commands.items():
            to_frame, cpu_used, to_exit, to_input = run(argv, env)
            first[name].append(to_frame)
            cpu[name].append(cpu_used)
            whole[name].append(to_exit)
            if name == "opsconsole --demo" and to_input is not None:
                ready.append(to_input)

    print(f"runs: {args.runs} each, interleaved, in {args.terminal}; medians, whole process")
    for title, times in (
        ("spawn -> first frame (wall)", first),
        ("CPU time of the process up to its first frame (process_time)", cpu),
        ("spawn -> exit (wall)", whole),
    ):
        base = statistics.median(times["minimal"])
        print(title)
        for name, values in times.items():
            med = statistics.median(values)
            print(
                f"  {name:20s} {med * 1000:7.1f} ms   ratio {med / base:5.2f}   "
                f"(min {min(values) * 1000:.1f}, max {max(values) * 1000:.1f})"
            )
    if ready:  # the first frame shows the layout; the chat input is mounted just after it
        med = statistics.median(ready)
        base = statistics.median(first["minimal"])
        print("spawn -> chat input on screen (opsconsole), against the minimal's first frame")
        print(f"  opsconsole --demo    {med * 1000:7.1f} ms   ratio {med / base:5.2f}")
    ratio = statistics.median(first["opsconsole --demo"]) / statistics.median(first["minimal"])
    goal = 1.25
    verdict = "OK" if ratio <= goal else "MISSED"
    print(f"opsconsole --demo / minimal = {ratio:.2f} (goal ≤ {goal}): {verdict}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
