"""Cluster feeds for the pod list and the log viewer: thread workers in named groups.

The pod watch runs in group ``pods``, the log follow in group ``logs``; both check
``is_cancelled`` and hand results to the UI by ``post_message`` in batches (the kubernetes
client is blocking, so these are threads). Widgets never do I/O.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from textual.worker import get_current_worker

from opsconsole.ui import messages as msg

if TYPE_CHECKING:
    from opsconsole.ui.app import OpsConsoleApp

MAX_BATCH = 500

DEFAULT_CONTAINER_ANNOTATION = "kubectl.kubernetes.io/default-container"

_GONE = "pod deleted — last lines"
_GONE_TEXT = "The pod was deleted: there is no log to follow."
_NOT_FOUND_TEXT = "The pod does not exist (any more)."
_EMPTY_PREVIOUS = "The previous container wrote no log lines."
_NO_PREVIOUS = "no previous container"
_NO_PREVIOUS_TEXT = (
    "No previous container: it has not restarted, so there is no earlier run to show. "
    "Press p again for the current log."
)


@dataclass(frozen=True)
class LogNotice:
    """What a log worker learnt besides lines, for the log viewer."""

    container: str | None = None  # the container chosen for the user (kubectl's default)
    containers: list[str] | None = None  # the pod's containers, as the API listed them
    ended: str | None = None  # why following stopped for good (header)
    placeholder: str | None = None  # what the body says while it holds no lines


@dataclass(frozen=True)
class _LogJob:
    cluster: Any
    namespace: str
    name: str
    container: str | None
    previous: bool
    tail: int
    source: str
    stop: threading.Event
    resolve: bool  # look up the pod's default container first


class Feeds:
    def __init__(self, app: OpsConsoleApp) -> None:
        self.app = app
        self.log_source: str | None = None
        self._log_stop: threading.Event | None = None
        self._pods_stop: threading.Event | None = None
        self._pending_select: tuple[str, str] | None = None
        self.pods_ready = False

    # ---- pods -----------------------------------------------------------------------------

    @property
    def namespace(self) -> str | None:
        """The namespace the pod list shows; None means all namespaces."""
        backend = self.app.backend
        ns = backend.namespace if backend is not None else None
        return None if ns in (None, "", "all", "*") else ns

    def start_pods(self) -> None:
        backend = self.app.backend
        if backend is None or backend.cluster is None:
            return
        if self._pods_stop is not None:
            self._pods_stop.set()
        self._pods_stop = stop = threading.Event()
        self.pods_ready = False
        namespace = self.namespace
        self.app.main.pods.set_namespace(namespace)
        self.app.run_worker(
            lambda: self._watch_pods(backend.cluster, namespace, stop),
            thread=True,
            exclusive=True,
            group="pods",
            name="pod watch",
            exit_on_error=False,
        )

    def _watch_pods(self, cluster: Any, namespace: str | None, stop: threading.Event) -> None:
        """Thread worker: list, then watch (the watcher relists after 410 Gone by itself)."""
        from opsconsole.errors import OpsConsoleError
        from opsconsole.k8s.watch import watch_pods

        worker = get_current_worker()

        def cancelled() -> bool:
            return worker.is_cancelled or stop.is_set()

        batch: list[tuple[str, Any]] = []
        try:
            watcher = watch_pods(
                cluster,
                namespace,
                stop_event=stop,
                refresh_seconds=self.app.settings.ui.pod_refresh_seconds,
            )
            for item in watcher:
                if cancelled():
                    return
                kind, payload = _watch_item(item)
                if kind == "ERROR":
                    self.app.post_message(msg.FeedFailed("pod watch", str(payload)))
                elif kind in ("SYNC", "LIST"):
                    batch.clear()
                    self.app.post_message(msg.PodsLoaded(list(payload), namespace))
                elif kind in ("ADDED", "MODIFIED", "DELETED"):
                    batch.append((kind, payload))
                # one message per burst: flush when the watcher has nothing more at hand
                if batch and (len(batch) >= MAX_BATCH or not _has_pending(watcher)):
                    self.app.post_message(msg.PodsChanged(batch))
                    batch = []
        except OpsConsoleError as exc:
            if not cancelled():
                self.app.post_message(msg.FeedFailed("pod list", str(exc)))

    def pods_loaded(self, message: msg.PodsLoaded) -> None:
        self.app.main.pods.set_rows(message.rows)
        self.pods_ready = True
        if self._pending_select is not None:
            ns, name = self._pending_select
            self._pending_select = None
            self._select(ns, name)

    def pods_changed(self, message: msg.PodsChanged) -> None:
        pods = self.app.main.pods
        for kind, row in message.changes:
            pods.apply(kind, row)

    def _select(self, namespace: str, name: str) -> bool:
        found = self.app.main.pods.select_pod(namespace, name)
        return found is not False

    def show_pod(self, namespace: str, name: str) -> None:
        """Trace-to-pod link: select the pod in the list and follow its logs. A pod of
        another namespace than the one listed switches the list to that namespace."""
        if self.namespace not in (None, namespace):
            self._pending_select = (namespace, name)
            self.app.call_later(self.app.bridge.switch_namespace, namespace)
        elif not self.pods_ready:
            self._pending_select = (namespace, name)
        elif not self._select(namespace, name):
            self.app.notify(f"pod {namespace}/{name} is not in the list", severity="warning")
        self.open_logs(namespace, name)

    # ---- logs -----------------------------------------------------------------------------

    def open_logs(
        self,
        namespace: str,
        name: str,
        *,
        container: str | None = None,
        previous: bool = False,
    ) -> None:
        """Follow a pod's log (or read its previous container's) into the log viewer.

        With no ``container``, a pod of several containers gets kubectl's default one (the
        ``kubectl.kubernetes.io/default-container`` annotation, else the first container): the
        API server itself refuses such a request with 400 "a container name must be specified".
        """
        backend = self.app.backend
        if backend is None or backend.cluster is None:
            self.app.notify("not connected to a cluster yet", severity="warning")
            return
        if self._log_stop is not None:
            self._log_stop.set()
        self._log_stop = stop = threading.Event()
        source = f"{namespace}/{name}" + (f" [{container}]" if container else "")
        if previous:
            source += " (previous)"
        self.log_source = source
        containers = self._containers(namespace, name)
        logs = self.app.main.logs
        logs.set_source(namespace, name, container, previous)
        logs.set_containers(containers)
        # one known container needs no name; otherwise the worker looks the pod up
        resolve = container is None and len(containers) != 1
        cluster = backend.cluster
        tail = self.app.settings.kubernetes.log_tail_lines
        job = _LogJob(cluster, namespace, name, container, previous, tail, source, stop, resolve)
        self.app.run_worker(
            lambda: self._follow(job),
            thread=True,
            exclusive=True,
            group="logs",
            name=f"logs {source}",
            exit_on_error=False,
        )

    def _notice(self, source: str, notice: LogNotice) -> None:
        """Hand ``notice`` to the UI in order with the lines (the app's LogLines handler)."""
        self.app.post_message(msg.LogLines(source, [], notice=notice))

    def _follow(self, job: _LogJob) -> None:
        """Thread worker: resolve the container if needed, then read or follow the log."""
        from opsconsole.errors import NotFound, OpsConsoleError
        from opsconsole.k8s.logs import follow_logs, read_logs

        worker = get_current_worker()

        def stopped() -> bool:
            return worker.is_cancelled or job.stop.is_set()

        got_lines = False
        try:
            container = job.container
            if job.resolve:
                container, names = _default_container(job.cluster, job.namespace, job.name)
                if stopped():
                    return
                if container is not None:
                    self._notice(job.source, LogNotice(container=container, containers=names))
            if job.previous:
                read = read_logs(
                    job.cluster,
                    job.namespace,
                    job.name,
                    container=container,
                    tail_lines=job.tail,
                    previous=True,
                    timestamps=True,
                )
                # one whole read: the log viewer takes it as bytes (no split into str lines)
                data = (getattr(read, "text", "") or "").encode("utf-8", "replace")
                self.app.post_message(msg.LogLines(job.source, [], data=data))
                if not data:
                    self._notice(
                        job.source,
                        LogNotice(ended="previous container", placeholder=_EMPTY_PREVIOUS),
                    )
                return
            follower = follow_logs(
                job.cluster,
                job.namespace,
                job.name,
                container=container,
                tail_lines=job.tail,
                timestamps=True,
                stop_event=job.stop,
            )
            with follower:
                # the follower already hands out batches (whatever arrived within its poll
                # interval), so each one goes to the UI as one message
                for lines in follower:
                    if stopped():
                        return
                    got_lines = True
                    self.app.post_message(msg.LogLines(job.source, lines))
            if not stopped():  # the follower gave up: the pod is gone or has finished
                self._notice(job.source, _why_ended(job.cluster, job.namespace, job.name))
        except NotFound:
            if not stopped():
                gone = got_lines or job.previous
                self._notice(
                    job.source,
                    LogNotice(ended=_GONE, placeholder=_GONE_TEXT)
                    if gone
                    else LogNotice(ended="pod not found", placeholder=_NOT_FOUND_TEXT),
                )
        except OpsConsoleError as exc:
            if stopped():
                return
            notice = _bad_request_notice(str(exc), job.previous)
            if notice is not None:  # a fact about this log, not a failure: say it in the pane
                self._notice(job.source, notice)
                return
            self._notice(job.source, LogNotice(ended="not following", placeholder=str(exc)))
            self.app.post_message(msg.FeedFailed(f"logs of {job.namespace}/{job.name}", str(exc)))

    def _containers(self, namespace: str, name: str) -> list[str]:
        model = getattr(self.app.main.pods, "model", None)
        row = model.get(namespace, name) if model is not None else None
        return [c.name for c in getattr(row, "containers", []) if not c.init]

    def log_lines(self, message: msg.LogLines) -> None:
        if message.source != self.log_source or not self.app.screen_stack:
            return  # a batch from a source the user already left, or the app is closing
        logs = self.app.main.logs
        notice: LogNotice | None = message.notice
        if notice is not None:
            self._apply_notice(logs, notice)
        elif message.data is not None:
            logs.append_bytes(message.data, final=True)
        elif message.lines:
            logs.append_lines(message.lines)

    @staticmethod
    def _apply_notice(logs: Any, notice: LogNotice) -> None:
        if notice.container is not None:
            logs.set_container(notice.container, default=True)
            if notice.containers and not logs.containers:
                logs.set_containers(notice.containers)
        if notice.ended is not None:
            logs.stop_following(notice.ended, notice.placeholder)

    # ---- describe -------------------------------------------------------------------------

    def describe(self, namespace: str, name: str) -> None:
        backend = self.app.backend
        if backend is None or backend.cluster is None:
            self.app.notify("not connected to a cluster yet", severity="warning")
            return
        cluster = backend.cluster

        def work() -> None:
            from opsconsole.errors import OpsConsoleError
            from opsconsole.k8s.queries import describe_pod

            try:
                text = describe_pod(cluster, namespace, name)
            except OpsConsoleError as exc:
                self.app.post_message(msg.FeedFailed(f"describe {namespace}/{name}", str(exc)))
                return
            self.app.post_message(msg.ShowOutput(f"describe pod {namespace}/{name}", text))

        self.app.run_worker(work, thread=True, group="describe", exit_on_error=False)

    def stop_all(self) -> None:
        for event in (self._log_stop, self._pods_stop):
            if event is not None:
                event.set()


def _default_container(cluster: Any, namespace: str, name: str) -> tuple[str | None, list[str]]:
    """(kubectl's default container, the pod's containers): the default-container annotation
    if it names one of them, else the first. None for a pod of one container (no name needed).
    """
    from opsconsole.k8s.queries import get_pod

    pod = get_pod(cluster, namespace, name)
    names = [c.get("name", "") for c in (pod.get("spec") or {}).get("containers") or ()]
    if len(names) <= 1:
        return None, names
    annotations = (pod.get("metadata") or {}).get("annotations") or {}
    wanted = annotations.get(DEFAULT_CONTAINER_ANNOTATION)
    return (wanted if wanted in names else names[0]), names


def _why_ended(cluster: Any, namespace: str, name: str) -> LogNotice:
    """The follower stops when the pod is gone, being deleted, or finished: which one?"""
    from opsconsole.errors import NotFound, OpsConsoleError
    from opsconsole.k8s.queries import get_pod

    try:
        pod = get_pod(cluster, namespace, name)
    except NotFound:
        return LogNotice(ended=_GONE, placeholder=_GONE_TEXT)
    except OpsConsoleError:
        return LogNotice(ended="log stream ended")
    if (pod.get("metadata") or {}).get("deletionTimestamp"):
        return LogNotice(ended="pod terminating — last lines", placeholder=_GONE_TEXT)
    phase = (pod.get("status") or {}).get("phase") or "finished"
    return LogNotice(ended=f"pod {phase.lower()} — last lines")


def _bad_request_notice(error: str, previous: bool) -> LogNotice | None:
    """A 400 that describes the log rather than a failure (no previous run, not started yet)."""
    text = error.removeprefix("API error 400: ")
    if text == error:
        return None
    if previous and "previous terminated container" in text:
        return LogNotice(ended=_NO_PREVIOUS, placeholder=_NO_PREVIOUS_TEXT)
    if "is waiting to start" in text:
        return LogNotice(ended="container not started", placeholder=text)
    return None


def _has_pending(watcher: Any) -> bool:
    """True while the watcher holds more already-received events (the rest of a burst)."""
    return bool(watcher.pending)


def _watch_item(item: Any) -> tuple[str, Any]:
    """Accept the watch's items as ``(type, payload)`` tuples or objects with ``.type``."""
    if isinstance(item, tuple) and len(item) == 2:
        return str(item[0]), item[1]
    kind = getattr(item, "type", "")
    payload = getattr(item, "rows", None)
    if payload is None:
        payload = getattr(item, "row", None)
    return str(kind), payload
