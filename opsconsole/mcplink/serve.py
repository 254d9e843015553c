"""``opsconsole mcp``: serve the runtime's tools over stdio (default) or streamable HTTP.

stdio: the client starts ``opsconsole mcp`` and speaks MCP on its stdin and stdout; this
process writes nothing else there (its notes go to stderr).

``--listen HOST:PORT`` (a loopback address only; port 0 picks a free one): streamable HTTP at
``http://HOST:PORT/mcp``. A random bearer token is made at start and printed once to stderr
with the URL; a request without ``Authorization: Bearer TOKEN`` gets 401 before it reaches
the MCP layer. The SDK's DNS-rebinding protection (Host and Origin checks) stays on.
"""

from __future__ import annotations

import argparse
import contextlib
import hmac
import ipaddress
import secrets
import socket
import sys
from typing import TYPE_CHECKING, Any

from opsconsole.errors import UsageError

if TYPE_CHECKING:  # pragma: no cover
    from opsconsole.config import Settings
    from opsconsole.mcplink.server import ToolServer

MCP_PATH = "/mcp"


def parse_listen(text: str) -> tuple[str, int]:
    """``HOST:PORT`` (``[::1]:PORT`` for IPv6) on a loopback address, or UsageError."""
    host, sep, port_text = text.rpartition(":")
    host = host.strip("[]")
    if not sep or not host or not port_text.isdigit() or int(port_text) > 65535:
        raise UsageError(
            f"--listen {text!r}: expected HOST:PORT, e.g. 127.0.0.1:8765 (port 0: a free one)"
        )
    loopback = host == "localhost"
    with contextlib.suppress(ValueError):
        loopback = loopback or ipaddress.ip_address(host).is_loopback
    if not loopback:
        raise UsageError(
            f"--listen {text!r}: opsconsole mcp listens on a loopback address only "
            "(127.0.0.1, ::1 or localhost)",
            hint="reach it from elsewhere through an SSH tunnel or a TLS proxy of your own",
        )
    return host, int(port_text)


def run(args: argparse.Namespace, settings: Settings) -> int:
    """Entry point of ``opsconsole mcp``; returns the exit code."""
    import anyio

    from opsconsole.errors import NoClusterConfigured
    from opsconsole.mcplink.server import ToolServer
    from opsconsole.runtime import RuntimeOptions, build_runtime

    listen = parse_listen(args.listen) if getattr(args, "listen", None) else None
    options = RuntimeOptions(
        demo=bool(getattr(args, "demo", False)),
        pods=getattr(args, "pods", None),
        kubeconfig=getattr(args, "kubeconfig", None),
        context=getattr(args, "context", None),
        namespace=getattr(args, "namespace", None),
        offline=True,  # no model: the client's agent is the model
        write=bool(getattr(args, "write", False)),
        strict=True,
    )
    try:
        rt = build_runtime(settings, options)
    except NoClusterConfigured as exc:
        raise UsageError(exc.message, hint=exc.hint) from None
    with contextlib.closing(rt):
        for note in rt.notes:
            if note.code not in ("offline", "no-api-key"):  # no model is used here
                _say(note.text)
        tools = ToolServer(rt)
        mode = "write mode (each change confirmed at the client)" if rt.write_mode else "read-only"
        _say(f"serving {len(tools.offered())} tools on context {rt.context}, {mode}")
        try:
            if listen is None:
                anyio.run(_stdio, tools)
            else:
                anyio.run(_http, tools, *listen)
        except KeyboardInterrupt:
            pass
        finally:
            tools.close()
    return 0


async def _stdio(tools: ToolServer) -> None:
    from mcp.server.stdio import stdio_server

    server = tools.build()
    async with stdio_server() as (read, write):
        await server.run(read, write, server.create_initialization_options())


async def _http(tools: ToolServer, host: str, port: int) -> None:
    import uvicorn

    token = secrets.token_urlsafe(32)
    app = BearerGate(tools.build().streamable_http_app(host=host), token)
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError as exc:
        sock.close()
        raise UsageError(f"--listen {host}:{port}: cannot listen there: {exc.strerror}") from None
    bound = sock.getsockname()[1]
    shown = f"[{host}]" if ":" in host else host
    _say(f"listening on http://{shown}:{bound}{MCP_PATH}")
    _say(f"bearer token (shown once, send it as 'Authorization: Bearer TOKEN'): {token}")
    config = uvicorn.Config(app, log_level="warning", access_log=False, lifespan="on")
    await uvicorn.Server(config).serve(sockets=[sock])


class BearerGate:
    """ASGI middleware: HTTP requests need ``Authorization: Bearer <token>`` (else 401)."""

    def __init__(self, app: Any, token: str) -> None:
        self.app = app
        self._expected = f"Bearer {token}".encode()

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope.get("type") == "http" and not self._authorized(scope):
            await send(
                {
                    "type": "http.response.start",
                    "status": 401,
                    "headers": [
                        (b"content-type", b"application/json"),
                        (b"www-authenticate", b'Bearer realm="opsconsole mcp"'),
                    ],
                }
            )
            body = b'{"error": "unauthorized: send the bearer token opsconsole mcp printed"}'
            await send({"type": "http.response.body", "body": body})
            return
        await self.app(scope, receive, send)

    def _authorized(self, scope: dict[str, Any]) -> bool:
        for name, value in scope.get("headers") or []:
            if name.lower() == b"authorization":
                return hmac.compare_digest(bytes(value), self._expected)
        return False


def _say(text: str) -> None:
    from opsconsole.termsafe import printable

    print(f"opsconsole mcp: {printable(text)}", file=sys.stderr, flush=True)
