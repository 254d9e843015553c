"""Error mapping against the sandbox's fault modes (K1, K2, K3, K4, K5, K10)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from opsconsole.errors import (
    ClusterTimeout,
    ClusterUnreachable,
    Conflict,
    CredentialsExpired,
    Forbidden,
    NotFound,
)
from opsconsole.k8s import queries as q
from opsconsole.k8s.client import Cluster
from tests.k8s.conftest import CONTEXT, cluster_for
from tests.sandbox.conftest import returns_within


@pytest.fixture
def srv(fresh_sandbox: Any) -> Any:
    return fresh_sandbox(scenario="demo")


def test_forbidden_carries_the_api_message_no_retry(srv: Any, tmp_path: Path):
    c = cluster_for(srv, tmp_path)
    srv.faults.forbid("pods", namespace="payments")
    before = srv.faults.requests
    with pytest.raises(Forbidden) as info:
        q.list_pods(c, "payments")
    assert srv.faults.requests - before == 1
    msg = str(info.value)
    assert msg.startswith('pods is forbidden: User "system:serviceaccount:')
    assert 'cannot list resource "pods" in API group "" in the namespace "payments"' in msg
    assert q.list_pods(c, "shop")  # other namespaces still work


def test_forbidden_logs_subresource(srv: Any, tmp_path: Path):
    from opsconsole.k8s.logs import read_logs

    c = cluster_for(srv, tmp_path)
    srv.faults.forbid("pods/log")
    name = q.list_pods(c, "shop", label_selector="app=web")[0].name
    with pytest.raises(Forbidden, match="forbidden"):
        read_logs(c, "shop", name, container="web")


def test_401_reload_then_credentials_expired(srv: Any, tmp_path: Path):
    c = cluster_for(srv, tmp_path)
    srv.faults.unauthorized = True
    before = srv.faults.requests
    with pytest.raises(CredentialsExpired) as info:
        q.list_nodes(c)
    assert srv.faults.requests - before == 2  # one try, one reload + retry, no more
    assert "re-authenticate" in str(info.value)


def test_401_reload_picks_up_refreshed_credentials(srv: Any, tmp_path: Path):
    kc = tmp_path / "kubeconfig"
    srv.write_kubeconfig(kc)
    c = Cluster(kubeconfig=kc, context=CONTEXT, request_timeout=5)
    assert q.list_nodes(c)
    # the credentials rotate (an exec plugin / cloud login would rewrite them)
    srv.faults.accept_only_token("fresh-token")
    srv.write_kubeconfig(kc, token="fresh-token")
    assert q.list_nodes(c)  # 401 -> reload kubeconfig -> rebuilt ApiClient -> ok


def test_hang_times_out_within_the_request_timeout(srv: Any, tmp_path: Path):
    c = cluster_for(srv, tmp_path, request_timeout=1)
    srv.faults.hang = True
    with pytest.raises(ClusterTimeout, match="did not answer in time"):
        returns_within(10, q.list_pods, c, "shop")  # 1 s; the default timeout would be 15 s
    srv.faults.hang = False


def test_stopped_sandbox_is_unreachable_quickly(srv: Any, tmp_path: Path):
    c = cluster_for(srv, tmp_path, request_timeout=5)
    assert q.list_nodes(c)
    srv.stop()
    with pytest.raises(ClusterUnreachable, match=r"^cluster unreachable \(http://127\.0\.0\.1"):
        returns_within(30, q.list_pods, c)  # K4: bounded by connect timeout x retries


def test_404_and_409(srv: Any, tmp_path: Path):
    c = cluster_for(srv, tmp_path, write_mode=True)
    with pytest.raises(NotFound, match="^not found: deployment/ghost in shop$"):
        q.scale_deployment(c, "shop", "ghost", 2)
    # a create of an existing object answers 409 AlreadyExists: shown verbatim (K10)
    body = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "dup"}}
    c.call("core", "create_namespaced_config_map", "shop", body)
    with pytest.raises(Conflict, match='"dup" already exists'):
        c.call("core", "create_namespaced_config_map", "shop", body)


def test_allowlist_refuses_before_any_request(srv: Any, tmp_path: Path):
    c = cluster_for(srv, tmp_path, namespace_allowlist=["shop"])
    before = srv.faults.requests
    with pytest.raises(Forbidden, match="outside the configured allowlist"):
        q.list_pods(c, "payments")
    assert srv.faults.requests == before
    pods = q.list_pods(c)  # "all" narrows to the allowlist
    assert pods and {p.namespace for p in pods} == {"shop"}


def test_401_with_an_exec_plugin_runs_the_plugin_again(srv: Any, tmp_path: Path):
    """K3 as it happens in the field: the exec plugin's token expired; a reload runs it again."""
    import json
    import sys

    token_file = tmp_path / "token"
    token_file.write_text("old-token")
    plugin = tmp_path / "plugin.py"
    plugin.write_text(
        "import json, sys\n"
        f"tok = open({str(token_file)!r}).read().strip()\n"
        "print(json.dumps({'apiVersion': 'client.authentication.k8s.io/v1beta1',\n"
        "    'kind': 'ExecCredential', 'status': {'token': tok}}))\n"
    )
    kc = tmp_path / "kubeconfig"
    kc.write_text(
        json.dumps(
            {
                "apiVersion": "v1",
                "kind": "Config",
                "current-context": "exec",
                "clusters": [{"name": "sb", "cluster": {"server": srv.url}}],
                "contexts": [{"name": "exec", "context": {"cluster": "sb", "user": "plugin"}}],
                "users": [
                    {
                        "name": "plugin",
                        "user": {
                            "exec": {
                                "apiVersion": "client.authentication.k8s.io/v1beta1",
                                "command": sys.executable,
                                "args": [str(plugin)],
                                "interactiveMode": "Never",
                            }
                        },
                    }
                ],
            }
        )
    )
    srv.faults.accept_only_token("old-token")
    c = Cluster(kubeconfig=kc, request_timeout=5)
    assert q.list_nodes(c)
    srv.faults.accept_only_token("new-token")  # the old token expires ...
    token_file.write_text("new-token")  # ... and a fresh login would now hand out this one
    assert q.list_nodes(c)
    token_file.write_text("still-wrong")
    srv.faults.accept_only_token("other")
    with pytest.raises(CredentialsExpired):
        q.list_nodes(c)
