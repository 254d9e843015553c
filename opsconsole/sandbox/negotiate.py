"""Content negotiation: protobuf request bodies in, protobuf responses out when asked for.

kubectl sends its typed objects (``kubectl create deployment``, ``auth can-i``, ...) as
``application/vnd.kubernetes.protobuf`` and accepts protobuf or JSON back; the sandbox then answers
JSON. A client that accepts only protobuf gets protobuf (single objects, lists, Status and watch
streams of the kinds in the protobuf table), or 406 for what has no protobuf form (Tables, metrics).
"""

from __future__ import annotations

from typing import Any

from .apitypes import ApiError, Body, LogStream, Response, WatchStream, status_obj
from .store import dumps
from .wire.protobuf import (
    MEDIA_TYPE,
    ProtobufError,
    is_protobuf,
    schema,
    wants_only_protobuf,
)

__all__ = ["as_protobuf", "decode_body", "wants_only_protobuf"]


def decode_body(headers: Any, body: bytes) -> Body:
    """A protobuf body -> the object it holds; any other body is left to the handlers."""
    if not body or not is_protobuf(headers.get("Content-Type")):
        return body
    try:
        return schema().decode_object(body)
    except ProtobufError as e:
        raise ApiError(
            400, "BadRequest", f"the body of the request was in an unknown format: {e}"
        ) from None


def as_protobuf(out: Response | WatchStream | LogStream) -> Response | WatchStream | LogStream:
    """The same answer in protobuf, for a client that accepts nothing else."""
    if isinstance(out, WatchStream):
        if out.table:
            return _not_acceptable()
        out.protobuf = True
        return out
    if isinstance(out, LogStream) or not out.content_type.startswith("application/json"):
        return out
    import json

    try:
        encoded = schema().encode_object(json.loads(out.body))
    except ValueError:
        encoded = None
    if encoded is None:
        return _not_acceptable()
    return Response(out.code, encoded, MEDIA_TYPE, out.headers)


def _not_acceptable() -> Response:
    st = status_obj(
        406, "NotAcceptable", "only the following media types are accepted: application/json"
    )
    return Response(406, dumps(st))
