"""The console's backend: cluster, tools, model client, agent loop (and the sandbox in demo).

:func:`connect` runs in a thread worker after the first paint: this is where the kubernetes
and openai clients are imported and the sandbox is started. Expected failures (no kubeconfig,
unreachable cluster) do not raise: they become ``cluster_error``, shown as a banner, and the
app stays usable.
"""

from __future__ import annotations

import os
import tempfile
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from opsconsole.config import Settings
    from opsconsole.ui.app import AppOptions

SANDBOX_CONTEXT = "opsconsole-sandbox"


@dataclass
class Backend:
    settings: Settings
    approver: Any
    cluster: Any = None
    cluster_error: str | None = None
    sandbox: Any = None
    registry: Any = None
    model: Any = None
    loop: Any = None
    recorder: Any = None
    namespace: str = "default"
    write_mode: bool = False
    offline_forced: bool = False
    #: run the multi-agent Scheduler (Ops / Security / Coder) instead of one agent loop
    multi_agent: bool = False
    notes: list[str] = field(default_factory=list)
    #: a resumed session's transcript, used by the next build_loop only
    resumed_messages: list[dict[str, Any]] | None = None
    #: how the resumed session's calls ended (what stays local of its conversation)
    resumed_results: dict[str, dict[str, Any]] | None = None
    #: (question, answer) pairs of a resumed session, shown in the chat
    history: list[tuple[str, str]] = field(default_factory=list)
    #: the kubeconfig the cluster was (or failed to be) loaded from (None: the default chain)
    kubeconfig: str | None = None
    _kubeconfig_dir: Any = None

    @property
    def context(self) -> str:
        if self.cluster is None:
            return "none"
        return str(self.cluster.current_context())

    @property
    def offline(self) -> bool:
        return bool(getattr(self.model, "offline", False))

    @property
    def model_label(self) -> str:
        return str(getattr(self.model, "label", "—"))

    # ---- building -----------------------------------------------------------------------

    def build_loop(self) -> None:
        """A fresh agent loop (new conversation) with the current model, tools and mode."""
        from opsconsole.agent.loop import AgentLoop
        from opsconsole.agent.transcript import Conversation

        conversation = None
        if self.resumed_messages is not None:
            conversation = Conversation(self.resumed_messages, results=self.resumed_results)
            self.resumed_messages = self.resumed_results = None
        if self.recorder is not None:
            self.recorder.flush()
        recorder = self.recorder
        on_request = recorder.on_request if recorder is not None else None
        if self.multi_agent:
            from opsconsole.team.scheduler import build_scheduler

            self.loop = build_scheduler(
                None,
                self.cluster,
                self.settings,
                self.approver,
                context=self.context if self.cluster is not None else None,
                namespace=self.namespace if self.namespace != "all" else None,
                write_mode=self.write_mode,
                audit=recorder.audit_hook if recorder is not None else None,
                on_request=on_request,
                offline=self.offline,
            )
            if conversation is not None:
                self.notes.append(
                    "The resumed transcript continues with one agent; --team starts fresh."
                )
            self._track_transcript()
            return
        self.loop = AgentLoop(
            self.model,
            self.registry,
            settings=self.settings,
            approver=self.approver,
            write_mode=self.write_mode,
            context=self.context if self.cluster is not None else None,
            namespace=self.namespace if self.namespace != "all" else None,
            audit=recorder.audit_hook if recorder is not None else None,
            on_request=on_request,
            conversation=conversation,
        )
        self._track_transcript()

    def _track_transcript(self) -> None:
        """The recorder follows the live transcript (not the per-request copy the loop sends):
        each message is written as the run goes, the final answer before ``run_finished``, so
        ``--resume`` finds every answer even after a kill."""
        if self.recorder is not None and self.loop is not None:
            self.recorder.track_transcript(self.loop.conversation.messages)

    def resume(self, name: str) -> None:
        """Continue a recorded session here: close the current recording, reopen that one and
        start the next question from its transcript (blocking file I/O: call in a thread)."""
        current, self.recorder = self.recorder, None
        try:
            _resume(self, name)
        except BaseException:
            self.recorder = current
            raise
        if current is not None:
            try:
                current.close()
            except Exception:  # noqa: BLE001 - closing is best effort
                pass
        self.build_loop()

    def new_conversation(self) -> None:
        self.build_loop()

    def standing_approvals(self) -> list[Any]:
        """The standing approvals in force on the pinned context, of the agent loop and
        (multi-agent) every specialist's loop (``opsconsole.agent.approval.StandingApproval``)."""
        loop = self.loop
        if loop is None:
            return []
        loops = [loop.loop, *loop.subloops.values()] if hasattr(loop, "subloops") else [loop]
        return [
            s
            for lp in loops
            for s in getattr(lp, "session_approvals", ())
            if s.context == lp.context
        ]

    def set_write_mode(self, on: bool) -> None:
        self.write_mode = on
        if self.cluster is not None:  # the HTTP layer's guard follows the session's mode
            self.cluster.write_mode = on
        if self.loop is not None and hasattr(self.loop, "set_write_mode"):
            self.loop.set_write_mode(on)
        elif self.loop is not None:
            self.loop.write_mode = on

    def set_model(self, name: str) -> None:
        settings = self.settings
        if name in ("offline", "offline planner"):
            self.model = _offline(settings)
        else:
            model_settings = settings.model.replace(name=name)
            self.settings = settings.replace(model=model_settings)
            self.model = _online(self.settings)
        if self.loop is not None and hasattr(self.loop, "set_model"):
            self.loop.set_model(self.model)
        elif self.loop is not None:
            self.loop.model = self.model

    def contexts(self) -> list[str]:
        """Context names of the kubeconfig, even when no cluster could be loaded from it."""
        if self.cluster is not None:
            return list(self.cluster.list_contexts())
        from opsconsole.k8s.client import kubeconfig_contexts

        return kubeconfig_contexts(self.kubeconfig)

    def switch_context(self, name: str) -> bool:
        """Pin the cluster (and the agent) to context ``name``. Returns True when this loaded
        the cluster for the first time (the start failed, e.g. an unknown ``--context``): the
        tools and the agent are new then, and so is the conversation."""
        if self.cluster is None:
            from opsconsole.agent.tools import ToolRegistry
            from opsconsole.k8s.client import Cluster
            from opsconsole.k8s.tools import build_k8s_tools

            self.cluster = Cluster.from_settings(
                self.settings, kubeconfig=self.kubeconfig, context=name
            )
            self.cluster.write_mode = self.write_mode
            self.cluster_error = None
            if self.namespace != "all":
                self.namespace = self.cluster.default_namespace
            self.registry = ToolRegistry(build_k8s_tools(self.cluster, self.settings))
            self.build_loop()
            return True
        self.cluster.switch_context(name)
        if self.loop is not None and hasattr(self.loop, "set_context"):
            self.loop.set_context(name)
        elif self.loop is not None:
            self.loop.context = name
        return False

    def close(self) -> None:
        if self.recorder is not None:
            try:
                self.recorder.close()
            except Exception:  # noqa: BLE001 - closing is best effort
                pass
        if self.cluster is not None:
            self.cluster.close()
        if self.sandbox is not None:
            self.sandbox.stop()
        if self._kubeconfig_dir is not None:
            self._kubeconfig_dir.cleanup()


def _offline(settings: Settings) -> Any:
    from opsconsole.planner import OfflinePlanner

    return OfflinePlanner(language=settings.agent.language)


def _online(settings: Settings) -> Any:
    from opsconsole.agent.model import OpenAIModelClient
    from opsconsole.errors import ModelAuthError

    if not settings.model.api_key():
        raise ModelAuthError(
            f"no API key in ${settings.model.api_key_env}",
            hint=f"export {settings.model.api_key_env}=... or use /model offline",
        )
    return OpenAIModelClient(settings.model)


def connect(settings: Settings, options: AppOptions, approver: Any) -> Backend:
    """Start the sandbox (demo), connect the cluster, build tools, model and loop."""
    from opsconsole.errors import OpsConsoleError

    backend = Backend(settings=settings, approver=approver, multi_agent=options.multi_agent)
    backend.write_mode = settings.agent.write_mode or options.write
    kubeconfig = options.kubeconfig or settings.kubernetes.kubeconfig
    context = options.context or settings.kubernetes.context
    if options.demo:
        from opsconsole.sandbox import SandboxServer

        backend.sandbox = SandboxServer(scenario="demo", pods=options.pods)
        backend.sandbox.start()
        backend._kubeconfig_dir = tempfile.TemporaryDirectory(prefix="opsconsole-demo-")
        kubeconfig = os.path.join(backend._kubeconfig_dir.name, "kubeconfig")
        backend.sandbox.write_kubeconfig(kubeconfig)
        if context and context != SANDBOX_CONTEXT:
            backend.notes.append(
                f"--context {context} does not apply to the demo: the built-in sandbox has one "
                f"context, {SANDBOX_CONTEXT}."
            )
        context = SANDBOX_CONTEXT
    backend.kubeconfig = str(kubeconfig) if kubeconfig else None
    try:
        from opsconsole.k8s.client import Cluster

        backend.cluster = Cluster.from_settings(settings, kubeconfig=kubeconfig, context=context)
        backend.cluster.write_mode = backend.write_mode
    except OpsConsoleError as exc:
        backend.cluster_error = str(exc)
    namespace = options.namespace or settings.kubernetes.namespace
    if options.demo and not options.namespace:
        namespace = "all"  # the demo's faults are spread over several namespaces
    elif backend.cluster is not None and not options.namespace:
        namespace = backend.cluster.default_namespace
    backend.namespace = namespace

    from opsconsole.agent.tools import ToolRegistry
    from opsconsole.k8s.tools import build_k8s_tools

    # without a cluster the tools exist and answer "no cluster configured" (K9)
    backend.registry = ToolRegistry(build_k8s_tools(backend.cluster, settings))

    want_offline = options.offline or not settings.model.api_key()
    backend.model = _offline(settings) if want_offline else _online(settings)
    if want_offline and not options.offline:
        backend.notes.append(
            f"No model API key (${settings.model.api_key_env}): using the built-in offline "
            "planner. Set the key and use /model NAME for a real model."
        )
    if options.resume:
        try:
            _resume(backend, options.resume)
        except OpsConsoleError as exc:
            backend.notes.append(f"cannot resume {options.resume}: {exc}")
    if backend.recorder is None:
        try:
            from opsconsole.sessions.recorder import SessionRecorder

            backend.recorder = SessionRecorder.from_settings(
                settings,
                model=backend.model_label,
                offline=backend.offline,
                context=backend.context if backend.cluster is not None else None,
                sandbox=backend.sandbox is not None,
            )
        except (ImportError, OpsConsoleError, OSError) as exc:
            backend.notes.append(f"session not recorded: {exc}")
    backend.build_loop()
    return backend


def _resume(backend: Backend, name: str) -> None:
    """Continue a recorded session: its recorder, its transcript (dangling tool calls answered
    as interrupted, never re-run) and its questions and answers for the chat."""
    from opsconsole.sessions.resume import conversation_pairs, resume_from_settings

    resumed = resume_from_settings(name, backend.settings)
    backend.recorder = resumed.recorder
    backend.resumed_messages = resumed.messages
    backend.resumed_results = resumed.results
    backend.history = conversation_pairs(resumed.messages)
    interrupted = len(resumed.interrupted)
    extra = f"; {interrupted} unfinished tool call(s) marked interrupted" if interrupted else ""
    backend.notes.append(
        f"Resumed session {resumed.recorder.path.name}: {len(backend.history)} earlier "
        f"question(s){extra}. Approvals for the session start afresh."
    )
