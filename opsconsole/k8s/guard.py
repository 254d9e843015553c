"""The request guard: read-only mode enforced at the lowest HTTP layer of the Kubernetes layer.

Every request a :class:`~opsconsole.k8s.client.Cluster` sends (the generated APIs, watches, log
streams, the manifests' raw dry runs) is serialised by :class:`GuardedApiClient` and sent by
its REST client through one urllib3 pool manager, which this module wraps. What it guarantees:

1. **Built from validated parts.** ``param_serialize`` refuses a resource path with anything
   but plain segments (:func:`~opsconsole.k8s.paths.check_template`: no ``?``, ``#``, ``%``,
   whitespace, ``.``/``..``), a path parameter that is not valid Kubernetes syntax for what it
   names (:func:`~opsconsole.k8s.paths.check_path_param`) and a query key that is not a plain
   identifier; query values go through the client's encoder (percent-quoted). The URL it builds
   is a :class:`BuiltURL` that remembers its method and whether our code asked for a dry run:
   ``dryRun=All`` among the structured query parameters, never parsed out of the URL text.
2. **One guard below everything.** The pool manager's ``request``/``urlopen`` (below
   ``ApiClient.call_api`` and ``RESTClientObject.request``) let a GET through and refuse any
   other method unless its URL is a :class:`BuiltURL` for that method
   (:class:`UnsafeRequest`); in read-only mode a non-GET must also be a dry run
   (:class:`ReadOnlyRefused`). Refusals raise before any byte is sent.
3. **The mode is the session's.** :attr:`RequestGuard.write_mode` is read on every request;
   the runtime (the console's ``/write`` toggle, ``--write``, the eval harness) sets it through
   ``Cluster.write_mode``. The default is read-only.

Approval of a change is the agent loop's job; this guard makes sure nothing but a dry run can
reach the cluster while the session is read-only, whatever a tool does with its input.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

from kubernetes.client import ApiClient

from opsconsole.errors import ClusterError
from opsconsole.k8s.paths import check_path_param, check_template

_QUERY_KEY = re.compile(r"[A-Za-z][A-Za-z0-9]*")
_READS = frozenset({"GET"})


class RequestRefused(ClusterError):
    """A request the guard did not send."""


class UnsafeRequest(RequestRefused):
    """A mutating request whose URL was not built from validated parts by our client."""


class ReadOnlyRefused(RequestRefused):
    """A mutating request (not a dry run) while the session is read-only."""


class BuiltURL(str):
    """A URL serialised by :class:`GuardedApiClient` from validated parts."""

    method: str
    dry_run: bool

    def __new__(cls, url: str, *, method: str, dry_run: bool) -> BuiltURL:
        obj = super().__new__(cls, url)
        obj.method = method
        obj.dry_run = dry_run
        return obj


def _path_of(url: object) -> str:
    text = str(url)
    start = text.find("/", text.find("//") + 2) if "//" in text else 0
    shown = text[start:] if start >= 0 else text
    return shown if len(shown) <= 120 else shown[:117] + "..."


class RequestGuard:
    """The read-only / write decision for every request of one Cluster."""

    def __init__(self, *, write_mode: bool = False) -> None:
        self.write_mode = bool(write_mode)

    def check(self, method: str, url: object) -> None:
        """Raise :class:`RequestRefused` unless ``method url`` may be sent now."""
        verb = str(method).upper()
        if verb in _READS:
            return
        if not isinstance(url, BuiltURL) or url.method != verb:
            raise UnsafeRequest(
                f"refused: {verb} {_path_of(url)} was not built from validated parts by the "
                "Kubernetes layer; nothing was sent"
            )
        if not self.write_mode and not url.dry_run:
            raise ReadOnlyRefused(
                f"refused: this session is read-only and {verb} {_path_of(url)} is not a "
                "server-side dry run; nothing was sent",
                hint="turn on write mode (/write in the console, or --write) to make changes; "
                "each one still needs your approval",
            )


def _is_dry_run(query_params: Iterable[tuple[str, Any]]) -> bool:
    values = [v for k, v in query_params if k == "dryRun"]
    return values == ["All"]


class _GuardedPool:
    """The REST client's pool manager, with :meth:`RequestGuard.check` before every request."""

    def __init__(self, inner: Any, guard: RequestGuard) -> None:
        self._inner = inner
        self._guard = guard

    def request(self, method: str, url: str, *args: Any, **kwargs: Any) -> Any:
        self._guard.check(method, url)
        return self._inner.request(method, url, *args, **kwargs)

    def urlopen(self, method: str, url: str, *args: Any, **kwargs: Any) -> Any:
        self._guard.check(method, url)
        return self._inner.urlopen(method, url, *args, **kwargs)

    def clear(self) -> None:
        self._inner.clear()


class GuardedApiClient(ApiClient):  # type: ignore[misc]
    """The official ApiClient whose requests are serialised from validated parts only and
    sent through the guarded pool manager."""

    def __init__(self, configuration: Any, guard: RequestGuard) -> None:
        super().__init__(configuration=configuration)
        self.guard = guard
        pool = _GuardedPool(self.rest_client.pool_manager, guard)
        self.rest_client.pool_manager = pool  # type: ignore[assignment]  # same interface

    def param_serialize(
        self,
        method: str,
        resource_path: str,
        path_params: dict[str, Any] | None = None,
        query_params: list[tuple[str, Any]] | dict[str, Any] | None = None,
        *args: Any,
        **kwargs: Any,
    ) -> tuple[Any, ...]:
        verb = str(method).upper()
        check_template(resource_path)
        for key, value in (path_params or {}).items():
            check_path_param(key, value)
        pairs = list(query_params.items() if isinstance(query_params, dict) else query_params or [])
        for key, _ in pairs:
            if not isinstance(key, str) or not _QUERY_KEY.fullmatch(key):
                raise UnsafeRequest(f"refused: query parameter {key!r} is not a plain name")
        dry_run = _is_dry_run(pairs)
        out = super().param_serialize(
            verb, resource_path, path_params, pairs or None, *args, **kwargs
        )
        return (out[0], BuiltURL(out[1], method=verb, dry_run=dry_run), *out[2:])
