"""``opsconsole serve-alerts --listen 127.0.0.1:PORT``: Alertmanager's webhook receiver; one
headless investigation per new alert group, each recorded as its own session.

Point an Alertmanager ``webhook_configs`` entry at ``http://HOST:PORT/alerts``. Each POST is
Alertmanager's webhook payload (version 4); a body that is not one is answered 400 and starts
nothing. A firing group whose ``groupKey`` is new is queued (202) and investigated by one of
``--concurrency`` workers on the runtime ``investigate`` uses; a later notification of a group
still queued is merged into it, one of a group already investigated is a duplicate (200): one
investigation per group until Alertmanager says it resolved. The queue holds ``--queue``
groups; when full a new group is answered 503 (Alertmanager sends it again), so none is lost.
``GET /status`` counts the groups by state. Headless runs never execute a change.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import socket
import sys
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from opsconsole.errors import UsageError
from opsconsole.termsafe import printable

if TYPE_CHECKING:  # pragma: no cover
    from starlette.requests import Request
    from starlette.responses import Response

    from opsconsole.config import Settings
    from opsconsole.monitoring.alerts import AlertGroup
    from opsconsole.runtime import Runtime

WEBHOOK_PATH = "/alerts"
#: Alertmanager's payloads are a few kB a group; anything this large is not one
MAX_BODY = 4 * 1024 * 1024


@dataclass
class _Group:
    group: AlertGroup
    state: str = "queued"  # queued | running | done
    outcome: str = ""
    session: str | None = None


class AlertInbox:
    """The groups received, the bounded queue of those to investigate, and the workers."""

    def __init__(self, rt: Runtime, *, concurrency: int, queue: int, as_json: bool) -> None:
        self.rt = rt
        self.concurrency = concurrency
        self.queue: asyncio.Queue[str] = asyncio.Queue(maxsize=queue)
        self.groups: dict[str, _Group] = {}
        self.as_json = as_json
        self.counts = {"queued": 0, "merged": 0, "duplicate": 0, "refused": 0, "rejected": 0}

    def say(self, kind: str, human: str, **fields: Any) -> None:
        """One line: ``human`` as text, or ``fields`` as JSON (``--json``)."""
        if self.as_json:
            line = json.dumps({"type": kind, **fields}, ensure_ascii=False, default=str)
        else:
            line = printable(human)
        print(line, file=sys.stdout, flush=True)

    # -- the webhook -------------------------------------------------------------------

    async def receive(self, request: Request) -> Response:
        from starlette.responses import JSONResponse

        from opsconsole.monitoring.alerts import AlertGroup, WebhookError

        body = await request.body()
        try:
            if len(body) > MAX_BODY:
                raise WebhookError(f"the body is {len(body):,} bytes (at most {MAX_BODY:,})")
            try:
                payload = json.loads(body)
            except ValueError as exc:
                raise WebhookError(f"the body is not JSON ({exc})") from None
            group = AlertGroup.from_webhook(payload)
        except WebhookError as exc:
            self.counts["rejected"] += 1
            return JSONResponse({"status": "rejected", "error": exc.message}, status_code=400)
        known = self.groups.get(group.key)
        if group.status == "resolved" or not group.alerts:
            if known is not None and known.state == "done":
                del self.groups[group.key]  # a later firing is investigated again
            return JSONResponse({"status": "resolved"})
        if known is not None:
            if known.state == "queued":
                known.group = known.group.merged(group)
                self.counts["merged"] += 1
                return JSONResponse({"status": "merged"})
            self.counts["duplicate"] += 1
            return JSONResponse({"status": "duplicate", "state": known.state})
        try:
            self.queue.put_nowait(group.key)
        except asyncio.QueueFull:
            self.counts["refused"] += 1
            return JSONResponse(
                {"status": "busy", "error": f"{self.queue.maxsize} groups already queued"},
                status_code=503,
                headers={"Retry-After": "5"},
            )
        self.groups[group.key] = _Group(group)
        self.counts["queued"] += 1
        first = group.alerts[0]
        self.say(
            "queued",
            f"queued: {first.name} on {first.target or '-'} ({len(group.alerts)} alerts)",
            group=group.key,
            alert=first.name,
            alerts=len(group.alerts),
        )
        return JSONResponse({"status": "queued"}, status_code=202)

    async def status(self, request: Request) -> Response:
        from starlette.responses import JSONResponse

        states = {"queued": 0, "running": 0, "done": 0}
        for g in self.groups.values():
            states[g.state] += 1
        return JSONResponse({"groups": states, "requests": self.counts})

    # -- the workers --------------------------------------------------------------------

    async def work(self) -> None:
        from opsconsole.investigate import investigate_one

        while True:
            key = await self.queue.get()
            entry = self.groups[key]
            entry.state = "running"
            first = entry.group.alerts[0]
            self.say(
                "investigating",
                f"investigating: {first.name} on {first.target or '-'}",
                group=key,
                alert=first.name,
            )
            try:
                done = await investigate_one(self.rt, entry.group.task(), first.namespace)
                entry.outcome, entry.session = done.outcome, done.session
            except Exception as exc:  # noqa: BLE001 - one group's failure stops no other
                entry.outcome = f"failed: {exc}"
            entry.state = "done"
            self.say(
                "investigated",
                f"{entry.outcome}: {first.name} on {first.target or '-'}"
                + (f" (recorded as {entry.session})" if entry.session else ""),
                group=key,
                alert=first.name,
                outcome=entry.outcome,
                session=entry.session,
            )
            self.queue.task_done()

    @contextlib.asynccontextmanager
    async def lifespan(self, app: Any) -> AsyncIterator[None]:
        workers = [asyncio.create_task(self.work()) for _ in range(self.concurrency)]
        try:
            yield
        finally:
            for w in workers:
                w.cancel()
            await asyncio.gather(*workers, return_exceptions=True)

    def app(self) -> Any:
        from starlette.applications import Starlette
        from starlette.routing import Route

        return Starlette(
            routes=[
                Route(WEBHOOK_PATH, self.receive, methods=["POST"]),
                Route("/", self.receive, methods=["POST"]),
                Route("/status", self.status, methods=["GET"]),
            ],
            lifespan=self.lifespan,
        )


def run(args: argparse.Namespace, settings: Settings) -> int:
    """Entry point of ``opsconsole serve-alerts``; returns the exit code."""
    from opsconsole.errors import NoClusterConfigured
    from opsconsole.mcplink.serve import parse_listen
    from opsconsole.runtime import RuntimeOptions, build_runtime

    host, port = parse_listen(str(args.listen), "opsconsole serve-alerts")
    concurrency = int(getattr(args, "concurrency", 2))
    queue = int(getattr(args, "queue", 100))
    if not 1 <= concurrency <= 32:
        raise UsageError(f"--concurrency {concurrency}: between 1 and 32")
    if not 1 <= queue <= 100_000:
        raise UsageError(f"--queue {queue}: between 1 and 100000")
    sock = _bind(host, port)
    options = RuntimeOptions(
        demo=bool(getattr(args, "demo", False)),
        kubeconfig=getattr(args, "kubeconfig", None),
        context=getattr(args, "context", None),
        namespace=getattr(args, "namespace", None),
        offline=bool(getattr(args, "offline", False)),
        strict=True,
        record=False,  # each investigation opens its own session
    )
    try:
        rt = build_runtime(settings, options)
    except NoClusterConfigured as exc:
        sock.close()
        raise UsageError(exc.message, hint=exc.hint) from None
    inbox = AlertInbox(
        rt, concurrency=concurrency, queue=queue, as_json=bool(getattr(args, "json", False))
    )
    with contextlib.closing(rt):
        for note in rt.notes:
            inbox.say("note", f"Note: {note.text}", text=note.text)
        bound = sock.getsockname()[1]
        shown = f"[{host}]" if ":" in host else host
        url = f"http://{shown}:{bound}{WEBHOOK_PATH}"
        inbox.say("listening", f"listening for Alertmanager webhooks on {url}", url=url)
        with contextlib.suppress(KeyboardInterrupt):
            asyncio.run(_serve(inbox, sock))
    return 0


def _bind(host: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    # accepted connections inherit it: a kept-alive connection's next answer is not held
    # back ~40 ms by Nagle's algorithm waiting for the client's delayed ACK
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    try:
        sock.bind((host, port))
        # listening from here on: a webhook sent as soon as "listening" is printed waits in
        # the backlog until the server accepts it, instead of being refused
        sock.listen(2048)
    except OSError as exc:
        sock.close()
        raise UsageError(f"--listen {host}:{port}: cannot listen there: {exc.strerror}") from None
    return sock


async def _serve(inbox: AlertInbox, sock: socket.socket) -> None:
    import uvicorn

    config = uvicorn.Config(inbox.app(), log_level="warning", access_log=False, lifespan="on")
    await uvicorn.Server(config).serve(sockets=[sock])
