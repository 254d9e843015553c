"""Kubeconfig loading and error mapping that need no sandbox (K4, K5, K9)."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest

from opsconsole.errors import ClusterTimeout, ClusterUnreachable, NoClusterConfigured
from opsconsole.k8s import queries as q
from opsconsole.k8s.client import Cluster
from tests.sandbox.conftest import returns_within

KC = """apiVersion: v1
kind: Config
current-context: {current}
contexts:
- name: one
  context: {{cluster: one, user: u, namespace: shop}}
- name: two
  context: {{cluster: two, user: u}}
clusters:
- name: one
  cluster: {{server: "{server}"}}
- name: two
  cluster: {{server: "{server}"}}
users:
- name: u
  user: {{token: abc}}
"""


def write(tmp_path: Path, server: str = "http://127.0.0.1:1", current: str = "one") -> Path:
    p = tmp_path / "config"
    p.write_text(KC.format(server=server, current=current))
    return p


def test_contexts_and_default_namespace(tmp_path: Path):
    c = Cluster(kubeconfig=write(tmp_path))
    assert c.list_contexts() == ["one", "two"]
    assert c.current_context() == "one" and c.default_namespace == "shop"
    c.switch_context("two")
    assert c.context == "two" and c.default_namespace == "default"
    with pytest.raises(NoClusterConfigured, match="unknown context 'nope'"):
        c.switch_context("nope")
    assert c.context == "two"


def test_kubeconfig_env_is_honoured(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    path = write(tmp_path, current="two")
    monkeypatch.setenv("KUBECONFIG", f"{tmp_path / 'missing'}:{path}")
    c = Cluster()
    assert c.context == "two" and c.kubeconfig_paths == [path]


@pytest.mark.parametrize(
    "setup,needle",
    [
        (lambda p: None, "no kubeconfig found"),
        (lambda p: p.write_text("{{{ not yaml"), "malformed YAML"),
        (lambda p: p.write_text("- a\n- b\n"), "not a mapping"),
    ],
)
def test_missing_or_invalid_kubeconfig(tmp_path: Path, setup, needle):
    p = tmp_path / "config"
    setup(p)
    with pytest.raises(NoClusterConfigured, match=needle) as info:
        Cluster(kubeconfig=p)
    assert "opsconsole --demo" in str(info.value)  # says how to get going


def test_no_kubeconfig_anywhere(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.delenv("KUBECONFIG", raising=False)
    monkeypatch.delenv("KUBERNETES_SERVICE_HOST", raising=False)
    monkeypatch.setenv("HOME", str(tmp_path))
    with pytest.raises(NoClusterConfigured) as info:
        Cluster()
    assert "KUBECONFIG" in str(info.value) and "--demo" in str(info.value)


def test_unknown_context(tmp_path: Path):
    with pytest.raises(NoClusterConfigured, match="unknown context 'prod'.*known: one, two"):
        Cluster(kubeconfig=write(tmp_path), context="prod")


def test_unreachable_fails_fast(tmp_path: Path):
    c = Cluster(kubeconfig=write(tmp_path), request_timeout=3)
    with pytest.raises(ClusterUnreachable, match=r"cluster unreachable \(http://127.0.0.1:1\)"):
        returns_within(30, q.list_pods, c, "shop")


def test_dns_failure_is_unreachable(tmp_path: Path):
    c = Cluster(
        kubeconfig=write(tmp_path, server="http://no-such-host.invalid:6443"), request_timeout=3
    )
    with pytest.raises(ClusterUnreachable):
        q.list_nodes(c)


def test_silent_server_times_out(tmp_path: Path):
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen(8)  # accepts TCP, never answers
    try:
        port = sock.getsockname()[1]
        c = Cluster(
            kubeconfig=write(tmp_path, server=f"http://127.0.0.1:{port}"), request_timeout=1
        )
        with pytest.raises(ClusterTimeout):
            returns_within(10, q.list_pods, c, "shop")  # 1 s; the default would be 15 s
    finally:
        sock.close()
