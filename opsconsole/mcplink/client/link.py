"""Connections to the MCP servers of ``mcp.servers``, started on first use.

:class:`McpHub` owns one background thread with its own asyncio loop; every server's session
(the official SDK's :class:`mcp.Client`, over stdio or streamable HTTP) lives there, so a
session is opened and closed in one task whatever thread or loop the agent runs on. A server
is started when its tools are first listed (:meth:`ServerLink.list_tools`, called by the
registry as the first run starts); a server that cannot start, or that exits, is a state with
a reason (:meth:`McpHub.status`, shown by ``/mcp``), never an exception for the run.

A command gets the SDK's minimal environment (``PATH``, ``HOME`` ...) plus ``env`` and the
variables named in ``pass_env``: our API key and kubeconfig are not passed on. Its stderr goes
to a private temporary file, whose last lines explain a failure.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import tempfile
import threading
from collections.abc import Coroutine
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal, TypeVar

from opsconsole.errors import OpsConsoleError
from opsconsole.redact import redact

if TYPE_CHECKING:  # pragma: no cover
    import mcp
    from mcp import types as mcp_types

    from opsconsole.agent.tools import ToolSource
    from opsconsole.config import McpServerSettings, Settings

T = TypeVar("T")
State = Literal["not started", "starting", "ready", "failed", "exited"]
#: how many lines of a server's stderr an error quotes
STDERR_LINES = 3


class McpServerError(OpsConsoleError):
    """An MCP server could not be started, or failed while answering."""

    code = "mcp_server"


@dataclass(frozen=True)
class ServerStatus:
    """One line of ``/mcp``: a server, its state, how many of its tools the agent has."""

    name: str
    transport: str
    state: State
    tools: int = 0
    reason: str = ""


class ServerLink:
    """One configured server: its session (in the hub's loop), its state and its tools."""

    def __init__(self, name: str, config: McpServerSettings, hub: McpHub) -> None:
        self.name = name
        self.config = config
        self.hub = hub
        self.state: State = "not started"
        self.reason = ""
        self.tools_count = 0
        self._client: mcp.Client | None = None
        self._stop: asyncio.Event | None = None
        self._holder: asyncio.Task[None] | None = None
        self._stderr: Any = None

    @property
    def transport(self) -> str:
        return "http" if self.config.url else "stdio"

    def status(self) -> ServerStatus:
        return ServerStatus(self.name, self.transport, self.state, self.tools_count, self.reason)

    # -- in the agent's loop --------------------------------------------------------------

    async def list_tools(self) -> list[mcp_types.Tool]:
        """Start the server if needed and list its tools (every page)."""
        return await self.hub.submit(self._list_tools(), timeout=self.config.start_timeout)

    async def call_tool(self, tool: str, arguments: dict[str, Any]) -> mcp_types.CallToolResult:
        """Call ``tool``; raises :class:`McpServerError` when the server is gone or fails."""
        if self.state != "ready" or self._client is None:
            raise McpServerError(self._unavailable())
        return await self.hub.submit(self._call(tool, arguments), timeout=None)

    def _unavailable(self) -> str:
        why = f": {self.reason}" if self.reason else ""
        return f"MCP server {self.name!r} is {self.state}{why}"

    # -- in the hub's loop ----------------------------------------------------------------

    async def _list_tools(self) -> list[mcp_types.Tool]:
        if self.state in ("not started", "exited", "failed") and self._client is None:
            await self._start()
        client = self._client
        if client is None:
            raise McpServerError(self._unavailable())
        tools: list[mcp_types.Tool] = []
        cursor: str | None = None
        for _ in range(100):  # a paginator that never ends cannot hang the start
            try:
                page = await client.list_tools(cursor=cursor)
            except Exception as exc:  # noqa: BLE001 - any failure of the server
                raise McpServerError(self._failure("listing its tools failed", exc)) from None
            tools += page.tools
            cursor = page.next_cursor
            if not cursor:
                break
        return tools

    async def _call(self, tool: str, arguments: dict[str, Any]) -> mcp_types.CallToolResult:
        client = self._client
        if client is None:
            raise McpServerError(self._unavailable())
        holder = self._holder
        call = asyncio.ensure_future(client.call_tool(tool, arguments))
        watch = [call] + ([holder] if holder is not None else [])
        try:
            # the holder ends when the server exits: the call then fails at once
            await asyncio.wait(watch, return_when=asyncio.FIRST_COMPLETED)
        except asyncio.CancelledError:
            call.cancel()
            raise
        if not call.done():
            call.cancel()
            raise McpServerError(self._unavailable())
        try:
            return call.result()
        except Exception as exc:  # noqa: BLE001 - the server's failure, as one line
            why = self._failure(f"{tool} failed", exc)
            if _closed(exc):  # the server is gone: later calls say so at once
                self.state, self.reason = "exited", why
                if self._stop is not None:
                    self._stop.set()
            raise McpServerError(why) from None

    async def _start(self) -> None:
        self.state, self.reason = "starting", ""
        ready: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._stop = asyncio.Event()
        self._holder = asyncio.ensure_future(self._hold(ready))
        try:
            await asyncio.shield(ready)
        except asyncio.CancelledError:  # the start timed out: stop trying
            self.state = "failed"
            self.reason = self._with_stderr(f"did not start within {self.config.start_timeout:g}s")
            self._holder.cancel()
            raise

    async def _hold(self, ready: asyncio.Future[None]) -> None:
        """The session's one task: open it, mark ready, wait for stop, close it."""
        import mcp

        if self.config.command:
            self._stderr = tempfile.TemporaryFile(mode="w+", encoding="utf-8")
        try:
            async with contextlib.AsyncExitStack() as stack:
                transport = self._transport(stack)
                client = mcp.Client(
                    transport,
                    mode="legacy",  # the handshake every server speaks (2025 and later)
                    cache=None,
                    client_info=mcp.types.Implementation(name="opsconsole", version=_version()),
                )
                self._client = await stack.enter_async_context(client)
                self.state = "ready"
                if not ready.done():
                    ready.set_result(None)
                assert self._stop is not None
                await self._stop.wait()
        except asyncio.CancelledError:
            raise
        except BaseException as exc:  # noqa: BLE001 - anyio raises groups; all become the state
            if self.state != "exited":  # else a call saw it exit, and said why
                failed = self.state == "starting"
                self.state = "failed" if failed else "exited"
                self.reason = self._failure("cannot start" if failed else "exited", exc)
        else:
            if self.state == "ready":
                self.state, self.reason = "exited", "stopped"
        finally:
            self._client = None
            if self.state == "ready":
                self.state = "exited"
            if not ready.done():
                ready.set_exception(McpServerError(self._unavailable()))
            if self._stderr is not None:
                self._stderr.close()
                self._stderr = None

    def _transport(self, stack: contextlib.AsyncExitStack) -> Any:
        cfg = self.config
        if cfg.url:
            import httpx2
            from mcp.client.streamable_http import streamable_http_client

            headers = {}
            for header, var in cfg.headers_env.items():
                value = os.environ.get(var, "")
                if not value:
                    raise McpServerError(f"${var} (for the {header} header) is not set")
                headers[header] = value
            http = httpx2.AsyncClient(headers=headers, timeout=cfg.call_timeout)
            stack.push_async_callback(http.aclose)
            return streamable_http_client(cfg.url, http_client=http)
        from mcp.client.stdio import StdioServerParameters, stdio_client

        assert cfg.command is not None
        env = dict(cfg.env)
        env.update({n: os.environ[n] for n in cfg.pass_env if n in os.environ})
        params = StdioServerParameters(command=cfg.command, args=list(cfg.args), env=env)
        return stdio_client(params, errlog=self._stderr)

    def _failure(self, what: str, exc: BaseException) -> str:
        return self._with_stderr(f"{what}: {_describe(exc, self.config)}")

    def _with_stderr(self, text: str) -> str:
        tail = _tail(self._stderr)
        return redact(f"{text} (stderr: {tail})" if tail else text)

    async def _close(self) -> None:
        if self._stop is not None:
            self._stop.set()
        holder = self._holder
        if holder is not None and not holder.done():
            with contextlib.suppress(Exception, asyncio.CancelledError):
                await asyncio.wait_for(holder, timeout=10)


class McpHub:
    """The MCP servers of one runtime and the thread their sessions run in."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.links = {
            name: ServerLink(name, cfg, self) for name, cfg in settings.mcp.servers.items()
        }
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()

    def sources(self) -> list[ToolSource]:
        """One tool source per server, for :class:`~opsconsole.agent.tools.ToolRegistry`."""
        from opsconsole.mcplink.client.tools import ServerTools

        return [ServerTools(link, self.settings) for link in self.links.values()]

    def status(self) -> list[ServerStatus]:
        return [link.status() for link in self.links.values()]

    def _ensure_loop(self) -> asyncio.AbstractEventLoop:
        with self._lock:
            if self._loop is None:
                loop = asyncio.new_event_loop()
                thread = threading.Thread(
                    target=loop.run_forever, name="opsconsole-mcp", daemon=True
                )
                thread.start()
                self._loop, self._thread = loop, thread
            return self._loop

    async def submit(self, coro: Coroutine[Any, Any, T], *, timeout: float | None) -> T:
        """Run ``coro`` in the hub's loop and wait for it from the caller's loop (a cancel or
        ``timeout`` cancels it there too)."""
        loop = self._ensure_loop()

        async def bounded() -> T:
            if timeout is None:
                return await coro
            try:
                return await asyncio.wait_for(coro, timeout)
            except TimeoutError:
                raise McpServerError(f"no answer within {timeout:g}s") from None

        future = asyncio.run_coroutine_threadsafe(bounded(), loop)
        return await asyncio.wrap_future(future)

    def close(self) -> None:
        """Stop every server (each gets 10 s to exit) and the thread."""
        loop, thread = self._loop, self._thread
        if loop is None or thread is None:
            return

        async def close_all() -> None:
            await asyncio.gather(*(link._close() for link in self.links.values()))

        with contextlib.suppress(Exception):
            asyncio.run_coroutine_threadsafe(close_all(), loop).result(timeout=30)
        loop.call_soon_threadsafe(loop.stop)
        thread.join(timeout=10)
        self._loop = self._thread = None


def _describe(exc: BaseException, config: McpServerSettings) -> str:
    """One line for a failure (the innermost of an exception group)."""
    while isinstance(exc, BaseExceptionGroup) and exc.exceptions:
        exc = exc.exceptions[0]
    if isinstance(exc, FileNotFoundError) and config.command:
        return f"command not found: {config.command!r}"
    if isinstance(exc, OpsConsoleError):
        return exc.message
    text = str(exc).strip().splitlines()
    first = text[0][:300] if text else ""
    if isinstance(exc, PermissionError) and config.command:
        return f"cannot run {config.command!r}: permission denied"
    if _closed(exc):
        return "the connection closed (the server exited)"
    name = type(exc).__name__
    return f"{name}: {first}" if first else name


def _closed(exc: BaseException) -> bool:
    """Whether ``exc`` says the connection to the server is gone."""
    while isinstance(exc, BaseExceptionGroup) and exc.exceptions:
        exc = exc.exceptions[0]
    name = type(exc).__name__
    text = str(exc).lower()
    return name in ("ClosedResourceError", "EndOfStream", "BrokenResourceError") or (
        name == "MCPError" and "closed" in text
    )


def _tail(stderr: Any) -> str:
    if stderr is None:
        return ""
    try:
        stderr.flush()
        stderr.seek(0)
        lines = [line.strip() for line in stderr.read()[-4000:].splitlines() if line.strip()]
    except (OSError, ValueError):
        return ""
    return " | ".join(lines[-STDERR_LINES:])[:600]


def _version() -> str:
    from opsconsole import __version__

    return __version__
