"""Shared types of the API layer: errors as Status objects and response descriptions."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from . import resources as R
from .logs import ContainerLog, Instance
from .store import Obj, Watcher, dumps

#: a request body: the bytes, or the object a protobuf body was decoded into on the way in
Body = bytes | Obj


class ApiError(Exception):
    def __init__(self, code: int, reason: str, message: str, details: Obj | None = None) -> None:
        super().__init__(message)
        self.code, self.reason, self.message, self.details = code, reason, message, details


def status_obj(code: int, reason: str, message: str, details: Obj | None = None) -> Obj:
    st: Obj = {
        "kind": "Status",
        "apiVersion": "v1",
        "metadata": {},
        "status": "Failure",
        "message": message,
        "reason": reason,
        "code": code,
    }
    if details:
        st["details"] = details
    return st


@dataclass
class Response:
    code: int
    body: bytes
    content_type: str = "application/json"
    headers: dict[str, str] = field(default_factory=dict)


@dataclass
class WatchStream:
    watcher: Watcher | None
    rkey: str
    table: bool
    include: str
    timeout: float | None
    error: Obj | None = None  # a single ERROR event (410) and then the end
    protobuf: bool = False  # length-prefixed protobuf WatchEvents instead of JSON lines
    printer: Any = None  # a custom resource's Table printer (crds.Printer)


@dataclass
class LogStream:
    source: ContainerLog
    instance: Instance
    ns: str
    pod: str
    timestamps: bool
    limit_bytes: int | None
    initial: list[str]
    last_t: float
    crash_sent: bool = False  # ``initial`` already held the crash lines (the run had ended)


def _q_int(query: dict[str, str], key: str) -> int | None:
    v = query.get(key)
    if v in (None, ""):
        return None
    try:
        return int(v)
    except ValueError:
        raise ApiError(400, "BadRequest", f"invalid value for {key}: {v!r}") from None


def _details(res: R.Resource, name: str | None) -> Obj:
    d: Obj = {"kind": res.plural}
    if name:
        d["name"] = name
    if res.group:
        d["group"] = res.group
    return d


def _qualified(res: R.Resource) -> str:
    return f"{res.plural}.{res.group}" if res.group else res.plural


def not_found(res: R.Resource, name: str) -> ApiError:
    return ApiError(404, "NotFound", f'{_qualified(res)} "{name}" not found', _details(res, name))


def ok(obj: Any, code: int = 200, headers: dict[str, str] | None = None) -> Response:
    """A JSON answer (``obj`` already serialised when it is bytes)."""
    return Response(code, obj if isinstance(obj, bytes) else dumps(obj), headers=headers or {})


def parse_body(body: Body) -> Any:
    """The request body as JSON (a protobuf body arrives decoded), or 400 as the server says."""
    if isinstance(body, dict):
        return body
    try:
        return json.loads(body or b"{}")
    except ValueError as e:
        raise ApiError(
            400, "BadRequest", f"the body of the request was in an unknown format: {e}"
        ) from None
