"""``opsconsole`` / ``opsconsole --demo``: build the console with the factory and run it."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from opsconsole.config import Settings


def run(args: argparse.Namespace, settings: Settings) -> int:
    """Build and run the console; returns the process exit code."""
    from opsconsole.ui.factory import build_app

    app = build_app(
        settings,
        demo=bool(getattr(args, "demo", False)),
        offline=bool(getattr(args, "offline", False)),
        context=getattr(args, "context", None),
        namespace=getattr(args, "namespace", None),
        kubeconfig=getattr(args, "kubeconfig", None),
        write=bool(getattr(args, "write", False)),
        multi_agent=bool(getattr(args, "multi_agent", False)),
    )
    result = app.run()
    return int(result or app.return_code or 0)


def run_replay(args: argparse.Namespace, settings: Settings) -> int:
    """Replay in the console is not built yet: point to the printed replay."""
    from opsconsole.errors import UsageError

    raise UsageError(
        "replaying a session in the console is not available yet",
        hint=f"use `opsconsole replay --print {getattr(args, 'file', 'FILE')}`",
    )
