"""The console's backend: the runtime (cluster, tools, model, recorder, the sandbox in demo)
and the agent the console drives.

:func:`connect` runs in a thread worker after the first paint: this is where the kubernetes
and openai clients are imported and the sandbox is started (by
:func:`~opsconsole.runtime.build_runtime`, the one place that wires them). Expected failures
(no kubeconfig, unreachable cluster) do not raise: they become ``cluster_error``, shown as a
banner, and the app stays usable.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from opsconsole.runtime import Runtime, RuntimeOptions, build_runtime

if TYPE_CHECKING:
    from opsconsole.agent.runner import Runner
    from opsconsole.config import Settings
    from opsconsole.ui.app import AppOptions


@dataclass
class Backend:
    runtime: Runtime
    approver: Any
    loop: Runner | None = None
    #: run the multi-agent Scheduler (Ops / Security / Coder) instead of one agent loop
    multi_agent: bool = False
    notes: list[str] = field(default_factory=list)
    #: a resumed session's transcript, used by the next build_loop only
    resumed_messages: list[dict[str, Any]] | None = None
    #: how the resumed session's calls ended (what stays local of its conversation)
    resumed_results: dict[str, dict[str, Any]] | None = None
    #: (question, answer) pairs of a resumed session, shown in the chat
    history: list[tuple[str, str]] = field(default_factory=list)

    # ---- what the runtime holds ---------------------------------------------------------

    @property
    def settings(self) -> Settings:
        return self.runtime.settings

    @property
    def cluster(self) -> Any:
        return self.runtime.cluster

    @property
    def cluster_error(self) -> str | None:
        return self.runtime.cluster_error

    @property
    def sandbox(self) -> Any:
        return self.runtime.sandbox

    @property
    def registry(self) -> Any:
        return self.runtime.registry

    @property
    def model(self) -> Any:
        return self.runtime.model

    @property
    def recorder(self) -> Any:
        return self.runtime.recorder

    @recorder.setter
    def recorder(self, value: Any) -> None:
        """``None`` when recording failed (the console stops recording, the run goes on)."""
        self.runtime.recorder = value

    @property
    def kubeconfig(self) -> str | None:
        return self.runtime.kubeconfig

    @property
    def namespace(self) -> str:
        return self.runtime.namespace

    @namespace.setter
    def namespace(self, name: str) -> None:
        """The console's ``/ns``: the pod list and the agent's default namespace."""
        self.runtime.namespace = name
        if self.loop is not None:
            self.loop.namespace = self.runtime.agent_namespace()

    @property
    def write_mode(self) -> bool:
        return self.runtime.write_mode

    @property
    def context(self) -> str:
        return self.runtime.context or "none"

    @property
    def offline(self) -> bool:
        return self.runtime.offline

    @property
    def model_label(self) -> str:
        return self.runtime.model_label

    # ---- building -----------------------------------------------------------------------

    def build_loop(self) -> None:
        """A fresh agent (new conversation) with the current model, tools and mode."""
        from opsconsole.agent.transcript import Conversation

        conversation = None
        if self.resumed_messages is not None:
            conversation = Conversation(self.resumed_messages, results=self.resumed_results)
            self.resumed_messages = self.resumed_results = None
        if self.recorder is not None:
            self.recorder.flush()
        if self.multi_agent and conversation is not None:
            self.notes.append(
                "The resumed transcript continues with one agent; --team starts fresh."
            )
        self.loop = self.runtime.runner(
            self.approver,
            team=self.multi_agent,
            conversation=None if self.multi_agent else conversation,
        )

    def resume(self, name: str) -> None:
        """Continue a recorded session here: close the current recording, reopen that one and
        start the next question from its transcript (blocking file I/O: call in a thread)."""
        self._take_resumed(self.runtime.resume(name))
        self.build_loop()

    def _take_resumed(self, resumed: Any) -> None:
        """A resumed session's transcript (dangling tool calls answered as interrupted, never
        re-run) for the next loop, and its questions and answers for the chat."""
        from opsconsole.sessions.resume import conversation_pairs

        self.resumed_messages = resumed.messages
        self.resumed_results = resumed.results
        self.history = conversation_pairs(resumed.messages)
        interrupted = len(resumed.interrupted)
        extra = f"; {interrupted} unfinished tool call(s) marked interrupted" if interrupted else ""
        self.notes.append(
            f"Resumed session {resumed.recorder.path.name}: {len(self.history)} earlier "
            f"question(s){extra}. Approvals for the session start afresh."
        )

    def new_conversation(self) -> None:
        self.build_loop()

    def standing_approvals(self) -> list[Any]:
        """The standing approvals in force on the pinned context, of every agent
        (``opsconsole.agent.approval.StandingApproval``)."""
        return self.loop.standing_approvals() if self.loop is not None else []

    def set_write_mode(self, on: bool) -> None:
        self.runtime.set_write_mode(on)
        if self.loop is not None:
            self.loop.set_write_mode(on)

    def set_model(self, name: str) -> None:
        model = self.runtime.set_model(name)
        if self.loop is not None:
            factory = self.runtime.model_factory() if self.multi_agent else None
            self.loop.set_model(model, factory)

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
            self.runtime.load_cluster(name)
            self.build_loop()
            return True
        self.cluster.switch_context(name)
        if self.loop is not None:
            self.loop.set_context(name)
        return False

    @property
    def has_alerts(self) -> bool:
        """There is an Alertmanager to read alerts from (configured, or the demo's)."""
        mon = self.runtime.monitoring
        return mon is not None and mon.alertmanager is not None

    def firing_alerts(self) -> list[Any]:
        """Alertmanager's firing alerts (:class:`FiringAlert`), most urgent first; blocking,
        and raising an ``OpsConsoleError`` when Alertmanager cannot be read."""
        from opsconsole.monitoring.alerts import firing_alerts

        mon = self.runtime.monitoring
        if mon is None or mon.alertmanager is None:
            return []
        return firing_alerts(mon.alertmanager)

    def close(self) -> None:
        self.runtime.close()


def connect(settings: Settings, options: AppOptions, approver: Any) -> Backend:
    """Build the runtime (sandbox in demo, cluster, tools, model, recorder) and the agent."""
    runtime = build_runtime(
        settings,
        RuntimeOptions(
            demo=options.demo,
            pods=options.pods,
            kubeconfig=options.kubeconfig,
            context=options.context,
            # the demo's faults are spread over several namespaces
            namespace=options.namespace or ("all" if options.demo else None),
            offline=options.offline,
            write=options.write,
            resume=options.resume,
            monitoring=options.monitoring,
        ),
    )
    backend = Backend(runtime=runtime, approver=approver, multi_agent=options.multi_agent)
    for note in runtime.notes:
        if note.code == "no-api-key":
            backend.notes.append(
                f"No model API key (${settings.model.api_key_env}): using the built-in offline "
                "planner. Set the key and use /model NAME for a real model."
            )
        elif note.code not in ("sandbox", "offline"):  # the banner and status bar say these
            backend.notes.append(note.text)
    if runtime.resumed is not None:
        backend._take_resumed(runtime.resumed)
    backend.build_loop()
    return backend
