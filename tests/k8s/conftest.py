"""Fixtures for the Kubernetes layer's tests: a Cluster on the shared sandbox.

``sandbox``, ``sandbox_kubeconfig`` and ``fresh_sandbox`` come from ``tests/conftest.py``.
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
from tests.agent.agentkit import close_model_clients  # noqa: F401 - autouse fixture

CONTEXT = "opsconsole-sandbox"


def cluster_for(server: Any, tmp_path: Path, **kw: Any) -> Cluster:
    """A Cluster on ``server`` through a kubeconfig written to ``tmp_path``."""
    path = Path(server.write_kubeconfig(tmp_path / f"kubeconfig-{server.port}"))
    kw.setdefault("request_timeout", 5)
    return Cluster(kubeconfig=path, context=CONTEXT, **kw)


@pytest.fixture
def cluster(sandbox_kubeconfig: Any) -> Iterator[Cluster]:
    c = Cluster(kubeconfig=sandbox_kubeconfig, context=CONTEXT, request_timeout=5)
    yield c
    c.close()


@pytest.fixture
def tools(cluster: Cluster) -> ToolRegistry:
    return ToolRegistry(build_k8s_tools(cluster, Settings()))


def pod_of(cluster: Cluster, namespace: str, prefix: str) -> str:
    """The name of the first pod of workload ``prefix`` in ``namespace``."""
    from opsconsole.k8s.queries import list_pods

    names = sorted(p.name for p in list_pods(cluster, namespace) if p.name.startswith(prefix))
    assert names, f"no pod {prefix}* in {namespace}"
    return names[0]
