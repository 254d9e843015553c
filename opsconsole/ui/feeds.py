"""Cluster feeds for the pod list and the log viewer: thread workers in named groups.

The pod watch runs in group ``pods``, the log follow in group ``logs``; both check
``is_cancelled`` and hand results to the UI by ``post_message`` in batches (the kubernetes
client is blocking, so these are threads). Widgets never do I/O.
"""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING, Any

from textual.worker import get_current_worker

from opsconsole.ui import messages as msg

if TYPE_CHECKING:
    from opsconsole.ui.app import OpsConsoleApp

MAX_BATCH = 500


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
        pods = self.app.main.pods
        if hasattr(pods, "set_namespace"):
            pods.set_namespace(namespace)
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
            watcher = watch_pods(cluster, namespace, stop_event=stop)
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
        pods = self.app.main.pods
        if hasattr(pods, "set_rows"):
            pods.set_rows(message.rows)
        self.pods_ready = True
        if self._pending_select is not None:
            ns, name = self._pending_select
            self._pending_select = None
            self._select(ns, name)

    def pods_changed(self, message: msg.PodsChanged) -> None:
        pods = self.app.main.pods
        if hasattr(pods, "apply"):
            for kind, row in message.changes:
                pods.apply(kind, row)

    def _select(self, namespace: str, name: str) -> bool:
        pods = self.app.main.pods
        if not hasattr(pods, "select_pod"):
            return False
        found = pods.select_pod(namespace, name)
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
        logs = self.app.main.logs
        if hasattr(logs, "set_source"):
            logs.set_source(namespace, name, container, previous)
            logs.set_containers(self._containers(namespace, name))
        cluster = backend.cluster
        tail = self.app.settings.kubernetes.log_tail_lines
        self.app.run_worker(
            lambda: self._follow(cluster, namespace, name, container, previous, tail, source, stop),
            thread=True,
            exclusive=True,
            group="logs",
            name=f"logs {source}",
            exit_on_error=False,
        )

    def _follow(
        self,
        cluster: Any,
        namespace: str,
        name: str,
        container: str | None,
        previous: bool,
        tail: int,
        source: str,
        stop: threading.Event,
    ) -> None:
        from opsconsole.errors import OpsConsoleError
        from opsconsole.k8s.logs import follow_logs, read_logs

        worker = get_current_worker()
        try:
            if previous:
                read = read_logs(
                    cluster,
                    namespace,
                    name,
                    container=container,
                    tail_lines=tail,
                    previous=True,
                    timestamps=True,
                )
                # one whole read: the log viewer takes it as bytes (no split into str lines)
                data = (getattr(read, "text", "") or "").encode("utf-8", "replace")
                self.app.post_message(msg.LogLines(source, [], data=data))
                return
            follower = follow_logs(
                cluster,
                namespace,
                name,
                container=container,
                tail_lines=tail,
                timestamps=True,
                stop_event=stop,
            )
            with follower:
                # the follower already hands out batches (whatever arrived within its poll
                # interval), so each one goes to the UI as one message
                for lines in follower:
                    if worker.is_cancelled or stop.is_set():
                        return
                    self.app.post_message(msg.LogLines(source, lines))
        except OpsConsoleError as exc:
            if not (worker.is_cancelled or stop.is_set()):
                self.app.post_message(msg.FeedFailed(f"logs of {namespace}/{name}", str(exc)))

    def _containers(self, namespace: str, name: str) -> list[str]:
        model = getattr(self.app.main.pods, "model", None)
        row = model.get(namespace, name) if model is not None else None
        return [c.name for c in getattr(row, "containers", []) if not c.init]

    def log_lines(self, message: msg.LogLines) -> None:
        if message.source != self.log_source:
            return  # a batch from a source the user already left
        logs = self.app.main.logs
        if message.data is not None:
            logs.append_bytes(message.data, final=True)
        elif message.lines:
            logs.append_lines(message.lines)

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
