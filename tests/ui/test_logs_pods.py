"""The log viewer against the demo sandbox, through the real app, client and HTTP:

- a pod of several containers opens kubectl's default container (annotation, else the
  first), the header says so, and ``c`` still offers every container;
- when the followed pod is deleted, following stops and the header says the pod is gone;
- ``p`` on a container that never restarted says so instead of showing "0 lines";
- a search belongs to one log: opening another pod's log clears it;
- the crash traceback of a crash-looping pod shows once.
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

from opsconsole.ui.factory import build_app
from opsconsole.ui.screens.modals import ContainerPickerModal

from .conftest import make_settings, wait_for


def _core(app: Any, tmp_path: Path) -> Any:
    """The official client against the app's own demo sandbox."""
    from kubernetes import client, config

    kubeconfig = app.backend.sandbox.write_kubeconfig(tmp_path / "kc")
    cfg = client.Configuration()
    config.load_kube_config(config_file=str(kubeconfig), client_configuration=cfg)
    return client.CoreV1Api(client.ApiClient(cfg))


def _notifications(app: Any) -> str:
    return "\n".join(f"{n.title}: {n.message}" for n in app._notifications)


async def _ready(pilot: Any, app: Any) -> None:
    await wait_for(pilot, lambda: app.backend is not None and app.feeds.pods_ready, 30, "pods")


def _pod(app: Any, prefix: str) -> Any:
    return next(r for r in app.main.pods.rows() if r.name.startswith(prefix))


def _log_workers(app: Any) -> list[Any]:
    return [w for w in app.workers if w.group == "logs" and not w.is_finished]


async def test_multi_container_pod_opens_its_default_container(tmp_path: Path) -> None:
    app = build_app(make_settings(tmp_path), demo=True, offline=True, frozen=True)
    async with app.run_test(size=(120, 40)) as pilot:
        await _ready(pilot, app)
        web = _pod(app, "web-")
        assert len([c for c in web.containers if not c.init]) == 2
        app.main.pods.select_pod(web.namespace, web.name)
        app.main.pods.table.focus()
        await pilot.press("l")  # as the user does it
        logs = app.main.logs
        await wait_for(pilot, lambda: logs.container == "web", 10, "default container")
        await wait_for(pilot, lambda: logs.line_count > 0, 10, "lines of the web container")
        await wait_for(pilot, lambda: "› web (default)" in logs.header_text, 30, "header")
        assert "following" in logs.header_text
        assert all("HTTP/1.1" in logs.store[i] for i in range(logs.line_count - 3, logs.line_count))
        assert "container name must be specified" not in _notifications(app)
        # c still picks any container; the current one is the default
        logs.body.focus()
        await pilot.press("c")
        await wait_for(pilot, lambda: isinstance(app.screen, ContainerPickerModal), 30, "picker")
        assert app.screen.containers == ["web", "envoy"]
        await pilot.press("down", "enter")
        await wait_for(pilot, lambda: logs.container == "envoy", 30, "picked container")
        await wait_for(pilot, lambda: logs.line_count > 0, 10, "envoy lines")
        await wait_for(pilot, lambda: "› envoy" in logs.header_text, 30, "envoy header")
        assert "(default)" not in logs.header_text


async def test_default_container_annotation_else_the_first(tmp_path: Path) -> None:
    app = build_app(make_settings(tmp_path), demo=True, offline=True, frozen=True)
    async with app.run_test(size=(120, 40)) as pilot:
        await _ready(pilot, app)
        core = _core(app, tmp_path)
        containers = [
            {"name": "app", "image": "busybox", "command": ["sleep", "1d"]},
            {"name": "proxy", "image": "envoy", "command": ["envoy"]},
        ]
        for name, annotations in (
            ("two-annotated", {"kubectl.kubernetes.io/default-container": "proxy"}),
            ("two-plain", {}),
        ):
            core.create_namespaced_pod(
                "default",
                {
                    "apiVersion": "v1",
                    "kind": "Pod",
                    "metadata": {"name": name, "annotations": annotations},
                    "spec": {"containers": containers},
                },
            )
        logs = app.main.logs
        for name, expected in (("two-annotated", "proxy"), ("two-plain", "app")):
            app.feeds.open_logs("default", name)
            await wait_for(
                pilot, lambda e=expected: f"› {e} (default)" in logs.header_text, 10, expected
            )
            assert logs.container == expected


async def test_following_stops_when_the_pod_is_deleted(tmp_path: Path) -> None:
    app = build_app(make_settings(tmp_path), demo=True, offline=True, frozen=True)
    async with app.run_test(size=(120, 40)) as pilot:
        await _ready(pilot, app)
        pod = _pod(app, "debug-tools-")
        app.feeds.show_pod(pod.namespace, pod.name)
        logs = app.main.logs
        await wait_for(pilot, lambda: "following" in logs.header_text, 10, "following")
        await wait_for(pilot, lambda: _log_workers(app), 30, "the follow worker")
        _core(app, tmp_path).delete_namespaced_pod(pod.name, pod.namespace)  # graceful
        await wait_for(pilot, lambda: "pod deleted" in logs.header_text, 15, "pod gone notice")
        assert "following" not in logs.header_text
        assert not logs.live
        # the follow worker has ended: nothing reconnects in the background
        await wait_for(pilot, lambda: not _log_workers(app), 30, "the worker to end")
        header = logs.header_text
        await asyncio.sleep(1.0)
        assert logs.header_text == header and not _log_workers(app)


async def test_previous_of_a_container_that_never_restarted(tmp_path: Path) -> None:
    app = build_app(make_settings(tmp_path), demo=True, offline=True, frozen=True)
    async with app.run_test(size=(120, 40)) as pilot:
        await _ready(pilot, app)
        pod = _pod(app, "debug-tools-")
        assert pod.restarts == 0
        app.feeds.show_pod(pod.namespace, pod.name)
        logs = app.main.logs
        await wait_for(pilot, lambda: "following" in logs.header_text, 10, "following")
        logs.body.focus()
        await pilot.press("p")
        await wait_for(pilot, lambda: "no previous container" in logs.header_text, 10, "notice")
        assert logs.line_count == 0
        # the empty body explains it (no toast, no bare "0 lines")
        assert "it has not restarted" in (logs.placeholder or "")
        await pilot.pause()
        first_row = "".join(seg.text for seg in logs.body.render_line(0))
        assert first_row.startswith("No previous container: it has not restarted")
        assert "failed" not in _notifications(app)


async def test_search_is_cleared_when_another_pod_is_shown(tmp_path: Path) -> None:
    app = build_app(make_settings(tmp_path), demo=True, offline=True, frozen=True)
    async with app.run_test(size=(120, 40)) as pilot:
        await _ready(pilot, app)
        first, second = (r for r in app.main.pods.rows() if r.name.startswith("payment-api"))
        app.feeds.show_pod(first.namespace, first.name)
        logs = app.main.logs
        await wait_for(pilot, lambda: logs.line_count >= 3, 15, "log lines")
        logs.body.focus()
        await pilot.press("slash", *"keyerror", "enter")
        await wait_for(pilot, lambda: "/keyerror: 1/1" in logs.header_text, 30, "search count")
        app.feeds.show_pod(second.namespace, second.name)
        await wait_for(pilot, lambda: logs.pod == second.name, 30, "second pod")
        await pilot.pause()
        assert logs.matcher is None and "/keyerror" not in logs.header_text
        logs.body.focus()
        await pilot.press("slash")
        assert app.focused.value == ""  # the field does not carry the old term either
        await pilot.press("escape")


async def test_crash_traceback_shows_once(tmp_path: Path) -> None:
    app = build_app(make_settings(tmp_path), demo=True, offline=True, frozen=True)
    async with app.run_test(size=(120, 40)) as pilot:
        await _ready(pilot, app)
        pod = _pod(app, "payment-api")
        app.feeds.show_pod(pod.namespace, pod.name)
        logs = app.main.logs

        def count(text: str) -> int:
            return sum(text in line for line in logs.store)

        await wait_for(pilot, lambda: count("KeyError: 'PAYMENT_GATEWAY_URL'") >= 1, 15, "crash")
        await asyncio.sleep(1.5)  # the follow reconnects meanwhile (the container is not running)
        assert count("Traceback (most recent call last):") == count("KeyError: 'PAYMENT") == 1
