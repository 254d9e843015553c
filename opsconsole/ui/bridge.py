"""The bridge between the headless agent core and the widgets.

:class:`AgentBridge` consumes the loop's typed events inside the app's ``agent`` worker and
updates the chat, the trace and the status bar; cancelling that worker stops the run at once
(even during a hung model request) and the loop keeps a valid transcript, so the next
question continues the same conversation. :class:`UIApprover` implements the core's Approver
protocol with an :class:`ApprovalModal` that resolves a future.
"""

from __future__ import annotations

import asyncio
import gc
import time
from typing import TYPE_CHECKING, Any

from opsconsole.ui.screens.modals import ApprovalModal, ApprovalView

#: the longest the agent's events hold the event loop before keys and frames get a turn (s)
SHARE = 0.02

if TYPE_CHECKING:
    from opsconsole.agent import events as ev
    from opsconsole.agent.approval import ApprovalDecision, ApprovalRequest
    from opsconsole.ui.app import OpsConsoleApp


#: how often the status bar's alert count is refreshed
ALERT_POLL_SECONDS = 5.0


class UIApprover:
    """Approver: push an ApprovalModal and wait for the user's decision."""

    def __init__(self, app: OpsConsoleApp) -> None:
        self.app = app
        self.modal: ApprovalModal | None = None

    async def approve(self, request: ApprovalRequest) -> ApprovalDecision:
        from opsconsole.agent.approval import ApprovalDecision

        summary = request.summary
        target = f"{summary.kind}/{summary.name}" if summary.kind else summary.name
        view = ApprovalView(
            tool=request.tool,
            verb=summary.verb,
            target=target or request.tool,
            namespace=summary.namespace,
            context=request.context,
            dry_run=request.dry_run,
            arguments=dict(request.arguments),
            batch=tuple(_describe(item) for item in request.batch),
            index=request.index,
            standing=(
                request.standing.describe()
                if request.standing is not None and not request.confirm
                else ""
            ),
            diff=request.diff,
            blast_radius=request.blast_radius,
            confirm=request.confirm,
        )
        future: asyncio.Future[str] = asyncio.get_running_loop().create_future()

        def resolve(decision: str | None) -> None:
            if not future.done():
                future.set_result(decision or "decline")

        self.modal = modal = ApprovalModal(
            view,
            arm_delay=self.app.settings.ui.approval_arm_ms / 1000,
            forward=self._to_chat_input,
        )
        await self.app.push_screen(modal, callback=resolve)
        try:
            decision = await future
        except asyncio.CancelledError:
            if modal.is_attached and self.app.screen is modal:
                modal.dismiss("decline")
            raise
        finally:
            self.modal = None
        return ApprovalDecision(decision, source="user")  # type: ignore[arg-type]

    def _to_chat_input(self, key: Any) -> str | None:
        """A key typed while the approval window arms: it goes to the chat input."""
        from opsconsole.ui.widgets.chat import ChatInput

        found = self.app.main.query(ChatInput)
        return found.first().take_key(key) if found else None


def _log_context(lines: list[str], source: str) -> str:
    """Log lines the user selected, redacted as one text (S8) and wrapped as untrusted data
    (S7)."""
    from opsconsole.k8s.logs import untrusted_log
    from opsconsole.redact import redact_lines

    body = "\n".join(redact_lines(lines))
    attrs = f"{source} selected-by=user".strip()
    return "Selected log lines (context from the log viewer):\n" + untrusted_log(attrs, body)


def _describe(summary: Any) -> str:
    """One pending call as a line: verb kind/name in namespace."""
    target = f"{summary.kind}/{summary.name}" if summary.kind else summary.name
    where = f" in {summary.namespace}" if summary.namespace else ""
    return f"{summary.verb} {target}{where}"


class AgentBridge:
    """Drives one conversation: submit, run (in the agent worker), stop, and the settings."""

    def __init__(self, app: OpsConsoleApp) -> None:
        self.app = app
        self.approver = UIApprover(app)
        self.running = False
        self.run_id: str | None = None
        self._top_run: str | None = None
        self._queued: str | None = None
        #: the latest usage report of each agent of the conversation (the gauge sums them)
        self._usage: dict[str, ev.UsageReported] = {}
        self._drain_scheduled = False
        self._launching: str | None = None
        self._warm = False

    # ---- state shown in the status bar --------------------------------------------------

    @property
    def backend(self) -> Any:
        return self.app.backend

    def _status(self) -> Any:
        return self.app.main.status

    async def backend_ready(self, backend: Any) -> None:
        main = self.app.main
        status = main.status
        status.context = backend.context or "—"
        status.namespace = backend.namespace or "all"
        status.model = backend.model_label
        status.offline = backend.offline
        status.sandbox = backend.sandbox is not None
        status.write_mode = backend.write_mode
        status.state = "ready"
        if backend.cluster_error:
            main.show_banner(backend.cluster_error, "error")
            self.app.notify(backend.cluster_error, title="cluster", severity="error", timeout=10)
        if backend.has_alerts:
            status.alerts = 0
            self._poll_alerts()
            self.app.set_interval(ALERT_POLL_SECONDS, self._poll_alerts)
        await self._show_history()
        for note in backend.notes:
            await main.chat.add_notice(note, "info")
        if self._queued is not None:
            task, self._queued = self._queued, None
            self._start(task)

    # ---- runs ---------------------------------------------------------------------------

    async def submit(self, text: str) -> None:
        chat = self.app.main.chat
        if getattr(self.app, "replaying", False):
            await chat.add_notice("This is a replay: read-only, nothing is sent.", "warning")
            return
        if self.running:
            if not chat.input.value:  # keep the question: the user may send it when done
                chat.input.value = text
                chat.input.cursor_position = len(text)
            await chat.add_notice(
                "The agent is still working: your question stays in the input. Press Enter "
                "again when the agent is done, or Esc twice to stop it.",
                "warning",
            )
            return
        source = chat.context_source
        context = chat.take_context()
        await chat.add_user(text)
        task = text
        if context:
            task = f"{text}\n\n{_log_context(context, source)}"
        if self.backend is None:
            self._queued = task
            await chat.add_notice("connecting… your question runs as soon as the agent is ready.")
            return
        self._start(task)

    def _snapshot(self) -> None:
        """Record what the pod list and the log viewer show, so a replay can refill them."""
        recorder = self.backend.recorder if self.backend is not None else None
        if recorder is None:
            return
        main = self.app.main
        try:
            pods = main.pods
            if self.app.feeds.pods_ready:
                namespace = getattr(pods, "namespace", None)
                recorder.snapshot_pods(
                    pods.rows(), namespace=namespace, context=self.backend.context
                )
            logs = main.logs
            if getattr(logs, "pod", None):
                count = len(logs.store)
                lines = logs.store.slice(max(0, count - 200), count)
                recorder.snapshot_logs(
                    lines, pod=logs.pod, namespace=logs.namespace, container=logs.container
                )
        except Exception as exc:  # noqa: BLE001 - recording must never stop a run
            self.app.notify(f"session snapshot skipped: {exc}", severity="warning")

    def _start(self, task: str) -> None:
        self.running = True
        self.app.main.chat.set_running(True)
        self._status().run_started()
        # the question is on screen first: the snapshot and the run (its first request builds
        # the client, imports...) start after the frame that shows it
        self._launching = task
        self.app.call_after_refresh(self._launch)

    def _launch(self) -> None:
        task, self._launching = self._launching, None
        if task is None:  # stopped before it started
            return
        self._snapshot()
        self.app.run_agent(task)

    async def run(self, task: str) -> None:
        """The agent worker's body: consume the loop's events until the run ends."""
        from opsconsole.errors import OpsConsoleError

        main = self.app.main
        self.run_id = None
        self._top_run = None
        await main.trace.add_run(task.splitlines()[0])
        try:
            turn = time.monotonic()
            async for event in self.backend.loop.run(task):
                await self.handle(event)
                if time.monotonic() - turn > SHARE and event.kind != "answer":
                    # a fast stream never waits for the network: let the keys and the frames
                    # through now and then (a short sleep: the screen's tasks run meanwhile).
                    # Not between an answer and the run's end: the frame after the answer
                    # would write its record (a long answer takes a while to redact) before
                    # the screen says the run finished
                    await asyncio.sleep(0.001)
                    turn = time.monotonic()
        except asyncio.CancelledError:
            self.running = False
            main.chat.set_running(False)
            self._status().run_ended("cancelled")
            # the loop cannot yield while cancelled: it leaves its RunCancelled here
            terminal = self.backend.loop.terminal_event if self.backend.loop else None
            if terminal is not None:
                self._record(terminal)
            self.app.call_later(self._show_cancelled, self._top_run)
            raise
        except OpsConsoleError as exc:
            await self._show_failed(str(exc))
        finally:
            self._flush_recorder()
            if not self._warm:
                # the first run imported what every run uses (the model client's types, the
                # tools, the Markdown renderer), which lives as long as the app: later full
                # collections skip it, so one after a 5 MB answer costs what the answers
                # left (~10,000 objects), not the whole process (~110,000, 100 ms a pass)
                gc.freeze()
                self._warm = True
            if self.running:
                self.running = False
                main.chat.set_running(False)
                if self._status().state == "running":
                    self._status().run_ended("ready")

    def _record(self, event: ev.AgentEvent) -> None:
        """Record ``event`` after the frame that shows it: the recorder holds it (in order:
        any other write takes it first) and the bridge writes it once the screen refreshed,
        so redacting a long answer does not delay the frame that shows it finished."""
        recorder = self.backend.recorder if self.backend is not None else None
        if recorder is None:
            return
        recorder.record(event, defer=True)
        if not self._drain_scheduled:
            self._drain_scheduled = True
            self.app.call_after_refresh(self._write_records)

    def _write_records(self, *, flush: bool = False) -> None:
        self._drain_scheduled = False
        recorder = self.backend.recorder if self.backend is not None else None
        if recorder is None:
            return
        try:
            if flush:
                recorder.flush()
            else:
                recorder.drain()
        except Exception as exc:  # noqa: BLE001 - recording must never stop a run
            self.app.notify(f"session recording stopped: {exc}", severity="warning")
            self.backend.recorder = None

    def _flush_recorder(self) -> None:
        """The run is over: write everything held, after the frame that shows the end."""
        self.app.call_after_refresh(self._write_records, flush=True)

    async def handle(self, event: ev.AgentEvent) -> None:
        from opsconsole.agent import events as ev

        main = self.app.main
        self._record(event)
        if isinstance(event, ev.RunStarted) and self._top_run is None:
            self._top_run = event.run_id
            self.run_id = event.run_id
        top = event.run_id == self._top_run
        await main.trace.apply(event)
        chat, status = main.chat, main.status
        if isinstance(event, ev.ApprovalResolved):
            self.show_standing()
        if isinstance(event, ev.StepStarted) and top:
            status.steps = event.step
        elif isinstance(event, ev.TextDelta) and top:
            await chat.append_answer(event.text)
        elif isinstance(event, ev.Thought | ev.ToolCallStarted | ev.ApprovalRequested) and top:
            await chat.discard_answer()
        elif isinstance(event, ev.Answer) and top:
            await chat.finish_answer(event.text)
        elif isinstance(event, ev.UsageReported):
            self._show_usage(event)
        elif isinstance(event, ev.Notice) and event.level != "info":
            await chat.add_notice(event.text, event.level)
        elif isinstance(event, ev.RunFailed) and top:
            text = event.error + (f"\n{event.hint}" if event.hint else "")
            await chat.end_run(f"✗ {text}", "error")
            self.app.notify(text, title="agent", severity="error", timeout=10)
            status.run_ended("failed")
        elif isinstance(event, ev.RunCancelled) and top:
            await chat.end_run(f"Cancelled ({event.reason}).", "warning")
            status.run_ended("cancelled")
        elif isinstance(event, ev.RunFinished) and top:
            await chat.end_run()
            status.run_ended("ready")

    def _show_usage(self, event: ev.UsageReported) -> None:
        """The gauge: every agent's running totals (each agent of a team reports its own
        conversation's), summed; the cost is the loop's (opsconsole.agent.pricing)."""
        self._usage[event.agent] = event
        reports = self._usage.values()
        status = self.app.main.status
        status.tokens = sum(e.total_prompt_tokens + e.total_completion_tokens for e in reports)
        status.cost = sum(e.cost_usd for e in reports)
        status.cache_hit = sum(e.total_cache_hit_tokens for e in reports)
        status.cache_miss = sum(e.total_cache_miss_tokens for e in reports)
        status.cache_unknown = sum(e.total_cache_unknown_tokens for e in reports)

    def reset_usage(self) -> None:
        """A new conversation: the gauge starts from zero."""
        self._usage.clear()
        self.app.main.status.reset_usage()

    def stop(self) -> None:
        """Esc / Stop: cancel the agent worker (takes effect at once)."""
        if not self.running:
            return
        if self._launching is not None:  # not started yet: it never will
            self._launching = None
            self.running = False
            self.app.main.chat.set_running(False)
            self._status().run_ended("cancelled")
            self.app.call_later(self._show_cancelled, None)
            return
        self.app.workers.cancel_group(self.app, "agent")

    async def _show_cancelled(self, run_id: str | None) -> None:
        if not self.app.screen_stack or not self.app.main.query("#trace"):
            return  # the app is closing (quit while the agent ran): nothing to show it in
        main = self.app.main
        await main.trace.end_run(None, "cancelled", "■ cancelled by user")  # every branch
        await main.chat.end_run("Cancelled. Ask again or ask something else.", "warning")

    async def _show_failed(self, text: str) -> None:
        main = self.app.main
        await main.trace.end_run(None, "failed", f"■ failed — {text}")
        await main.chat.end_run(f"✗ {text}", "error")
        main.status.run_ended("failed")
        self.app.notify(text, title="agent", severity="error", timeout=10)

    def worker_failed(self, error: BaseException | None) -> None:
        """An unexpected error ended the worker (already notified by the app)."""
        self.running = False
        main = self.app.main
        main.chat.set_running(False)
        main.status.run_ended("failed")
        self.app.call_later(main.chat.end_run, f"✗ internal error: {error}", "error")

    def worker_cancelled(self) -> None:
        self.running = False
        if not self.app.screen_stack:  # the app is closing (quit while the agent ran)
            return
        self.app.main.chat.set_running(False)

    # ---- conversation and settings ------------------------------------------------------

    async def clear(self) -> None:
        if self.running:
            self.stop()
        main = self.app.main
        if self.backend is not None:
            self.backend.new_conversation()
        await main.chat.clear()
        await main.trace.clear()
        self.reset_usage()
        self.show_standing()  # a new loop: no standing approval

    # ---- alerts -------------------------------------------------------------------------

    def _poll_alerts(self) -> None:
        """Count the firing alerts for the status bar (in a thread; a failure keeps the last
        count)."""

        def count() -> None:
            from opsconsole.errors import OpsConsoleError

            try:
                n = len(self.backend.firing_alerts())
            except OpsConsoleError:
                return
            self.app.call_from_thread(setattr, self.app.main.status, "alerts", n)

        self.app.run_worker(count, thread=True, group="alerts", exclusive=True)

    async def pick_alert(self) -> None:
        """The alerts view; Enter on an alert asks the agent to investigate it."""
        import asyncio

        from opsconsole.errors import OpsConsoleError
        from opsconsole.ui.screens.alerts import AlertsModal

        chat = self.app.main.chat
        if self.backend is None:
            await chat.add_notice("Still connecting; try again in a moment.", "warning")
            return
        if not self.backend.has_alerts:
            await chat.add_notice(
                "No Alertmanager: set monitoring.alertmanager.url, or use --demo with "
                "Prometheus and Alertmanager installed (apt-get install prometheus "
                "prometheus-alertmanager).",
                "warning",
            )
            return
        try:
            alerts = await asyncio.to_thread(self.backend.firing_alerts)
        except OpsConsoleError as exc:
            await chat.add_notice(f"cannot read the alerts: {exc}", "error")
            return
        self.app.main.status.alerts = len(alerts)

        async def chosen(alert: Any) -> None:
            if alert is not None:
                await self.submit(alert.task())

        self.app.push_screen(AlertsModal(alerts), chosen)

    async def pick_session(self) -> None:
        """The sessions picker; the chosen session is resumed in this console."""
        import asyncio

        from opsconsole.sessions.index import list_sessions
        from opsconsole.sessions.recorder import resolve_sessions_dir
        from opsconsole.ui.screens.sessions import SessionsModal

        settings = self.app.settings
        summaries = await asyncio.to_thread(
            list_sessions, resolve_sessions_dir(settings), limit=200
        )
        current = getattr(getattr(self.backend, "recorder", None), "path", None)
        if current is not None:
            summaries = [s for s in summaries if s.path and s.path != str(current)]

        async def chosen(path: str | None) -> None:
            if path:
                await self.resume(path)

        self.app.push_screen(SessionsModal(summaries), chosen)

    async def resume(self, name: str) -> None:
        import asyncio

        from opsconsole.errors import OpsConsoleError

        main = self.app.main
        if self.backend is None:
            await main.chat.add_notice("Still connecting; try again in a moment.", "warning")
            return
        if self.running:
            self.stop()
        try:
            await asyncio.to_thread(self.backend.resume, name)
        except OpsConsoleError as exc:
            await main.chat.add_notice(f"cannot resume {name}: {exc}", "error")
            return
        await main.chat.clear()
        await main.trace.clear()
        self.reset_usage()
        self.show_standing()  # a resumed session asks again (S5)
        await self._show_history()
        if self.backend.notes:
            await main.chat.add_notice(self.backend.notes[-1], "info")

    async def _show_history(self) -> None:
        """The questions and answers of a resumed session, in the chat."""
        chat = self.app.main.chat
        for question, answer in self.backend.history:
            await chat.add_user(question)
            if answer:
                await chat.add_answer(answer)

    def show_standing(self) -> None:
        """The standing approvals in force, in the status bar."""
        standing = self.backend.standing_approvals() if self.backend is not None else []
        self._status().standing = tuple(s.describe() for s in standing)

    async def set_write_mode(self, on: bool) -> None:
        main = self.app.main
        revoked = len(self.backend.standing_approvals()) if self.backend is not None else 0
        if self.backend is not None:
            self.backend.set_write_mode(on)
        main.status.write_mode = on
        self.show_standing()
        if on:
            note = (
                "WRITE MODE on: the agent may propose changes (delete, scale, restart); "
                "each one waits for your approval."
            )
            await main.chat.add_notice(note, "warning")
            self.app.notify(note, title="write mode", severity="warning")
        else:
            note = "Read-only mode: no mutating tools are offered."
            if revoked:
                note += f" {revoked} standing approval(s) revoked."
            await main.chat.add_notice(note)

    def contexts(self) -> list[str]:
        return self.backend.contexts() if self.backend is not None else []

    async def set_model(self, name: str) -> None:
        chat = self.app.main.chat
        if self.backend is None:
            await chat.add_notice("connecting… try again in a moment.", "warning")
            return
        try:
            self.backend.set_model(name)
        except Exception as exc:  # noqa: BLE001 - shown to the user
            await chat.add_notice(f"cannot switch model: {exc}", "error")
            return
        status = self.app.main.status
        status.model = self.backend.model_label
        status.offline = self.backend.offline
        if not self.running:
            status.state = "ready"  # not the last run's "failed" under the new model
        await chat.add_notice(f"model: {self.backend.model_label}")

    async def switch_context(self, name: str) -> None:
        chat = self.app.main.chat
        if self.backend is None:
            await chat.add_notice("connecting… try again in a moment.", "warning")
            return
        if self.running:
            await chat.add_notice(
                "The agent is working: stop it (Esc) before switching.", "warning"
            )
            return
        try:
            first = await asyncio.to_thread(self.backend.switch_context, name)
        except Exception as exc:  # noqa: BLE001 - shown to the user
            known = ", ".join(self.backend.contexts()) or "none"
            await chat.add_notice(f"cannot switch context: {exc} (known: {known})", "error")
            return
        if first:  # a new loop and conversation: the gauge starts again
            self.reset_usage()
        status = self.app.main.status
        status.context = self.backend.context
        status.namespace = self.backend.namespace
        self.show_standing()  # those of another context are not in force here
        self.app.main.show_banner(None)
        note = " — connected; a new conversation starts" if first else ""
        await chat.add_notice(f"context: {self.backend.context} (the agent is pinned to it){note}")
        self.app.feeds.start_pods()

    async def switch_namespace(self, name: str) -> None:
        chat = self.app.main.chat
        if self.backend is None:
            await chat.add_notice("connecting… try again in a moment.", "warning")
            return
        namespace = "all" if name in ("all", "*", "-A") else name
        warning = ""
        cluster = self.backend.cluster
        if namespace != "all" and cluster is not None:
            from opsconsole.k8s.queries import list_namespaces

            try:
                known = await asyncio.to_thread(list_namespaces, cluster)
            except Exception:  # noqa: BLE001 - no list (403, unreachable): switch anyway
                known = []
            if known and namespace not in known:
                warning = (
                    f" — no namespace {namespace!r} in this cluster (it has: "
                    f"{', '.join(sorted(known))}); the pod list stays empty until it exists"
                )
        # the pod list and the agent: its next request names the namespace in a note (A20)
        self.backend.namespace = namespace
        self.app.main.status.namespace = namespace
        await chat.add_notice(f"namespace: {namespace}{warning}", "warning" if warning else "info")
        self.app.feeds.start_pods()
