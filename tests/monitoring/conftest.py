"""A real Prometheus and Alertmanager beside a fresh demo sandbox, one stack per test module.

``monitoring_stack`` starts ``MonitoringStack`` (backfill through promtool, both processes on
free loopback ports) and waits until Prometheus answers; ``wait_for`` polls a condition with
a generous timeout. Without the binaries the tests are skipped, except under CI (``CI`` set),
where they must run.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterator
from typing import Any, TypeVar

import pytest

T = TypeVar("T")


def require_binaries() -> None:
    from opsconsole.sandbox.monitoring_stack import INSTALL_HINT, missing_binaries

    missing = missing_binaries()
    if missing and not os.environ.get("CI"):
        pytest.skip(f"{', '.join(missing)} not installed ({INSTALL_HINT})")


def wait_for(cond: Callable[[], T | None], what: str, timeout: float = 120.0) -> T:
    """Poll ``cond`` until it returns something truthy; fail naming ``what`` after ``timeout``."""
    deadline = time.monotonic() + timeout
    last: Any = None
    while time.monotonic() < deadline:
        try:
            got = cond()
        except AssertionError as exc:
            got, last = None, exc
        if got:
            return got
        time.sleep(0.5)
    raise AssertionError(f"timed out after {timeout:.0f}s waiting for {what} (last: {last})")


@pytest.fixture(scope="module")
def monitoring_stack() -> Iterator[Any]:
    require_binaries()
    from opsconsole.sandbox import SandboxServer
    from opsconsole.sandbox.monitoring_stack import MonitoringStack

    srv = SandboxServer(scenario="demo").start()
    stack = MonitoringStack(srv).start()
    try:
        assert stack.wait_ready(300), f"the monitoring stack did not come up: {stack.error}"
        yield stack
    finally:
        stack.stop()
        srv.stop()


def firing(am_url: str) -> list[dict[str, Any]]:
    """Alertmanager's active alerts (API v2), read directly."""
    import json
    import urllib.request

    with urllib.request.urlopen(am_url + "/api/v2/alerts?active=true", timeout=30) as r:
        alerts: list[dict[str, Any]] = json.load(r)
    return [a for a in alerts if (a.get("status") or {}).get("state") == "active"]
