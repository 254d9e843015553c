"""Fixtures for the multi-agent tests: sandbox clusters (demo and clean) reached through the
official kubernetes client, and scripted OpenAI-compatible servers on loopback."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from tests.multiagent.kit import OPEN_CLIENTS  # noqa: E402


def _cluster(scenario: str, tmp: Path):
    from opsconsole.k8s.client import Cluster
    from opsconsole.sandbox import SandboxServer

    srv = SandboxServer(scenario=scenario).start()
    path = srv.write_kubeconfig(tmp / f"kubeconfig-{scenario}")
    return srv, Cluster(kubeconfig=str(path), context="opsconsole-sandbox")


@pytest.fixture(scope="session")
def demo_cluster(tmp_path_factory) -> Iterator:
    srv, cluster = _cluster("demo", tmp_path_factory.mktemp("ma-demo"))
    try:
        yield cluster
    finally:
        cluster.close()
        srv.stop()


@pytest.fixture(scope="session")
def clean_cluster(tmp_path_factory) -> Iterator:
    srv, cluster = _cluster("clean", tmp_path_factory.mktemp("ma-clean"))
    try:
        yield cluster
    finally:
        cluster.close()
        srv.stop()


@pytest.fixture(autouse=True)
async def _close_model_clients():
    yield
    while OPEN_CLIENTS:
        await OPEN_CLIENTS.pop().aclose()
