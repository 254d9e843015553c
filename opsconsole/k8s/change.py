"""One change request (POST, PATCH, DELETE) built from validated parts and sent through the
guarded client, as a server-side dry run (``dryRun=All``) or for real.

A :class:`Change` is data: method, path (built by :func:`opsconsole.k8s.paths.resource_path`),
query, body and content type, plus what a person reads of it. The dry run and the approved
call send the same :class:`Change` (the tools keep the one they dry-ran), so what runs is what
was shown. :func:`send` answers the server's JSON, or raises :class:`ServerRefused` (an HTTP
4xx: the request is wrong or not allowed, whether dry or not) or another
:class:`~opsconsole.errors.OpsConsoleError` (unreachable, timeout, 5xx).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from opsconsole.errors import ClusterError, OpsConsoleError

if TYPE_CHECKING:
    from opsconsole.k8s.client import Cluster
    from opsconsole.k8s.discovery import ResourceInfo

JSON = "application/json"
MERGE = "application/merge-patch+json"
STRATEGIC = "application/strategic-merge-patch+json"
JSON_PATCH = "application/json-patch+json"


class ServerRefused(ClusterError):
    """The API server answered a change with an HTTP 4xx (422 invalid, 404 not found, 409
    conflict, 403 forbidden ...): its message, as it said it."""

    code = "rejected"

    def __init__(self, status: int, message: str) -> None:
        super().__init__(f"rejected by the API server ({status}): {message}")
        self.status = status
        self.server_message = message


@dataclass(frozen=True)
class Change:
    """One request a tool will send, and what it is about."""

    method: str
    path: str
    res: ResourceInfo
    namespace: str | None
    name: str
    body: Any = None
    content_type: str = JSON
    query: tuple[tuple[str, Any], ...] = ()
    #: the object before the change (None: it does not exist yet)
    live: dict[str, Any] | None = None
    #: the verb a person reads ("create", "patch", "delete" ...)
    verb: str = ""
    #: anything the tool wants to read back when it describes the result
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def label(self) -> str:
        where = f"{self.namespace}/{self.name}" if self.namespace else self.name
        return f"{self.res.kind.lower()}/{where}" if self.res.kind else where


def send(cluster: Cluster, change: Change, *, dry_run: bool) -> Any:
    """Send ``change`` (``dryRun=All`` when ``dry_run``); the server's parsed JSON answer."""
    from opsconsole.k8s.client import api_message, loads, map_error

    query = [*change.query]
    if dry_run:
        query.append(("dryRun", "All"))
    headers = {"Accept": JSON}
    if change.body is not None:
        headers["Content-Type"] = change.content_type
    client = cluster.api_client
    for attempt in (0, 1):
        try:
            params = client.param_serialize(
                method=change.method,
                resource_path=change.path,
                query_params=query,
                header_params=headers,
                body=change.body,
                auth_settings=["BearerToken"],
            )
            resp = client.call_api(*params, _request_timeout=cluster.timeout)
            if resp.status == 401 and attempt == 0:
                cluster.reload()
                client = cluster.api_client
                continue
            body = resp.read()
        except OpsConsoleError:
            raise
        except Exception as exc:  # noqa: BLE001 - mapped to a readable error
            raise map_error(exc, server=cluster.server) from None
        status = int(resp.status)
        if 400 <= status < 500:

            class _Exc(Exception):
                pass

            err = _Exc()
            err.body = body  # type: ignore[attr-defined]
            err.reason = getattr(resp, "reason", "")  # type: ignore[attr-defined]
            raise ServerRefused(status, api_message(err))
        if status >= 500:
            from opsconsole.k8s.discovery import HttpStatusException

            raise map_error(HttpStatusException(status, body), server=cluster.server)
        try:
            return loads(body) if body else {}
        except ValueError:
            raise ClusterError("the API server sent a response that is not JSON") from None
    raise AssertionError("unreachable")  # pragma: no cover
