"""A scripted OpenAI-compatible chat-completions server on loopback, for tests.

It speaks real HTTP, so the real ``openai`` client (and everything above it) is exercised
end to end. It *validates* every request the way OpenAI / DeepSeek do and answers 400 with
their messages when the transcript is broken (a tool_calls message without one tool message
per id, a tool message answering nothing, bad roles or content types, arguments that are not
strings, empty ``tool_calls``...), so a loop that corrupts its transcript fails the test.

Usage::

    from tests.fakes.openai_server import ScriptedOpenAIServer, reply, tool_call, error

    with ScriptedOpenAIServer() as srv:
        srv.push(reply(tool_calls=[tool_call("get_k8s_pods", {"namespace": "default"})]))
        srv.push(reply("All pods are running."))
        settings = settings.replace(model=settings.model.replace(base_url=srv.base_url))
        ...
        assert srv.rejections == []                     # no request was refused
        body = srv.requests[1]                          # the JSON body of the second request

Script items (consumed one per accepted request, in order):

- :func:`reply` / :class:`Reply`: an assistant turn (text, ``reasoning_content``, tool calls
  whose arguments are split into chunks, usage, finish_reason), streamed as SSE when the
  request has ``stream: true`` (optionally with ``: keep-alive`` comments first, a delay, a
  connection cut after N events (``cut_after``), a clean end after N events without
  finish_reason or [DONE] (``end_after``), or no [DONE] (``no_done``)) or as plain JSON
  otherwise.
- :func:`error` / :class:`ErrorReply`: an HTTP error with a status, an OpenAI-shaped body and
  headers (e.g. ``{"Retry-After": "2"}``).
- :class:`Hang`: accept the request and answer nothing for ``seconds`` (then drop the
  connection); released at once when the server stops.

When the script is empty the server answers 400 ``script exhausted`` (never retried by
clients), so an unexpected extra request fails loudly.

Options (constructor keywords): ``require_reasoning_passback`` (DeepSeek thinking mode: every
earlier assistant message with tool_calls must carry ``reasoning_content``),
``reject_reasoning_content`` (older models: any ``reasoning_content`` in input is a 400),
``strict_alternation`` (no two user or two assistant messages in a row, like
deepseek-reasoner), ``max_context_chars`` (a request whose messages exceed this many characters
gets the context-length 400 without consuming the script), ``api_key`` (other keys get 401),
``reject_stream_options`` (an older server that refuses ``stream_options``), ``prefix_cache``
(``"deepseek"`` or ``"openai"``: every answered request goes through
:class:`tests.fakes.prefix_cache.PrefixCache`, and its usage carries the computed prompt tokens
and cache hits in that provider's fields; ``srv.cache.records`` holds the accounting).
A reply's ``usage_fields`` adds fields to its ``usage`` as given.
"""

from __future__ import annotations

import json
import socket
import threading
import time
import uuid
from collections import deque
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from tests.fakes.openai_validate import context_chars, validate_chat_request
from tests.fakes.prefix_cache import CacheRecord, PrefixCache, usage_fields

__all__ = [
    "ErrorReply",
    "Hang",
    "Reply",
    "ScriptedOpenAIServer",
    "ToolCallSpec",
    "error",
    "reply",
    "tool_call",
    "validate_chat_request",
]


# --- script items -----------------------------------------------------------------------


@dataclass
class ToolCallSpec:
    name: str
    #: a dict is JSON-encoded; a str is sent verbatim (use it for malformed JSON)
    arguments: str | dict[str, Any] = "{}"
    id: str | None = None
    #: how many pieces the arguments string is split into when streamed
    chunks: int = 3

    def args_text(self) -> str:
        if isinstance(self.arguments, str):
            return self.arguments
        return json.dumps(self.arguments, ensure_ascii=False)


@dataclass
class Reply:
    content: str = ""
    reasoning: str = ""
    tool_calls: list[ToolCallSpec] = field(default_factory=list)
    #: default: "tool_calls" when there are tool calls, else "stop"
    finish_reason: str | None = None
    #: (prompt_tokens, completion_tokens); None = send no usage at all
    usage: tuple[int, int] | None = (100, 20)
    #: extra ``usage`` fields sent as given (e.g. ``{"prompt_cache_hit_tokens": 64}``)
    usage_fields: dict[str, Any] | None = None
    #: characters per streamed content / reasoning piece
    chunk_size: int = 8
    #: ``: keep-alive`` comment lines sent before the first event
    keepalive: int = 0
    keepalive_interval: float = 0.0
    #: seconds to wait before the response headers
    delay: float = 0.0
    #: seconds between streamed events
    event_interval: float = 0.0
    #: close the connection abruptly after this many SSE data events (a broken stream)
    cut_after: int | None = None
    #: omit the final [DONE] line; the stream still ends cleanly after the finish_reason
    no_done: bool = False
    #: end the stream cleanly (the body's last chunk, no connection drop) after this many SSE
    #: data events: no finish_reason unless it was among them, no usage, no [DONE]
    end_after: int | None = None


@dataclass
class ErrorReply:
    status: int
    message: str = "error"
    type: str = "invalid_request_error"
    code: str | None = None
    headers: dict[str, str] = field(default_factory=dict)
    #: a raw body instead of the OpenAI-shaped one
    body: Any = None


@dataclass
class Hang:
    seconds: float = 30.0


ScriptItem = Reply | ErrorReply | Hang


def tool_call(
    name: str,
    arguments: str | dict[str, Any] | None = None,
    *,
    id: str | None = None,
    chunks: int = 3,
) -> ToolCallSpec:
    return ToolCallSpec(
        name=name, arguments="{}" if arguments is None else arguments, id=id, chunks=chunks
    )


def reply(content: str = "", **kwargs: Any) -> Reply:
    return Reply(content=content, **kwargs)


def error(status: int, message: str = "error", **kwargs: Any) -> ErrorReply:
    return ErrorReply(status=status, message=message, **kwargs)


# --- the server ---------------------------------------------------------------------------


class _Cut(Exception):
    pass


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: _HTTPServer

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - stdlib signature
        pass

    # -- helpers ----------------------------------------------------------------------

    def _send_json(self, status: int, payload: Any, headers: dict[str, str] | None = None) -> None:
        data = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(data)
        self.wfile.flush()

    def _send_error(
        self,
        status: int,
        message: str,
        type_: str = "invalid_request_error",
        code: str | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        self._send_json(
            status,
            {"error": {"message": message, "type": type_, "param": None, "code": code}},
            headers,
        )

    def _chunk(self, data: bytes) -> None:
        self.wfile.write(f"{len(data):x}\r\n".encode() + data + b"\r\n")
        self.wfile.flush()

    # -- routes -----------------------------------------------------------------------

    def do_GET(self) -> None:  # noqa: N802 - stdlib name
        if self.path.rstrip("/").endswith("/models"):
            self._send_json(
                200, {"object": "list", "data": [{"id": "fake-model", "object": "model"}]}
            )
        else:
            self._send_error(404, f"no route {self.path}", "not_found")

    def do_POST(self) -> None:  # noqa: N802 - stdlib name
        srv = self.server.owner
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        path = self.path.split("?")[0].rstrip("/")
        if path not in ("/v1/chat/completions", "/chat/completions"):
            self._send_error(404, f"no route {self.path}", "not_found")
            return
        try:
            body = json.loads(raw or b"null")
        except ValueError:
            srv._record(None, 400, "invalid JSON body", self.headers)
            self._send_error(400, "We could not parse the JSON body of your request.")
            return
        if srv.api_key is not None:
            auth = self.headers.get("Authorization", "")
            if auth != f"Bearer {srv.api_key}":
                srv._record(body, 401, "bad key", self.headers)
                self._send_error(
                    401,
                    "Authentication Fails, Your api key is invalid",
                    "authentication_error",
                    "invalid_api_key",
                )
                return
        problem = validate_chat_request(
            body,
            require_reasoning_passback=srv.require_reasoning_passback,
            reject_reasoning_content=srv.reject_reasoning_content,
            strict_alternation=srv.strict_alternation,
        )
        if problem is None and srv.reject_stream_options and "stream_options" in body:
            problem = "Unrecognized request argument supplied: stream_options"
        if problem is not None:
            srv._record(body, 400, problem, self.headers)
            self._send_error(400, problem)
            return
        if srv.max_context_chars is not None:
            size = context_chars(body["messages"])
            if size > srv.max_context_chars:
                msg = (
                    f"This model's maximum context length is {srv.max_context_chars // 4} "
                    f"tokens. However, you requested {size // 4} tokens. Please reduce the "
                    "length of the messages."
                )
                srv._record(body, 400, msg, self.headers, context_length=True)
                self._send_error(400, msg)
                return
        item = srv._next()
        if item is None:
            srv._record(body, 400, "script exhausted", self.headers)
            self._send_error(
                400, "fake server: script exhausted (unexpected request)", "script_exhausted"
            )
            return
        if isinstance(item, ErrorReply):
            srv._record(body, item.status, None, self.headers)
            if item.body is not None:
                self._send_json(item.status, item.body, item.headers)
            else:
                self._send_error(item.status, item.message, item.type, item.code, item.headers)
            return
        if isinstance(item, Hang):
            srv._record(body, 0, None, self.headers)
            srv._stop.wait(item.seconds)
            self.close_connection = True
            try:
                self.connection.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            return
        srv._record(body, 200, None, self.headers)
        usage = _usage(item, srv.cache.account(body) if srv.prefix_cache else None, srv)
        if item.delay:
            srv._stop.wait(item.delay)
        if body.get("stream"):
            include_usage = bool((body.get("stream_options") or {}).get("include_usage"))
            self._stream(item, body, usage if include_usage else None)
        else:
            self._send_json(200, _completion(item, body, usage))

    def _stream(self, item: Reply, body: dict[str, Any], usage: dict[str, Any] | None) -> None:
        srv = self.server.owner
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.send_header("Cache-Control", "no-cache")
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()
        try:
            for _ in range(item.keepalive):
                self._chunk(b": keep-alive\n\n")
                if item.keepalive_interval and srv._stop.wait(item.keepalive_interval):
                    raise _Cut
            sent = 0
            for event in _chunks(item, body, usage):
                if item.cut_after is not None and sent >= item.cut_after:
                    raise _Cut
                if item.end_after is not None and sent >= item.end_after:
                    break
                self._chunk(b"data: " + json.dumps(event).encode() + b"\n\n")
                sent += 1
                if item.event_interval and srv._stop.wait(item.event_interval):
                    raise _Cut
            if item.cut_after is not None:
                raise _Cut
            if not item.no_done and item.end_after is None:
                self._chunk(b"data: [DONE]\n\n")
            self.wfile.write(b"0\r\n\r\n")
            self.wfile.flush()
        except _Cut:
            self.close_connection = True
            try:
                self.wfile.flush()
                self.connection.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True


def _split(text: str, size: int) -> list[str]:
    size = max(1, size)
    return [text[i : i + size] for i in range(0, len(text), size)]


def _finish(item: Reply) -> str:
    if item.finish_reason is not None:
        return item.finish_reason
    return "tool_calls" if item.tool_calls else "stop"


def _call_ids(item: Reply) -> list[str]:
    return [tc.id or f"call_{uuid.uuid4().hex[:12]}" for tc in item.tool_calls]


def _usage(item: Reply, record: CacheRecord | None, srv: ScriptedOpenAIServer) -> dict | None:
    """The ``usage`` of a reply: the scripted counts, or with ``prefix_cache`` the prompt
    tokens and cache fields the prefix cache computed; then ``usage_fields``."""
    if item.usage is None:
        return None
    p, c = item.usage
    if record is not None:
        p = record.prompt_tokens
    out: dict[str, Any] = {"prompt_tokens": p, "completion_tokens": c, "total_tokens": p + c}
    if record is not None and srv.prefix_cache:
        out.update(usage_fields(record, srv.prefix_cache))
    out.update(item.usage_fields or {})
    return out


def _chunks(
    item: Reply, body: dict[str, Any], usage: dict[str, Any] | None
) -> list[dict[str, Any]]:
    cid = f"chatcmpl-{uuid.uuid4().hex[:10]}"
    base = {
        "id": cid,
        "object": "chat.completion.chunk",
        "created": int(time.time()),
        "model": body.get("model", "fake"),
    }

    def ev(delta: dict[str, Any], finish: str | None = None) -> dict[str, Any]:
        return {
            **base,
            "choices": [{"index": 0, "delta": delta, "finish_reason": finish, "logprobs": None}],
        }

    out = [ev({"role": "assistant", "content": ""})]
    for piece in _split(item.reasoning, item.chunk_size) if item.reasoning else []:
        out.append(ev({"content": None, "reasoning_content": piece}))
    for piece in _split(item.content, item.chunk_size) if item.content else []:
        out.append(ev({"content": piece}))
    for idx, (tc, tcid) in enumerate(zip(item.tool_calls, _call_ids(item), strict=True)):
        out.append(
            ev(
                {
                    "tool_calls": [
                        {
                            "index": idx,
                            "id": tcid,
                            "type": "function",
                            "function": {"name": tc.name, "arguments": ""},
                        }
                    ]
                }
            )
        )
        args = tc.args_text()
        n = max(1, tc.chunks)
        size = max(1, -(-len(args) // n)) if args else 1
        for piece in _split(args, size) if args else []:
            out.append(ev({"tool_calls": [{"index": idx, "function": {"arguments": piece}}]}))
    out.append(ev({}, _finish(item)))
    if usage is not None:  # the final chunk of stream_options.include_usage
        out.append({**base, "choices": [], "usage": usage})
    return out


def _completion(item: Reply, body: dict[str, Any], usage: dict[str, Any] | None) -> dict[str, Any]:
    msg: dict[str, Any] = {"role": "assistant", "content": item.content or None}
    if item.reasoning:
        msg["reasoning_content"] = item.reasoning
    if item.tool_calls:
        msg["tool_calls"] = [
            {
                "id": tcid,
                "type": "function",
                "function": {"name": tc.name, "arguments": tc.args_text()},
            }
            for tc, tcid in zip(item.tool_calls, _call_ids(item), strict=True)
        ]
    out: dict[str, Any] = {
        "id": f"chatcmpl-{uuid.uuid4().hex[:10]}",
        "object": "chat.completion",
        "created": int(time.time()),
        "model": body.get("model", "fake"),
        "choices": [{"index": 0, "message": msg, "finish_reason": _finish(item), "logprobs": None}],
    }
    if usage is not None:
        out["usage"] = usage
    return out


class _HTTPServer(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    owner: ScriptedOpenAIServer


@dataclass
class RequestRecord:
    body: Any
    status: int
    problem: str | None
    authorization: str | None
    context_length: bool = False


class ScriptedOpenAIServer:
    """The fake API; see the module docstring. Thread-safe; use as a context manager."""

    def __init__(
        self,
        *,
        require_reasoning_passback: bool = False,
        reject_reasoning_content: bool = False,
        strict_alternation: bool = False,
        max_context_chars: int | None = None,
        api_key: str | None = None,
        reject_stream_options: bool = False,
        prefix_cache: str | None = None,
    ) -> None:
        self.require_reasoning_passback = require_reasoning_passback
        self.reject_reasoning_content = reject_reasoning_content
        self.strict_alternation = strict_alternation
        self.max_context_chars = max_context_chars
        self.api_key = api_key
        self.reject_stream_options = reject_stream_options
        if prefix_cache not in (None, "deepseek", "openai"):
            raise ValueError(f"prefix_cache: deepseek, openai or None, not {prefix_cache!r}")
        self.prefix_cache = prefix_cache
        #: the prefix-cache accounting of every answered request (with ``prefix_cache``)
        self.cache = PrefixCache()
        self._script: deque[ScriptItem] = deque()
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self.log: list[RequestRecord] = []
        self._httpd: _HTTPServer | None = None
        self._thread: threading.Thread | None = None

    # -- lifecycle --------------------------------------------------------------------

    def start(self) -> ScriptedOpenAIServer:
        httpd = _HTTPServer(("127.0.0.1", 0), _Handler)
        httpd.owner = self
        self._httpd = httpd
        self._thread = threading.Thread(
            target=httpd.serve_forever,
            kwargs={"poll_interval": 0.05},
            name="fake-openai",
            daemon=True,
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        if self._httpd is not None:
            self._httpd.shutdown()
            self._httpd.server_close()
            self._httpd = None

    def __enter__(self) -> ScriptedOpenAIServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def port(self) -> int:
        assert self._httpd is not None, "server not started"
        return self._httpd.server_address[1]

    @property
    def base_url(self) -> str:
        """The ``base_url`` to give an OpenAI client (ends in ``/v1``)."""
        return f"http://127.0.0.1:{self.port}/v1"

    # -- script -----------------------------------------------------------------------

    def push(self, *items: ScriptItem) -> None:
        with self._lock:
            self._script.extend(items)

    def _next(self) -> ScriptItem | None:
        with self._lock:
            return self._script.popleft() if self._script else None

    @property
    def remaining(self) -> int:
        with self._lock:
            return len(self._script)

    def _record(
        self,
        body: Any,
        status: int,
        problem: str | None,
        headers: Any,
        context_length: bool = False,
    ) -> None:
        with self._lock:
            self.log.append(
                RequestRecord(body, status, problem, headers.get("Authorization"), context_length)
            )

    # -- inspection -------------------------------------------------------------------

    @property
    def requests(self) -> list[Any]:
        """The JSON body of every chat-completions request received, in order."""
        with self._lock:
            return [r.body for r in self.log]

    @property
    def rejections(self) -> list[str]:
        """Why requests were refused as invalid (400 from validation), in order."""
        with self._lock:
            return [
                r.problem
                for r in self.log
                if r.status == 400
                and r.problem
                and not r.context_length
                and r.problem != "script exhausted"
            ]

    @property
    def exhausted_requests(self) -> int:
        with self._lock:
            return sum(1 for r in self.log if r.problem == "script exhausted")
