"""Fixtures for the offline planner's end-to-end tests: the real tools on the demo sandbox.

``sandbox``, ``sandbox_kubeconfig`` and ``fresh_sandbox`` come from ``tests/conftest.py``;
until that exists, the fallbacks below provide the same fixtures for this directory.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from opsconsole.agent.tools import ToolRegistry
from opsconsole.config import Settings
from opsconsole.k8s.client import Cluster
from opsconsole.k8s.tools import build_k8s_tools

CONTEXT = "opsconsole-sandbox"

_ROOT_CONFTEST = Path(__file__).resolve().parents[1] / "conftest.py"

if not _ROOT_CONFTEST.exists():  # pragma: no cover - fallback until tests/conftest.py lands

    @pytest.fixture(scope="session")
    def sandbox() -> Iterator[Any]:
        from opsconsole.sandbox import SandboxServer

        srv = SandboxServer(scenario="demo").start()
        yield srv
        srv.stop()

    @pytest.fixture(scope="session")
    def sandbox_kubeconfig(sandbox: Any, tmp_path_factory: pytest.TempPathFactory) -> Path:
        return Path(sandbox.write_kubeconfig(tmp_path_factory.mktemp("kc") / "kubeconfig"))


@pytest.fixture(scope="module")
def demo_tools(sandbox_kubeconfig: Any) -> Iterator[ToolRegistry]:
    """The real Kubernetes tools on the shared demo sandbox (read-only use only)."""
    cluster = Cluster(kubeconfig=sandbox_kubeconfig, context=CONTEXT, request_timeout=5)
    yield ToolRegistry(build_k8s_tools(cluster, Settings()))
    cluster.close()
