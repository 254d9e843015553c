"""``opsconsole`` / ``opsconsole --demo``: build the console with the factory and run it."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from opsconsole.config import Settings


def run(args: argparse.Namespace, settings: Settings) -> int:
    """Build and run the console; returns the process exit code."""
    from opsconsole.errors import UsageError
    from opsconsole.ui.factory import build_app

    if getattr(args, "pods", None) and not getattr(args, "demo", False):
        raise UsageError("--pods generates a sandbox cluster: use it with --demo")
    app = build_app(
        settings,
        demo=bool(getattr(args, "demo", False)),
        offline=bool(getattr(args, "offline", False)),
        context=getattr(args, "context", None),
        namespace=getattr(args, "namespace", None),
        kubeconfig=getattr(args, "kubeconfig", None),
        write=bool(getattr(args, "write", False)),
        multi_agent=bool(getattr(args, "multi_agent", False)),
        resume=getattr(args, "resume", None),
        pods=getattr(args, "pods", None),
        monitoring=bool(getattr(args, "monitoring", False)),
    )
    result = app.run()
    return int(result or app.return_code or 0)


def run_replay(args: argparse.Namespace, settings: Settings) -> int:
    """``opsconsole replay FILE``: play a recorded session in the console (no model, no
    cluster). ``--speed`` 1, 4 or instant."""
    from opsconsole.errors import UsageError
    from opsconsole.sessions.cli import resolve_session_path, sessions_directory
    from opsconsole.sessions.reader import read_session
    from opsconsole.ui.replay import build_replay_app

    path = resolve_session_path(str(getattr(args, "file", "") or ""), sessions_directory(settings))
    session = read_session(path, allow_partial=bool(getattr(args, "partial", False)))
    raw = str(getattr(args, "speed", "1") or "1").strip().lower().rstrip("x×")
    if raw == "instant":
        speed: float | None = None
    else:
        try:
            speed = float(raw)
        except ValueError:
            raise UsageError(f"replay: unknown speed {raw!r}; use 1, 4 or instant") from None
        if speed <= 0:
            raise UsageError("replay: the speed must be positive (1, 4) or instant")
    app = build_replay_app(settings, session, speed=speed)
    result = app.run()
    return int(result or app.return_code or 0)
