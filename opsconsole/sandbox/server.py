"""The HTTP side of the sandbox: a stdlib ThreadingHTTPServer speaking HTTP/1.1 with keep-alive,
Content-Length responses sent with one ``sendall``, and chunked streams for watches and
``follow`` logs. See the package docstring for :class:`SandboxServer` and :class:`Faults`."""

from __future__ import annotations

import contextlib
import errno
import json
import os
import select
import socket
import threading
import time
from email.utils import formatdate
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import yaml

from opsconsole.errors import OpsConsoleError

from . import resources as R
from . import tables
from .api import Api, ApiError, LogStream, Response, WatchStream, status_obj
from .cluster import Cluster
from .logs import render
from .scenario import build_cluster, load_scenario
from .store import DELETED, dumps
from .wire.protobuf import WATCH_MEDIA_TYPE
from .wire.protobuf import schema as proto_schema

CONTEXT = "opsconsole-sandbox"
DEFAULT_TOKEN = "opsconsole-sandbox-not-a-secret"  # a dummy bearer token; the sandbox is local
REASONS = {
    200: "OK",
    201: "Created",
    400: "Bad Request",
    401: "Unauthorized",
    403: "Forbidden",
    404: "Not Found",
    405: "Method Not Allowed",
    406: "Not Acceptable",
    409: "Conflict",
    410: "Gone",
    415: "Unsupported Media Type",
    422: "Unprocessable Entity",
    500: "Internal Server Error",
    502: "Bad Gateway",
    503: "Service Unavailable",
}


class PortInUse(OpsConsoleError):
    exit_code = 1


class Faults:
    """Fault injection for tests (see the package docstring)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._forbidden: list[tuple[str, str | None, frozenset[str] | None]] = []
        self._tokens: set[str] | None = None
        self.unauthorized = False
        self.hang = False
        self.latency = 0.0
        self.gone_as_http = False
        self.user = "system:serviceaccount:default:opsconsole-sandbox"
        self.requests = 0

    def forbid(
        self, resource: str, namespace: str | None = None, verbs: list[str] | None = None
    ) -> None:
        with self._lock:
            self._forbidden.append((resource, namespace, frozenset(verbs) if verbs else None))

    def accept_only_token(self, token: str | None) -> None:
        """Answer 401 to any request whose bearer token is not ``token`` (None: accept all)."""
        with self._lock:
            self._tokens = None if token is None else {token}

    def clear(self) -> None:
        with self._lock:
            self._forbidden.clear()
            self._tokens = None
            self.unauthorized = False
            self.hang = False
            self.latency = 0.0
            self.gone_as_http = False

    def authorized(self, headers: Any) -> bool:
        if self.unauthorized:
            return False
        tokens = self._tokens
        if tokens is None:
            return True
        auth = headers.get("Authorization", "") or ""
        return auth.startswith("Bearer ") and auth[7:].strip() in tokens

    def check(
        self, verb: str, res: R.Resource, ns: str | None, name: str | None, sub: str | None
    ) -> None:
        resource = f"{res.plural}/{sub}" if sub else res.plural
        with self._lock:
            rules = list(self._forbidden)
        for r, rns, verbs in rules:
            if r not in (resource, "*") or (rns is not None and rns != ns):
                continue
            if verbs is not None and verb not in verbs:
                continue
            qualified = f"{res.plural}.{res.group}" if res.group else res.plural
            subject = f'{qualified} "{name}"' if name else qualified
            where = f'in the namespace "{ns}"' if ns else "at the cluster scope"
            msg = (
                f'{subject} is forbidden: User "{self.user}" cannot {verb} resource '
                f'"{resource}" in API group "{res.group}" {where}'
            )
            details: dict[str, Any] = {"kind": res.plural}
            if name:
                details["name"] = name
            if res.group:
                details["group"] = res.group
            raise ApiError(403, "Forbidden", msg, details)


class _HTTPServer(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 64

    def __init__(self, addr: tuple[str, int], api: Api, faults: Faults) -> None:
        self.api = api
        self.faults = faults
        self.stopping = threading.Event()
        self.conns: set[socket.socket] = set()
        self.conns_lock = threading.Lock()
        if ":" in addr[0]:
            self.address_family = socket.AF_INET6
        super().__init__(addr, _Handler)

    def process_request(self, request: Any, client_address: Any) -> None:
        with self.conns_lock:
            self.conns.add(request)
        super().process_request(request, client_address)

    def shutdown_request(self, request: Any) -> None:
        with self.conns_lock:
            self.conns.discard(request)
        super().shutdown_request(request)

    def close_all(self) -> None:
        with self.conns_lock:
            conns = list(self.conns)
        for s in conns:
            with contextlib.suppress(OSError):
                s.shutdown(socket.SHUT_RDWR)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True
    server: _HTTPServer

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - quiet
        pass

    # --- plumbing ---------------------------------------------------------------------
    def _head(
        self, code: int, ctype: str, length: int | None, extra: dict[str, str] | None = None
    ) -> bytes:
        lines = [
            f"HTTP/1.1 {code} {REASONS.get(code, 'Unknown')}",
            f"Date: {formatdate(usegmt=True)}",
            f"Content-Type: {ctype}",
            f"Audit-Id: {os.urandom(8).hex()}",
        ]
        if "Cache-Control" not in (extra or {}):
            lines.append("Cache-Control: no-cache, private")
        if length is None:
            lines.append("Transfer-Encoding: chunked")
        else:
            lines.append(f"Content-Length: {length}")
        if self.close_connection:
            lines.append("Connection: close")
        for k, v in (extra or {}).items():
            lines.append(f"{k}: {v}")
        return ("\r\n".join(lines) + "\r\n\r\n").encode()

    def _send(self, resp: Response) -> None:
        body = b"" if self.command == "HEAD" else resp.body
        head = self._head(resp.code, resp.content_type, len(resp.body), resp.headers)
        self.connection.sendall(head + body)

    def _chunk(self, data: bytes) -> None:
        if data:
            self.connection.sendall(f"{len(data):x}\r\n".encode() + data + b"\r\n")

    def _client_gone(self) -> bool:
        try:
            r, _, _ = select.select([self.connection], [], [], 0)
            if not r:
                return False
            return self.connection.recv(1, socket.MSG_PEEK) == b""
        except OSError:
            return True

    def _dispatch(self) -> None:
        srv = self.server
        faults = srv.faults
        with faults._lock:
            faults.requests += 1
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        if faults.hang:
            while faults.hang and not srv.stopping.wait(0.05):
                pass
            if srv.stopping.is_set():
                self.close_connection = True
                return
        if faults.latency:
            srv.stopping.wait(faults.latency)
        if not faults.authorized(self.headers):
            self._send(Response(401, dumps(status_obj(401, "Unauthorized", "Unauthorized"))))
            return
        url = urlsplit(self.path)
        query = dict(parse_qsl(url.query, keep_blank_values=True))
        try:
            out = srv.api.handle(self.command, url.path, query, self.headers, body)
        except Exception as exc:  # a bug: answer like an apiserver would, keep serving
            out = Response(
                500, dumps(status_obj(500, "InternalError", f"Internal error occurred: {exc!r}"))
            )
        if isinstance(out, Response):
            self._send(out)
        elif isinstance(out, WatchStream):
            self._watch(out)
        else:
            self._follow(out)

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = _dispatch

    # --- streams ----------------------------------------------------------------------
    def _watch(self, ws: WatchStream) -> None:
        srv = self.server
        store = srv.api.c.store
        ctype = WATCH_MEDIA_TYPE if ws.protobuf else "application/json"
        self.connection.sendall(self._head(200, ctype, None))
        first = True
        try:
            if ws.error is not None:
                self._chunk(self._event(ws, "ERROR", ws.error, False))
            w = ws.watcher
            deadline = time.monotonic() + ws.timeout if ws.timeout else None
            while w is not None and not srv.stopping.is_set() and not w.closed:
                w.wake.clear()
                batch = []
                with store.lock:
                    while w.queue:
                        batch.append(w.queue.popleft())
                if batch:
                    out = []
                    for etype, obj in batch:
                        out.append(self._event(ws, etype, obj, first))
                        first = first and not ws.table
                    self._chunk(b"".join(out))
                wait = 1.0
                if deadline is not None:
                    wait = min(wait, deadline - time.monotonic())
                    if wait <= 0:
                        break
                if not w.wake.wait(wait) and self._client_gone():
                    self.close_connection = True
                    return
        except OSError:
            self.close_connection = True
            return
        finally:
            if ws.watcher is not None:
                store.unwatch(ws.watcher)
        self._end_stream()

    def _event(self, ws: WatchStream, etype: str, obj: Any, first: bool) -> bytes:
        """One watch event: a JSON line, or a length-prefixed protobuf WatchEvent."""
        store = self.server.api.c.store
        if ws.protobuf:
            if etype in ("ERROR", "BOOKMARK"):
                obj = dict(
                    obj, kind=obj.get("kind", "Status"), apiVersion=obj.get("apiVersion", "v1")
                )
            return proto_schema().encode_watch_event(etype, obj) or b""
        if etype in ("ERROR", "BOOKMARK"):
            return dumps({"type": etype, "object": obj}) + b"\n"
        if ws.table:
            rv = obj["metadata"].get("resourceVersion", "")
            t = tables.table(
                ws.rkey,
                [obj],
                ws.include,
                {"resourceVersion": rv},
                headers=first,
                printer=ws.printer,
            )
            return dumps({"type": etype, "object": t}) + b"\n"
        data = dumps(obj) if etype == DELETED else store.obj_bytes(ws.rkey, obj)
        return b'{"type":"' + etype.encode() + b'","object":' + data + b"}\n"

    def _end_stream(self) -> None:
        if self.server.stopping.is_set():
            self.close_connection = True
            return
        try:
            self.connection.sendall(b"0\r\n\r\n")
        except OSError:
            self.close_connection = True

    def _follow(self, ls: LogStream) -> None:
        srv = self.server
        cluster = srv.api.c
        self.connection.sendall(self._head(200, "text/plain", None))
        sent = 0
        try:

            def emit(lines: list[str]) -> bool:
                nonlocal sent
                data = "".join(lines).encode()
                if ls.limit_bytes is not None:
                    data = data[: max(ls.limit_bytes - sent, 0)]
                self._chunk(data)
                sent += len(data)
                return ls.limit_bytes is None or sent < ls.limit_bytes

            if not emit(ls.initial):
                return
            last = ls.last_t
            rt = cluster.pod_rt(ls.ns, ls.pod)
            while not srv.stopping.is_set():
                due = ls.source.next_due(ls.instance, last)
                now = time.time()
                if ls.instance.end is not None and ls.instance.end <= now:
                    with cluster.lock:
                        lines = ls.source.collect(ls.instance, last, now, crash=False)
                        if not ls.crash_sent:  # (the initial part holds them if it had ended)
                            lines += ls.source.crash_lines(ls.instance)
                    emit(render(lines, timestamps=ls.timestamps))
                    break
                wait = 1.0 if due is None else min(max(due - now, 0.0), 1.0)
                if srv.stopping.wait(wait):
                    break
                if cluster.pod_rt(ls.ns, ls.pod) is not rt:
                    break
                now = time.time()
                with cluster.lock:
                    lines = ls.source.collect(ls.instance, last, now, crash=False)
                if lines:
                    last = lines[-1][0]
                    if not emit(render(lines, timestamps=ls.timestamps)):
                        break
                elif self._client_gone():
                    self.close_connection = True
                    return
        except OSError:
            self.close_connection = True
            return
        self._end_stream()


class SandboxServer:
    """A Kubernetes-API-compatible server on loopback, backed by a simulated cluster."""

    def __init__(
        self,
        scenario: str = "demo",
        pods: int | None = None,
        host: str = "127.0.0.1",
        port: int = 0,
        speed: float = 1.0,
        *,
        namespaces: int = 1,
        history_limit: int = 10000,
        seed: int = 7,
        data: dict[str, Any] | None = None,
    ) -> None:
        if data is not None:  # scenario data in the format of scenarios/*.yaml
            self.scenario = str(data.get("name") or "custom")
        elif pods is not None:
            from .generate import generated_scenario

            data = generated_scenario(pods, namespaces=namespaces, seed=seed)
            self.scenario = "generated"
        else:
            data = load_scenario(scenario)
            self.scenario = scenario
        self.host, self.port = host, port
        self.faults = Faults()
        self.cluster = Cluster(speed=speed, history_limit=history_limit)
        build_cluster(self.cluster, data)
        self.api = Api(self.cluster, self.faults)
        self._httpd: _HTTPServer | None = None
        self._thread: threading.Thread | None = None
        self._stopped = False
        self._lock = threading.Lock()
        #: set once every pod's JSON is cached (large clusters warm up in the background)
        self.warmed = threading.Event()

    # --- lifecycle ------------------------------------------------------------------------
    def start(self) -> SandboxServer:
        with self._lock:
            if self._httpd is not None:
                return self
            try:
                httpd = _HTTPServer((self.host, self.port), self.api, self.faults)
            except OSError as e:
                if e.errno == errno.EADDRINUSE:
                    raise PortInUse(
                        f"port {self.port} on {self.host} is already in use",
                        hint="choose another with --port, or --port 0 for a free one",
                    ) from None
                raise PortInUse(f"cannot listen on {self.host}:{self.port}: {e.strerror}") from None
            self._httpd = httpd
            self.port = httpd.server_address[1]
            self.api.address = f"{self.host}:{self.port}"
            self._thread = threading.Thread(
                target=httpd.serve_forever,
                kwargs={"poll_interval": 0.25},
                name="sandbox-http",
                daemon=True,
            )
            self._thread.start()
            self.cluster.start()
            if len(self.cluster.store.objects.get("pods", {})) > 500:
                threading.Thread(target=self._warm, name="sandbox-warm", daemon=True).start()
            else:
                self.warmed.set()
            return self

    def _warm(self) -> None:
        """Serialize every pod once in the background so the first big list is fast."""
        store = self.cluster.store
        for obj in list(store.objects.get("pods", {}).values()):
            if self._stopped:
                break
            store.obj_bytes("pods", obj)
        self.warmed.set()

    def stop(self) -> None:
        with self._lock:
            if self._stopped:
                return
            self._stopped = True
            httpd = self._httpd
        self.cluster.stop()
        if httpd is None:
            return
        httpd.stopping.set()
        self.cluster.store.close_watchers()
        httpd.shutdown()
        httpd.server_close()
        httpd.close_all()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def __enter__(self) -> SandboxServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # --- facts ------------------------------------------------------------------------------
    @property
    def url(self) -> str:
        if self._httpd is None:
            raise RuntimeError("the sandbox is not started")
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}"

    @property
    def store(self) -> Any:
        return self.cluster.store

    def add_services(self, services: list[tuple[str, str, int, dict[str, str]]]) -> None:
        """Create selector-less Services ``(namespace, name, port, labels)`` (kept if they
        exist), as a client would: through the API."""
        for ns, name, port, labels in services:
            body = {
                "apiVersion": "v1",
                "kind": "Service",
                "metadata": {"name": name, "namespace": ns, "labels": labels},
                "spec": {"ports": [{"name": "web", "port": port, "targetPort": port}]},
            }
            self.api.handle(
                "POST",
                f"/api/v1/namespaces/{ns}/services",
                {},
                {"Content-Type": "application/json"},
                json.dumps(body).encode(),
            )

    def compact(self) -> None:
        """Forget watch history: any resourceVersion seen so far becomes too old (410)."""
        self.cluster.store.compact()

    def write_kubeconfig(self, path: str | os.PathLike[str], token: str | None = None) -> Path:
        p = Path(path)
        p.parent.mkdir(parents=True, exist_ok=True)
        cfg = {
            "apiVersion": "v1",
            "kind": "Config",
            "clusters": [{"name": CONTEXT, "cluster": {"server": self.url}}],
            "users": [{"name": CONTEXT, "user": {"token": token or DEFAULT_TOKEN}}],
            "contexts": [
                {
                    "name": CONTEXT,
                    "context": {"cluster": CONTEXT, "user": CONTEXT, "namespace": "default"},
                }
            ],
            "current-context": CONTEXT,
            "preferences": {},
        }
        tmp = p.with_name(p.name + ".tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as f:
            yaml.safe_dump(cfg, f, sort_keys=False)
        os.chmod(tmp, 0o600)
        os.replace(tmp, p)
        return p
