"""``opsconsole investigate --alert NAME | --all-firing``: one headless investigation per
firing alert, each recorded as its own session.

The alerts come from Alertmanager (API v2): ``--alertmanager URL``, else
``monitoring.alertmanager.url``, else, with ``--demo``, the Alertmanager started beside the
sandbox (whose alerts are waited for: ``--wait``). Each alert becomes a request naming the
alert, its target, summary, description and labels (:meth:`FiringAlert.task`); the agent
works it in the alert's namespace on the runtime ``ask`` uses (the offline planner without an
API key), printing every step as ``ask`` does (``--json``: one event per line, and one
``investigation`` line per alert with its session file and outcome). Headless runs never
execute a change. Exit codes: 0 when every investigation answered, 1 when one failed, 2 on bad
usage (no Alertmanager, no such alert firing).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import re
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from opsconsole.ask import Printer, _use_color
from opsconsole.errors import OpsConsoleError, UsageError
from opsconsole.termsafe import printable

if TYPE_CHECKING:  # pragma: no cover
    from opsconsole.agent.events import AgentEvent
    from opsconsole.config import Settings
    from opsconsole.monitoring.alerts import FiringAlert
    from opsconsole.runtime import Runtime

#: an alert name as Prometheus writes one (a metric-name-like label value)
ALERT_NAME = re.compile(r"[a-zA-Z_:][a-zA-Z0-9_:]{0,199}")


class NoAlertFiring(UsageError):
    code = "not_found"


def run(args: argparse.Namespace, settings: Settings) -> int:
    """Entry point of ``opsconsole investigate``; returns the process exit code."""
    printer = Printer(
        sys.stdout,
        sys.stderr,
        as_json=bool(getattr(args, "json", False)),
        color=_use_color(sys.stdout),
    )
    printer.secrets = [settings.model.api_key() or ""]
    try:
        return asyncio.run(_investigate(args, settings, printer))
    except KeyboardInterrupt:
        return 130
    except OpsConsoleError as exc:
        print(printable(printer.mask(f"error: {exc}")), file=sys.stderr)
        return exc.exit_code


def _check_args(args: argparse.Namespace) -> str | None:
    name = getattr(args, "alert", None)
    if bool(name) == bool(getattr(args, "all_firing", False)):
        raise UsageError("investigate: give either --alert NAME or --all-firing")
    if name and not ALERT_NAME.fullmatch(name):
        raise UsageError(
            f"investigate: {name!r} is not an alert name (letters, digits, '_' and ':', "
            "like KubePodCrashLooping)"
        )
    if getattr(args, "pods", None):
        raise UsageError("investigate: --pods has no alerts; use --demo for the demo's alerts")
    return str(name) if name else None


async def _investigate(args: argparse.Namespace, settings: Settings, printer: Printer) -> int:
    from opsconsole.errors import NoClusterConfigured
    from opsconsole.runtime import RuntimeOptions, build_runtime

    name = _check_args(args)
    url = getattr(args, "alertmanager", None)
    if url:
        if not re.match(r"https?://[^\s/]+", url):
            raise UsageError(f"--alertmanager {url!r}: expected an http(s):// URL")
        am = settings.monitoring.alertmanager.replace(url=url)
        settings = settings.replace(monitoring=settings.monitoring.replace(alertmanager=am))
    demo = bool(getattr(args, "demo", False))
    options = RuntimeOptions(
        demo=demo,
        kubeconfig=getattr(args, "kubeconfig", None),
        context=getattr(args, "context", None),
        namespace=getattr(args, "namespace", None),
        offline=bool(getattr(args, "offline", False)),
        strict=True,
        record=False,  # each investigation opens its own session (Runtime.open_session)
        monitoring=demo and not url and bool(getattr(args, "monitoring", False)),
    )
    try:
        rt = build_runtime(settings, options)
    except NoClusterConfigured as exc:
        raise UsageError(exc.message, hint=exc.hint) from None
    with contextlib.closing(rt):
        for note in rt.notes:
            printer.note(note.text, note.level)
        alerts = _alerts(rt, name, float(getattr(args, "wait", None) or (120 if demo else 0)))
        limit = int(getattr(args, "limit", 20) or 20)
        if len(alerts) > limit:
            printer.note(f"{len(alerts)} alerts firing: investigating the first {limit} (--limit)")
            alerts = alerts[:limit]
        failed = 0
        for i, alert in enumerate(alerts, 1):
            ok = await _one(rt, alert, printer, i, len(alerts))
            failed += not ok
        return 1 if failed else 0


def _alerts(rt: Runtime, name: str | None, wait: float) -> list[FiringAlert]:
    """The firing alerts to investigate, waiting up to ``wait`` seconds for them."""
    from opsconsole.monitoring.alerts import firing_alerts

    am = rt.monitoring.alertmanager if rt.monitoring is not None else None
    if am is None:
        raise UsageError(
            "investigate: no Alertmanager to read alerts from",
            hint="give --alertmanager URL, set monitoring.alertmanager.url, or use --demo with "
            "Prometheus and Alertmanager installed (apt-get install prometheus "
            "prometheus-alertmanager)",
        )
    stack = rt.monitoring_stack
    if stack is not None and not stack.wait_ready(max(wait, 60.0)):
        raise OpsConsoleError(f"the demo's Alertmanager did not start: {stack.error or 'timeout'}")
    deadline = time.monotonic() + wait
    while True:
        alerts = firing_alerts(am, name)
        if (alerts and _settled(rt)) or time.monotonic() >= deadline:
            break
        time.sleep(1.0)
    if not alerts:
        what = f"no alert named {name} is firing" if name else "no alert is firing"
        raise NoAlertFiring(f"investigate: {what} in Alertmanager at {am.url}")
    return alerts


def _settled(rt: Runtime) -> bool:
    """No alert still pending in Prometheus (so --all-firing sees the whole set); True when
    there is no Prometheus to ask."""
    prom = rt.monitoring.prometheus if rt.monitoring is not None else None
    if prom is None:
        return True
    try:
        return not any(a.get("state") == "pending" for a in prom.alerts())
    except OpsConsoleError:
        return True


@dataclass(frozen=True)
class Investigation:
    """How one investigation ended: its outcome, the answer, the session file."""

    outcome: str  # answered | finished | failed | cancelled
    answer: str
    session: str | None


async def investigate_one(
    rt: Runtime,
    task: str,
    namespace: str | None,
    on_event: Callable[[AgentEvent], None] = lambda ev: None,
) -> Investigation:
    """Run ``task`` in ``namespace`` on a fresh agent, recorded as its own session; changes are
    never executed (headless)."""
    from opsconsole.agent.approval import DenyAllApprover
    from opsconsole.agent.events import Answer, RunCancelled, RunFinished
    from opsconsole.agent.loop import drive

    recorder = rt.open_session()
    loop = rt.runner(DenyAllApprover(), session=recorder, namespace=namespace)
    answer = ""

    def each(ev: AgentEvent) -> None:
        nonlocal answer
        on_event(ev)
        if isinstance(ev, Answer):
            answer = ev.text
        if recorder is not None:
            with contextlib.suppress(Exception):
                recorder.record(ev)

    try:
        terminal = await drive(loop, task, each)
    finally:
        if recorder is not None:
            with contextlib.suppress(Exception):
                recorder.sync_messages(loop.conversation.messages)
            recorder.close()
        await loop.aclose()
    if isinstance(terminal, RunFinished):
        outcome = "answered" if answer else "finished"
    else:
        outcome = "cancelled" if isinstance(terminal, RunCancelled) else "failed"
    return Investigation(outcome, answer, str(recorder.path) if recorder is not None else None)


async def _one(rt: Runtime, alert: FiringAlert, printer: Printer, i: int, n: int) -> bool:
    printer.note(f"investigation {i}/{n}: {alert.name} on {alert.target or '-'}")
    done = await investigate_one(rt, alert.task(), alert.namespace, printer.event)
    if printer.as_json:
        line: dict[str, Any] = {
            "type": "investigation",
            "alert": alert.name,
            "target": alert.target,
            "labels": alert.labels,
            "fingerprint": alert.fingerprint,
            "outcome": done.outcome,
            "answer": done.answer,
            "session": done.session,
        }
        print(printer.mask(json.dumps(line, ensure_ascii=False)), file=printer.out, flush=True)
    elif done.session:
        printer.note(f"recorded as {done.session}")
    return done.outcome in ("answered", "finished")
