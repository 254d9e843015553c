"""The ``opsconsole sandbox`` sub-command: run the sandbox in the foreground."""

from __future__ import annotations

import argparse
import signal
import sys
import threading
from pathlib import Path
from typing import TYPE_CHECKING, TextIO

if TYPE_CHECKING:
    from .monitoring_stack import MonitoringStack
    from .server import SandboxServer


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The sub-command's options (the CLI may reuse this)."""
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on")
    parser.add_argument("--port", type=int, default=0, help="port (0: a free one)")
    parser.add_argument("--scenario", default="demo", help="scenario name (default: demo)")
    parser.add_argument(
        "--pods",
        type=int,
        default=None,
        help="generate a large cluster of N pods instead of a scenario",
    )
    parser.add_argument(
        "--kubeconfig",
        default=None,
        help="where to write the kubeconfig (default: in the state directory)",
    )
    parser.add_argument(
        "--speed", type=float, default=1.0, help="simulation speed multiplier (default: 1)"
    )
    parser.add_argument(
        "--monitoring",
        action="store_true",
        help="also run a real Prometheus and Alertmanager beside it (when installed)",
    )


def run(
    args: argparse.Namespace,
    *,
    out: TextIO | None = None,
    ready: threading.Event | None = None,
    stop: threading.Event | None = None,
) -> int:
    """Serve until Ctrl-C/SIGTERM (or ``stop`` is set). Exit codes: 0 ok, 1 port in use or
    another runtime error, 2 bad input (unknown scenario, bad --pods/--speed)."""
    from opsconsole.errors import OpsConsoleError

    from .scenario import UnknownScenario
    from .server import SandboxServer

    out = out or sys.stdout
    err = sys.stderr if out is sys.stdout else out
    pods = getattr(args, "pods", None)
    speed = float(getattr(args, "speed", 1.0) or 1.0)
    if pods is not None and not 0 < pods <= 10_000:
        print(f"error: --pods must be between 1 and 10000 (got {pods})", file=err)
        return 2
    if speed <= 0:
        print(f"error: --speed must be greater than 0 (got {speed})", file=err)
        return 2
    try:
        srv = SandboxServer(
            scenario=getattr(args, "scenario", None) or "demo",
            pods=pods,
            host=getattr(args, "host", None) or "127.0.0.1",
            port=int(getattr(args, "port", 0) or 0),
            speed=speed,
        )
    except UnknownScenario as e:
        print(f"error: {e}", file=err)
        return 2
    except ValueError as e:
        print(f"error: {e}", file=err)
        return 2
    try:
        srv.start()
    except OpsConsoleError as e:
        print(f"error: {e}", file=err)
        return e.exit_code
    stop = stop or threading.Event()
    stack: MonitoringStack | None = None
    previous = {}
    if threading.current_thread() is threading.main_thread():
        for sig in (signal.SIGINT, signal.SIGTERM):
            previous[sig] = signal.signal(sig, lambda *_: stop.set())
    try:
        kc = getattr(args, "kubeconfig", None)
        if kc:
            path = Path(kc).expanduser()
        else:
            from opsconsole.paths import ensure_private_dir, state_dir

            path = ensure_private_dir(state_dir()) / "sandbox-kubeconfig.yaml"
        try:
            srv.write_kubeconfig(path)
        except OSError as e:
            print(f"error: cannot write the kubeconfig {path}: {e.strerror}", file=err)
            return 1
        n_pods = len(srv.store.objects.get("pods", {}))
        print(f"opsconsole sandbox ({srv.scenario}, {n_pods} pods) serving at {srv.url}", file=out)
        print(f"kubeconfig: {path}  (context opsconsole-sandbox)", file=out)
        print(f"export KUBECONFIG={path}", file=out)
        if getattr(args, "monitoring", False):
            stack = _monitoring(srv, out, err)
        print("Ctrl-C to stop", file=out, flush=True)
        if ready is not None:
            ready.set()
        while not stop.wait(0.5):
            pass
        print("sandbox stopped", file=out, flush=True)
        return 0
    finally:
        if stack is not None:
            stack.stop()
        srv.stop()
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def _monitoring(srv: SandboxServer, out: TextIO, err: TextIO) -> MonitoringStack | None:
    """Start Prometheus and Alertmanager beside ``srv`` and say where they are (or why not)."""
    from .monitoring_stack import INSTALL_HINT, MonitoringStack, missing_binaries

    missing = missing_binaries()
    if missing:
        print(
            f"no Prometheus or alerts: {', '.join(missing)} not installed ({INSTALL_HINT})",
            file=err,
        )
        return None
    stack = MonitoringStack(srv).start()
    if not stack.wait_ready(300):
        print(f"Prometheus and Alertmanager did not start: {stack.error}", file=err)
        stack.stop()
        return None
    print(f"prometheus: {stack.prometheus_url}  (service monitoring/prometheus-k8s:9090)", file=out)
    print(
        f"alertmanager: {stack.alertmanager_url}  (service monitoring/alertmanager-main:9093)",
        file=out,
    )
    return stack


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="opsconsole sandbox", description="Run the built-in sandbox cluster."
    )
    add_arguments(parser)
    return run(parser.parse_args(argv))
