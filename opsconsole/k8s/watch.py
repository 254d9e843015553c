"""A cancellable pod watch that survives expired resource versions (K6).

``watch_pods(cluster, namespace, stop_event)`` returns a :class:`PodWatcher`; iterate it for
``(type, obj)`` events:

- ``("SYNC", list[PodRow])``: the full current list; replace what you hold. Sent first, and
  again after every relist (410 Gone as an HTTP error or as an ERROR event in the stream).
- ``("ADDED" | "MODIFIED" | "DELETED", PodRow)``: one pod changed.
- ``("ERROR", OpsConsoleError)``: the watch failed; transient failures (unreachable, timeout)
  are retried with a backoff, fatal ones (forbidden, credentials, no cluster) end the iterator
  after this event.

Watch lines are parsed with ``json.loads`` straight into rows (no client models). Relists use
an exponential backoff (0.5 s doubling to 10 s) so a server that keeps answering 410 never
causes a tight loop. ``close()`` or the stop event ends the iterator promptly.
"""

from __future__ import annotations

import json
import threading
import time
from collections import deque
from typing import Any

from opsconsole.errors import (
    ClusterError,
    CredentialsExpired,
    Forbidden,
    NoClusterConfigured,
    OpsConsoleError,
)
from opsconsole.k8s.client import Cluster, map_error
from opsconsole.k8s.parse import parse_pod
from opsconsole.k8s.queries import list_pods_with_version
from opsconsole.k8s.stream import LineStream, wait_or_stop

_FATAL = (Forbidden, CredentialsExpired, NoClusterConfigured)


class PodWatcher:
    def __init__(
        self,
        cluster: Cluster,
        namespace: str | None = None,
        stop_event: threading.Event | None = None,
        *,
        label_selector: str | None = None,
        server_timeout: int = 300,
        poll_interval: float = 0.1,
        max_backoff: float = 10.0,
        refresh_seconds: float = 5.0,
    ) -> None:
        cluster.check_namespace(namespace)
        if namespace is None and cluster.namespace_allowlist:
            if len(cluster.namespace_allowlist) != 1:
                raise Forbidden(
                    "watching all namespaces is not possible with a namespace allowlist of "
                    "several namespaces; watch one of: " + ", ".join(cluster.namespace_allowlist)
                )
            namespace = cluster.namespace_allowlist[0]
        self.cluster = cluster
        self.namespace = namespace
        self.stop_event = stop_event
        self.label_selector = label_selector
        self.server_timeout = server_timeout
        self.poll_interval = poll_interval
        self.max_backoff = max_backoff
        #: when the watch itself is forbidden (RBAC grants list, not watch): list again this often
        self.refresh_seconds = refresh_seconds
        self.polling = False
        self.resource_version = ""
        self.relists = 0  # how many times we listed (the first list included)
        self.watches = 0  # how many watch requests we opened
        self._closed = threading.Event()
        self._stream: LineStream | None = None
        self._need_list = True
        self._backoff = 0.0
        self._wait = 0.0
        self._opened_at = 0.0
        self._pending: deque[tuple[str, Any]] = deque()
        self._done = False

    @property
    def pending(self) -> int:
        """How many received events wait to be taken (the rest of a burst)."""
        return len(self._pending)

    # -- lifecycle --------------------------------------------------------------------------

    def close(self) -> None:
        self._closed.set()
        s = self._stream
        if s is not None:
            s.close()

    def _stopped(self) -> bool:
        return self._closed.is_set() or (self.stop_event is not None and self.stop_event.is_set())

    def __iter__(self) -> PodWatcher:
        return self

    def __enter__(self) -> PodWatcher:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _sleep(self, seconds: float) -> bool:
        return wait_or_stop(self.stop_event, seconds, self._closed.is_set)

    def _bump_backoff(self) -> None:
        self._backoff = min(self.max_backoff, max(0.5, self._backoff * 2))

    # -- steps ------------------------------------------------------------------------------

    def _list(self) -> tuple[str, Any]:
        rows, rv = list_pods_with_version(
            self.cluster, self.namespace, label_selector=self.label_selector
        )
        self.relists += 1
        self.resource_version = rv
        self._need_list = False
        return ("SYNC", rows)

    def _open_watch(self) -> None:
        kwargs: dict[str, Any] = {
            "watch": True,
            "allow_watch_bookmarks": True,
            "timeout_seconds": self.server_timeout,
            "resource_version": self.resource_version or None,
            "_request_timeout": (self.cluster.timeout[0], self.server_timeout + 30.0),
        }
        if self.label_selector:
            kwargs["label_selector"] = self.label_selector
        if self.namespace is None:
            resp = self.cluster.stream("core", "list_pod_for_all_namespaces", **kwargs)
        else:
            resp = self.cluster.stream("core", "list_namespaced_pod", self.namespace, **kwargs)
        self.watches += 1
        self._opened_at = time.monotonic()
        self._stream = LineStream(resp, name="pod-watch")
        if self._stopped():
            self._stream.close()

    def _expired(self) -> None:
        """410 Gone: list again after the backoff."""
        self._need_list = True
        self._bump_backoff()
        self._wait = self._backoff

    def _handle_lines(self, lines: list[bytes]) -> None:
        for raw in lines:
            raw = raw.strip()
            if not raw:
                continue
            try:
                ev = json.loads(raw)
            except ValueError:
                continue
            typ = ev.get("type")
            obj = ev.get("object") or {}
            if typ == "ERROR":
                if obj.get("code") == 410 or obj.get("reason") in ("Expired", "Gone"):
                    self._expired()
                    if self._stream is not None:
                        self._stream.close()
                        self._stream = None
                    return
                self._pending.append(
                    ("ERROR", ClusterError(f"watch error: {obj.get('message', 'unknown')}"))
                )
                continue
            rv = (obj.get("metadata") or {}).get("resourceVersion")
            if rv:
                self.resource_version = rv
            if typ == "BOOKMARK":
                continue
            if typ in ("ADDED", "MODIFIED", "DELETED"):
                self._backoff = 0.0
                self._pending.append((typ, parse_pod(obj)))

    def __next__(self) -> tuple[str, Any]:
        while True:
            if self._pending:
                return self._pending.popleft()
            if self._done or self._stopped():
                self.close()
                raise StopIteration
            try:
                if self._wait:
                    wait, self._wait = self._wait, 0.0
                    if self._sleep(wait):
                        continue
                if self._need_list:
                    return self._list()
                if self.polling:
                    self._need_list = True
                    self._wait = self.refresh_seconds
                    continue
                if self._stream is None:
                    self._open_watch()
            except OpsConsoleError as exc:
                if "410" in str(exc):
                    self._expired()
                    continue
                if isinstance(exc, Forbidden) and self.relists and not self.watches:
                    return self._poll_instead(exc)
                return self._failed(exc)
            assert self._stream is not None
            got = self._stream.get(self.poll_interval)
            if got is None:  # stream ended: server timeout, or an error
                err = self._stream.error
                self._stream = None
                if err is not None and not self._stopped():
                    return self._failed(map_error(err, server=self.cluster.server))
                if time.monotonic() - self._opened_at < 1.0 and not self._need_list:
                    # a server that keeps closing watches at once: do not spin
                    self._bump_backoff()
                    self._wait = self._backoff
                continue  # resume from the last resourceVersion
            if got:
                self._handle_lines(got)

    def _poll_instead(self, exc: Forbidden) -> tuple[str, Any]:
        """The list was allowed and the watch is not: list again every ``refresh_seconds``
        (kubectl get -w would fail here; the pod list stays current, only less promptly)."""
        self.polling = True
        self._need_list = True
        self._wait = self.refresh_seconds
        note = Forbidden(
            f"watching pods is not allowed ({exc.message}); "
            f"refreshing the list every {self.refresh_seconds:g} s instead",
            hint="grant the watch verb on pods for live updates",
        )
        return ("ERROR", note)

    def _failed(self, exc: OpsConsoleError) -> tuple[str, Any]:
        if isinstance(exc, _FATAL):
            self._done = True
        else:
            self._bump_backoff()
            self._wait = self._backoff
        return ("ERROR", exc)


def watch_pods(
    cluster: Cluster,
    namespace: str | None = None,
    stop_event: threading.Event | None = None,
    *,
    label_selector: str | None = None,
    server_timeout: int = 300,
    refresh_seconds: float = 5.0,
) -> PodWatcher:
    """A cancellable iterator of pod events (see the module docstring)."""
    return PodWatcher(
        cluster,
        namespace,
        stop_event,
        label_selector=label_selector,
        server_timeout=server_timeout,
        refresh_seconds=refresh_seconds,
    )
