"""Fault injection: 403 with the apiserver's message, 401 (and recovery with a new token),
a server that accepts TCP and never answers, latency."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import pytest

from tests.sandbox.conftest import CONTEXT, api_client, apis, returns_within, wait_for


def test_forbidden_namespace_list(fresh_sandbox: Any, tmp_path: Path):
    from kubernetes.client.rest import ApiException

    srv = fresh_sandbox()
    core, apps, _ = apis(srv, tmp_path)
    srv.faults.forbid("pods", namespace="payments")
    with pytest.raises(ApiException) as e:
        core.list_namespaced_pod("payments")
    assert e.value.status == 403
    body = json.loads(e.value.body)
    assert body["kind"] == "Status" and body["reason"] == "Forbidden" and body["code"] == 403
    assert body["message"] == (
        'pods is forbidden: User "system:serviceaccount:default:opsconsole-sandbox" cannot '
        'list resource "pods" in API group "" in the namespace "payments"'
    )
    assert core.list_namespaced_pod("shop").items  # other namespaces still work
    with pytest.raises(ApiException) as e:
        core.read_namespaced_pod("postgres-0", "payments")
    assert 'pods "postgres-0" is forbidden' in json.loads(e.value.body)["message"]
    assert "cannot get resource" in json.loads(e.value.body)["message"]


def test_forbidden_cluster_scope_and_group(fresh_sandbox: Any, tmp_path: Path):
    from kubernetes.client.rest import ApiException

    srv = fresh_sandbox()
    core, apps, _ = apis(srv, tmp_path)
    srv.faults.forbid("pods")
    srv.faults.forbid("deployments/scale", verbs=["patch"])
    with pytest.raises(ApiException) as e:
        core.list_pod_for_all_namespaces()
    assert json.loads(e.value.body)["message"].endswith(
        'cannot list resource "pods" in API group "" at the cluster scope'
    )
    with pytest.raises(ApiException) as e:
        apps.patch_namespaced_deployment_scale("web", "shop", {"spec": {"replicas": 1}})
    msg = json.loads(e.value.body)["message"]
    assert msg.startswith('deployments.apps "web" is forbidden: User ')
    assert 'cannot patch resource "deployments/scale" in API group "apps"' in msg
    assert apps.read_namespaced_deployment_scale("web", "shop").spec.replicas == 3
    srv.faults.clear()
    assert core.list_pod_for_all_namespaces().items


def test_unauthorized_then_new_token(fresh_sandbox: Any, tmp_path: Path):
    from kubernetes.client.rest import ApiException

    srv = fresh_sandbox()
    core, _, _ = apis(srv, tmp_path)
    srv.faults.unauthorized = True
    with pytest.raises(ApiException) as e:
        core.list_namespace()
    assert e.value.status == 401
    assert json.loads(e.value.body)["reason"] == "Unauthorized"
    srv.faults.unauthorized = False
    srv.faults.accept_only_token("fresh-token")
    with pytest.raises(ApiException) as e:
        core.list_namespace()  # the old token is refused
    assert e.value.status == 401
    from kubernetes import client

    path = srv.write_kubeconfig(tmp_path / "kc-new", token="fresh-token")
    assert path.stat().st_mode & 0o777 == 0o600
    assert client.CoreV1Api(api_client(path)).list_namespace().items


def test_hang_times_out_client_then_recovers(fresh_sandbox: Any, tmp_path: Path):
    import urllib3

    srv = fresh_sandbox()
    core, _, _ = apis(srv, tmp_path)
    srv.faults.hang = True
    with pytest.raises((urllib3.exceptions.ReadTimeoutError, urllib3.exceptions.MaxRetryError)):
        # 0.5 s read timeout, the client retries 3 times; without the timeout it hangs for good
        returns_within(30, core.list_namespace, _request_timeout=(2, 0.5))
    srv.faults.hang = False
    assert core.list_namespace(_request_timeout=5).items


def test_stop_releases_hung_requests(fresh_sandbox: Any, tmp_path: Path):
    import threading

    srv = fresh_sandbox()
    core, _, _ = apis(srv, tmp_path)
    srv.faults.hang = True
    errors: list[BaseException] = []

    def call() -> None:
        try:
            core.list_namespace(_request_timeout=20)
        except BaseException as exc:  # noqa: BLE001 - the point is that it returns
            errors.append(exc)

    before = srv.faults.requests
    t = threading.Thread(target=call)
    t.start()
    wait_for(lambda: srv.faults.requests > before)  # the request is in and hangs
    srv.stop()
    t.join(timeout=15)  # well below the client's own 20 s read timeout
    assert not t.is_alive() and errors


def test_latency(fresh_sandbox: Any, tmp_path: Path):
    srv = fresh_sandbox()
    core, _, _ = apis(srv, tmp_path)
    srv.faults.latency = 0.3
    t0 = time.monotonic()
    core.list_namespace()
    assert time.monotonic() - t0 >= 0.3


def test_kubeconfig_shape(sandbox: Any, sandbox_kubeconfig: Path):
    import yaml

    cfg = yaml.safe_load(sandbox_kubeconfig.read_text())
    assert cfg["current-context"] == CONTEXT
    assert cfg["clusters"][0] == {"name": CONTEXT, "cluster": {"server": sandbox.url}}
    assert cfg["users"][0]["name"] == CONTEXT and cfg["users"][0]["user"]["token"]
    assert sandbox_kubeconfig.stat().st_mode & 0o777 == 0o600
