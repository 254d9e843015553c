"""The one factory that builds the console: used by the CLI and by the snapshot tests."""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

from opsconsole.ui.app import AppOptions, OpsConsoleApp

if TYPE_CHECKING:
    from opsconsole.config import Settings

#: set to 1 to render deterministically (no clock, no spinners) — snapshot tests
FROZEN_ENV = "OPSCONSOLE_UI_FROZEN"
#: set to 1 to exit as soon as the first frame is painted — startup benchmark
EXIT_AFTER_FIRST_FRAME_ENV = "OPSCONSOLE_EXIT_AFTER_FIRST_FRAME"


def _flag(name: str) -> bool:
    return os.environ.get(name, "").strip().lower() in ("1", "true", "yes", "on")


def build_app(
    settings: Settings,
    *,
    demo: bool = False,
    offline: bool = False,
    context: str | None = None,
    namespace: str | None = None,
    kubeconfig: str | None = None,
    write: bool = False,
    frozen: bool | None = None,
    exit_after_first_frame: bool | None = None,
    connect: bool = True,
    multi_agent: bool = False,
    resume: str | None = None,
    pods: int | None = None,
    monitoring: bool = False,
) -> OpsConsoleApp:
    """Build the console app. ``frozen`` / ``exit_after_first_frame`` default to their env vars."""
    options = AppOptions(
        demo=demo,
        offline=offline,
        context=context,
        namespace=namespace,
        kubeconfig=kubeconfig,
        write=write,
        frozen=_flag(FROZEN_ENV) if frozen is None else frozen,
        exit_after_first_frame=(
            _flag(EXIT_AFTER_FIRST_FRAME_ENV)
            if exit_after_first_frame is None
            else exit_after_first_frame
        ),
        connect=connect,
        multi_agent=multi_agent,
        resume=resume,
        pods=pods,
        monitoring=monitoring,
    )
    return OpsConsoleApp(settings, options)
