"""RBAC: requests made as a service account (kubectl --as, and the account's own token through the
official client) are evaluated against Roles and bindings, with the real 403 and `auth can-i`."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

SA = "system:serviceaccount:team:bot"


@pytest.fixture
def env(fresh_sandbox: Any, kubectl: Any) -> tuple[Any, Any]:
    srv = fresh_sandbox("clean")
    run = kubectl(srv)
    run("create", "namespace", "team")
    run("-n", "team", "create", "serviceaccount", "bot")
    run("-n", "team", "create", "role", "pod-reader", "--verb=get,list,watch", "--resource=pods")
    run("-n", "team", "create", "rolebinding", "bot-read", "--role=pod-reader",
        "--serviceaccount=team:bot")  # fmt: skip
    return srv, run


def test_impersonated_service_account_is_held_to_its_role(env: tuple[Any, Any]) -> None:
    _srv, run = env
    assert run("-n", "team", "get", "pods", f"--as={SA}").returncode == 0
    denied = run("-n", "team", "get", "deployments", f"--as={SA}", check=False)
    assert denied.returncode == 1
    assert denied.stderr.strip() == (
        f'Error from server (Forbidden): deployments.apps is forbidden: User "{SA}" cannot list '
        'resource "deployments" in API group "apps" in the namespace "team"'
    )
    named = run("-n", "team", "delete", "pod", "x", f"--as={SA}", check=False)
    assert named.stderr.strip() == (
        f'Error from server (Forbidden): pods "x" is forbidden: User "{SA}" cannot delete '
        'resource "pods" in API group "" in the namespace "team"'
    )
    run("-n", "team", "run", "x", "--image=busybox")
    logs = run("-n", "team", "logs", "x", f"--as={SA}", check=False)
    assert 'cannot get resource "pods/log" in API group "" in the namespace "team"' in logs.stderr
    elsewhere = run("-n", "default", "get", "pods", f"--as={SA}", check=False)
    assert 'in the namespace "default"' in elsewhere.stderr
    # the admin context keeps full access
    assert run("-n", "team", "get", "deployments").returncode == 0


def test_can_i_answers_from_the_same_rules(env: tuple[Any, Any]) -> None:
    _srv, run = env

    def can(*args: str) -> str:
        return run("auth", "can-i", *args, check=False).stdout.strip()

    assert can("list", "pods", "-n", "team", f"--as={SA}") == "yes"
    assert can("delete", "pods", "-n", "team", f"--as={SA}") == "no"
    assert can("list", "pods", "-n", "default", f"--as={SA}") == "no"
    assert can("delete", "nodes") == "yes"  # the admin
    run("-n", "team", "create", "rolebinding", "bot-view", "--clusterrole=view",
        "--serviceaccount=team:bot")  # fmt: skip
    assert can("list", "deployments", "-n", "team", f"--as={SA}") == "yes"
    assert can("list", "secrets", "-n", "team", f"--as={SA}") == "no"
    rules = run("auth", "can-i", "--list", "-n", "team", f"--as={SA}").stdout
    assert "pods" in rules and "[get list watch]" in rules


def test_binding_to_a_missing_role_says_so(env: tuple[Any, Any]) -> None:
    _srv, run = env
    run("-n", "team", "create", "rolebinding", "bot-cm", "--role=configmap-reader",
        "--serviceaccount=team:bot")  # fmt: skip
    out = run("-n", "team", "get", "configmaps", f"--as={SA}", check=False)
    assert out.stderr.strip() == (
        f'Error from server (Forbidden): configmaps is forbidden: User "{SA}" cannot list '
        'resource "configmaps" in API group "" in the namespace "team": RBAC: '
        'role.rbac.authorization.k8s.io "configmap-reader" not found'
    )


def test_service_account_token(env: tuple[Any, Any], tmp_path: Path) -> None:
    from kubernetes import client
    from kubernetes.client.rest import ApiException

    from tests.sandbox.conftest import api_client

    srv, run = env
    token = run("-n", "team", "create", "token", "bot").stdout.strip()
    api = api_client(srv.write_kubeconfig(tmp_path / "bot-kc", token=token))
    core = client.CoreV1Api(api)
    assert core.list_namespaced_pod("team").items == []
    with pytest.raises(ApiException) as exc:
        core.list_namespaced_secret("team")
    assert exc.value.status == 403
    assert json.loads(exc.value.body)["message"] == (
        f'secrets is forbidden: User "{SA}" cannot list resource "secrets" in API group "" in '
        'the namespace "team"'
    )
    review = client.AuthorizationV1Api(api).create_self_subject_access_review(
        {"spec": {"resourceAttributes": {"verb": "list", "resource": "pods", "namespace": "team"}}}
    )
    assert review.status.allowed is True
    assert review.status.reason == (
        'RBAC: allowed by RoleBinding "bot-read/team" of Role "pod-reader" to ServiceAccount '
        '"bot/team"'
    )
    who = client.AuthenticationV1Api(api).create_self_subject_review({})
    assert who.status.user_info.username == SA
    # a token outlives neither its account
    run("-n", "team", "delete", "serviceaccount", "bot")
    with pytest.raises(ApiException) as gone:
        core.list_namespaced_pod("team")
    assert gone.value.status == 401
    api.close()


def test_subject_access_review_for_another_user(env: tuple[Any, Any], tmp_path: Path) -> None:
    from kubernetes import client

    from tests.sandbox.conftest import api_client

    srv, _run = env
    api = api_client(srv.write_kubeconfig(tmp_path / "admin-kc"))
    authz = client.AuthorizationV1Api(api)

    def allowed(verb: str, resource: str) -> bool:
        body = {
            "spec": {
                "user": SA,
                "resourceAttributes": {"verb": verb, "resource": resource, "namespace": "team"},
            }
        }
        return bool(authz.create_subject_access_review(body).status.allowed)

    assert allowed("watch", "pods") and not allowed("create", "pods")
    api.close()


def test_rbac_scenario_the_403_in_the_logs_is_the_servers(fresh_sandbox: Any, kubectl: Any) -> None:
    from tests.sandbox.conftest import wait_for

    srv = fresh_sandbox("rbac", speed=20)
    run = kubectl(srv)
    runner = "system:serviceaccount:reports:report-runner"
    wait_for(
        lambda: (
            "Failed"
            in run(
                "-n",
                "reports",
                "get",
                "job",
                "nightly-report-manual",
                "-o",
                "jsonpath={.status.conditions[*].type}",
            ).stdout
        ),  # fmt: skip
        60,
    )
    logs = run("-n", "reports", "logs", "job/nightly-report-manual").stdout
    denied = run("-n", "reports", "get", "configmap", "report-config", f"--as={runner}",
                 check=False)  # fmt: skip
    server_says = denied.stderr.strip().removeprefix("Error from server (Forbidden): ")
    assert server_says.endswith('RBAC: role.rbac.authorization.k8s.io "config-reader" not found')
    assert server_says in logs
    can = ("auth", "can-i", "get", "configmaps", "-n", "reports", f"--as={runner}")
    assert run(*can, check=False).stdout.strip() == (
        'no - RBAC: role.rbac.authorization.k8s.io "config-reader" not found'
    )
    # the fix: bind the Role that exists
    run("-n", "reports", "delete", "rolebinding", "report-runner")
    run("-n", "reports", "create", "rolebinding", "report-runner", "--role=configmap-reader",
        "--serviceaccount=reports:report-runner")  # fmt: skip
    assert run(*can).stdout.strip() == "yes"
