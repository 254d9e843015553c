"""Shared fixtures: the built-in sandbox cluster (opsconsole.sandbox) over real HTTP.

- ``sandbox``: the demo scenario, started once per session. Read-only use only. Its clock runs
  at ``SHARED_SPEED`` (1/20): crash loops do not restart during a test session, so every fault
  holds still (CrashLoopBackOff stays CrashLoopBackOff); logs still grow, slowly.
- ``sandbox_kubeconfig``: a kubeconfig for it (context ``opsconsole-sandbox``) in a tmp dir.
- ``fresh_sandbox(scenario="demo", pods=None, speed=1.0)``: a new server per call, stopped at
  teardown, for tests that mutate state or inject faults.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

SHARED_SPEED = 0.05


@pytest.fixture(scope="session")
def sandbox() -> Iterator[Any]:
    from opsconsole.sandbox import SandboxServer

    srv = SandboxServer(scenario="demo", speed=SHARED_SPEED).start()
    yield srv
    srv.stop()


@pytest.fixture(scope="session")
def sandbox_kubeconfig(sandbox: Any, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return sandbox.write_kubeconfig(tmp_path_factory.mktemp("sandbox-kc") / "kubeconfig")


@pytest.fixture
def fresh_sandbox() -> Iterator[Callable[..., Any]]:
    from opsconsole.sandbox import SandboxServer

    started: list[Any] = []

    def make(scenario: str = "demo", pods: int | None = None, speed: float = 1.0, **kw: Any) -> Any:
        srv = SandboxServer(scenario=scenario, pods=pods, speed=speed, **kw).start()
        started.append(srv)
        return srv

    yield make
    for srv in started:
        srv.stop()


@pytest.fixture(scope="session", autouse=True)
def _private_user_dirs(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """Tests never read the user's config nor write sessions/results into the user's dirs,
    nor use a real API key, nor start the demo's Prometheus from a subprocess. Tests that need
    their own dirs (or the stack) set these variables again."""
    import os

    root = tmp_path_factory.mktemp("user-dirs")
    saved = {k: os.environ.get(k) for k in _ISOLATED_ENV}
    os.environ["OPSCONSOLE_CONFIG_DIR"] = str(root / "config")
    os.environ["OPSCONSOLE_DATA_DIR"] = str(root / "data")
    os.environ["OPSCONSOLE_STATE_DIR"] = str(root / "state")
    os.environ.pop("DEEPSEEK_API_KEY", None)
    os.environ.pop("OPENAI_API_KEY", None)
    # `opsconsole --demo` in a subprocess starts no Prometheus unless a test asks for one
    os.environ["OPSCONSOLE_MONITORING__SANDBOX_STACK"] = "false"
    yield
    for key, value in saved.items():
        if value is None:
            os.environ.pop(key, None)
        else:
            os.environ[key] = value


_ISOLATED_ENV = (
    "OPSCONSOLE_CONFIG_DIR",
    "OPSCONSOLE_DATA_DIR",
    "OPSCONSOLE_STATE_DIR",
    "DEEPSEEK_API_KEY",
    "OPENAI_API_KEY",
    "OPSCONSOLE_MONITORING__SANDBOX_STACK",
)
