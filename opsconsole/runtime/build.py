"""``build_runtime(settings, options) -> Runtime``: see the package docstring.

Heavy imports (the kubernetes and openai clients, the sandbox) happen inside the functions, so a
front end that imports this module pays nothing until it builds a runtime (the console builds
it in a worker thread after the first paint).
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

from opsconsole.errors import ModelAuthError, OpsConsoleError

if TYPE_CHECKING:  # pragma: no cover
    from opsconsole.agent.approval import Approver
    from opsconsole.agent.model import ModelClient
    from opsconsole.agent.runner import ModelFactory, Runner
    from opsconsole.agent.tools import ToolRegistry
    from opsconsole.agent.transcript import Conversation
    from opsconsole.config import Settings
    from opsconsole.k8s.client import Cluster
    from opsconsole.mcplink.client import McpHub
    from opsconsole.sessions.recorder import SessionRecorder
    from opsconsole.sessions.resume import ResumedSession

#: the one context of the built-in sandbox's kubeconfig
SANDBOX_CONTEXT = "opsconsole-sandbox"


@dataclass(frozen=True)
class RuntimeOptions:
    """What a front end asks for (its command-line flags)."""

    #: start the built-in sandbox and work on it
    demo: bool = False
    #: the sandbox's scenario (``demo``, ``clean``, …) and simulation speed
    scenario: str = "demo"
    speed: float = 1.0
    #: a generated sandbox of this many pods instead of the scenario's
    pods: int | None = None
    kubeconfig: str | None = None
    context: str | None = None
    #: the agent's default namespace ("all": every namespace); None: config, then kubeconfig
    namespace: str | None = None
    offline: bool = False
    #: write mode from the start (also on with ``agent.write_mode``)
    write: bool = False
    #: record the session (also needs ``sessions.record``)
    record: bool = True
    #: continue this recorded session (its recorder, its transcript in :attr:`Runtime.resumed`)
    resume: str | None = None
    #: headless: no cluster or a session that cannot be resumed is an error (``ask``), not a
    #: banner or a note (the console)
    strict: bool = False


@dataclass(frozen=True)
class RuntimeNote:
    """Something the front end should tell the user once."""

    code: Literal[
        "sandbox", "context-ignored", "no-api-key", "offline", "not-recorded", "not-resumed"
    ]
    text: str
    level: Literal["info", "warning"] = "info"


@dataclass
class Runtime:
    """Everything one front end runs on; :meth:`close` releases all of it."""

    settings: Settings
    options: RuntimeOptions
    sandbox: Any = None
    kubeconfig: str | None = None
    cluster: Cluster | None = None
    #: why there is no cluster (shown as a banner; the tools answer "no cluster configured")
    cluster_error: str | None = None
    registry: ToolRegistry | None = None
    model: ModelClient | None = None
    recorder: SessionRecorder | None = None
    namespace: str = "default"
    write_mode: bool = False
    notes: list[RuntimeNote] = field(default_factory=list)
    #: the session continued by ``options.resume`` (its transcript and results), if any
    resumed: ResumedSession | None = None
    #: the MCP servers of ``mcp.servers`` (started when their tools are first listed)
    mcp: McpHub | None = None
    _stack: contextlib.ExitStack = field(default_factory=contextlib.ExitStack)

    # -- what it is ---------------------------------------------------------------------

    @property
    def context(self) -> str | None:
        return self.cluster.current_context() if self.cluster is not None else None

    @property
    def offline(self) -> bool:
        return bool(getattr(self.model, "offline", False))

    @property
    def model_label(self) -> str:
        return str(getattr(self.model, "label", "—"))

    def agent_namespace(self) -> str | None:
        """The namespace the agent starts in (None: all namespaces)."""
        return None if self.namespace == "all" else self.namespace

    # -- models -------------------------------------------------------------------------

    def model_factory(self, *, offline: bool | None = None) -> ModelFactory:
        """``agent name -> model`` for the team (offline: the router and the specialists)."""
        from opsconsole.team.factory import default_model_factory

        return default_model_factory(
            self.settings, offline=self.offline if offline is None else offline
        )

    def set_model(self, name: str) -> ModelClient:
        """Switch to model ``name`` ("offline" for the planner); every later runner uses it.
        An online model with no API key raises :class:`ModelAuthError` and changes nothing."""
        if name in ("offline", "offline planner"):
            self.model = _model(self.settings, offline=True)
        else:
            settings = self.settings.replace(model=self.settings.model.replace(name=name))
            model = _model(settings, offline=False, require_key=True)
            self.settings, self.model = settings, model
        return self.model

    # -- the agent ----------------------------------------------------------------------

    def runner(
        self,
        approver: Approver | None,
        *,
        team: bool = False,
        conversation: Conversation | None = None,
        language: str | None = None,
        agents: tuple[str, ...] | None = None,
    ) -> Runner:
        """A fresh agent over this runtime's cluster, tools and model: one loop, or the team's
        Scheduler (``team``). The recorder, when there is one, follows its transcript."""
        from opsconsole.agent.loop import AgentLoop

        recorder = self.recorder
        hooks: dict[str, Any] = {
            "audit": recorder.audit_hook if recorder is not None else None,
            "on_request": recorder.on_request if recorder is not None else None,
        }
        context = self.context
        runner: Runner
        if team:
            from opsconsole.team.scheduler import AGENT_NAMES, build_scheduler

            runner = build_scheduler(
                self.model_factory(),
                self.cluster,
                self.settings,
                approver,
                agents=agents or AGENT_NAMES,
                language=language,
                context=context,
                namespace=self.agent_namespace(),
                write_mode=self.write_mode,
                **hooks,
            )
        else:
            assert self.model is not None and self.registry is not None
            runner = AgentLoop(
                self.model,
                self.registry,
                settings=self.settings,
                approver=approver,
                language=language,
                context=context,
                namespace=self.agent_namespace(),
                write_mode=self.write_mode,
                conversation=conversation,
                **hooks,
            )
        if recorder is not None:
            # the transcript is written as the run goes (each message before later records,
            # the final answer before run_finished), so --resume finds every answer after a kill
            recorder.track_transcript(runner.conversation.messages)
        return runner

    # -- the cluster --------------------------------------------------------------------

    def set_write_mode(self, on: bool) -> None:
        """The HTTP layer's guard follows the session's mode (runners are switched by their
        owner: :meth:`Runner.set_write_mode`)."""
        self.write_mode = on
        if self.cluster is not None:
            self.cluster.write_mode = on

    def load_cluster(self, context: str) -> None:
        """Connect the cluster on ``context`` when the start could not (an unknown
        ``--context``): new cluster, new tools."""
        from opsconsole.k8s.client import Cluster

        cluster = Cluster.from_settings(self.settings, kubeconfig=self.kubeconfig, context=context)
        self._attach_cluster(cluster)
        if self.namespace != "all":
            self.namespace = cluster.default_namespace

    def _attach_cluster(self, cluster: Cluster) -> None:
        cluster.write_mode = self.write_mode
        self.cluster, self.cluster_error = cluster, None
        self._stack.callback(cluster.close)
        self.registry = self._registry(cluster)

    def _registry(self, cluster: Cluster | None) -> ToolRegistry:
        """The Kubernetes tools on ``cluster`` (None: each says no cluster, K9) and the MCP
        servers' tools, loaded as the first run starts."""
        from opsconsole.agent.tools import ToolRegistry
        from opsconsole.k8s.tools import build_k8s_tools

        if self.mcp is None and self.settings.mcp.servers:
            from opsconsole.mcplink.client import McpHub

            self.mcp = McpHub(self.settings)
            self._stack.callback(self.mcp.close)
        sources = self.mcp.sources() if self.mcp is not None else []
        return ToolRegistry(build_k8s_tools(cluster, self.settings), sources=sources)

    # -- sessions -----------------------------------------------------------------------

    def resume(self, name: str) -> ResumedSession:
        """Continue recorded session ``name``: its recorder replaces this one (closed)."""
        from opsconsole.sessions.resume import resume_from_settings

        resumed = resume_from_settings(name, self.settings)
        self._replace_recorder(resumed.recorder)
        return resumed

    def _replace_recorder(self, recorder: SessionRecorder | None) -> None:
        old, self.recorder = self.recorder, recorder
        if old is not None:
            with contextlib.suppress(Exception):  # closing is best effort
                old.close()

    def close(self) -> None:
        """Close the recorder and the cluster, stop the sandbox, remove its kubeconfig."""
        self._replace_recorder(None)
        self._stack.close()


def _model(settings: Settings, *, offline: bool, require_key: bool = False) -> ModelClient:
    from opsconsole.team.factory import single_model

    if not offline and require_key and not settings.model.api_key():
        raise ModelAuthError(
            f"no API key in ${settings.model.api_key_env}",
            hint=f"export {settings.model.api_key_env}=... or use /model offline",
        )
    return single_model(settings, offline=offline)


def _start_sandbox(rt: Runtime) -> str:
    """Start the sandbox; its kubeconfig path (removed on close)."""
    from opsconsole.sandbox import SandboxServer

    opts = rt.options
    try:
        sandbox = SandboxServer(scenario=opts.scenario, pods=opts.pods, speed=opts.speed).start()
    except OpsConsoleError:
        raise
    except Exception as exc:  # noqa: BLE001 - shown as one line, no traceback
        raise OpsConsoleError(f"cannot start the built-in sandbox: {exc}") from None
    rt.sandbox = sandbox
    rt._stack.callback(sandbox.stop)
    tmp = rt._stack.enter_context(tempfile.TemporaryDirectory(prefix="opsconsole-sandbox-"))
    kubeconfig = os.path.join(tmp, "kubeconfig")
    sandbox.write_kubeconfig(kubeconfig)
    what = f"a generated cluster of {opts.pods} pods" if opts.pods else f"{opts.scenario} scenario"
    rt.notes.append(
        RuntimeNote("sandbox", f"using the built-in sandbox cluster ({what}) at {sandbox.url}")
    )
    return kubeconfig


def build_runtime(settings: Settings, options: RuntimeOptions | None = None) -> Runtime:
    """Wire one front end: sandbox (demo), cluster, tools, model, recorder.

    Expected failures of the cluster become :attr:`Runtime.cluster_error` (or raise with
    ``strict``); a failure after the sandbox started stops it again."""
    opts = options or RuntimeOptions()
    rt = Runtime(settings=settings, options=opts)
    rt.write_mode = settings.agent.write_mode or opts.write
    try:
        _wire(rt)
    except BaseException:
        rt.close()
        raise
    return rt


def _wire(rt: Runtime) -> None:
    from opsconsole.k8s.client import Cluster

    settings, opts = rt.settings, rt.options
    kubeconfig = opts.kubeconfig or settings.kubernetes.kubeconfig
    context = opts.context or settings.kubernetes.context
    if opts.demo:
        kubeconfig = _start_sandbox(rt)
        if context and context != SANDBOX_CONTEXT:
            rt.notes.append(
                RuntimeNote(
                    "context-ignored",
                    f"--context {context} does not apply to the demo: the built-in sandbox "
                    f"has one context, {SANDBOX_CONTEXT}.",
                )
            )
        context = SANDBOX_CONTEXT
        # everything downstream sees the cluster it really works on
        kube = settings.kubernetes.replace(kubeconfig=kubeconfig, context=context)
        settings = rt.settings = settings.replace(kubernetes=kube)
    rt.kubeconfig = str(kubeconfig) if kubeconfig else None
    try:
        rt._attach_cluster(Cluster.from_settings(settings, kubeconfig=kubeconfig, context=context))
    except OpsConsoleError as exc:
        if opts.strict:
            raise
        rt.cluster_error = str(exc)
        # without a cluster the tools exist and answer "no cluster configured" (K9)
        rt.registry = rt._registry(None)
    configured = settings.kubernetes.namespace
    if opts.namespace:
        rt.namespace = opts.namespace
    elif configured != "default" or rt.cluster is None:
        rt.namespace = configured
    else:
        rt.namespace = rt.cluster.default_namespace

    no_key = not settings.model.api_key()
    rt.model = _model(settings, offline=opts.offline or no_key)
    if no_key and not opts.offline:
        env = settings.model.api_key_env
        rt.notes.append(
            RuntimeNote(
                "no-api-key",
                f"no API key in ${env}: using the built-in offline planner (no model API). "
                f"Set ${env} to use {settings.model.name} (any non-empty value for a local "
                "server such as Ollama or vLLM).",
                "warning",
            )
        )
    elif opts.offline:
        rt.notes.append(RuntimeNote("offline", "using the built-in offline planner (no model API)"))

    if opts.resume:
        try:
            rt.resumed = rt.resume(opts.resume)
        except OpsConsoleError as exc:
            if opts.strict:
                raise
            rt.notes.append(
                RuntimeNote("not-resumed", f"cannot resume {opts.resume}: {exc}", "warning")
            )
    if opts.record and rt.recorder is None:
        try:
            from opsconsole.sessions.recorder import SessionRecorder

            rt.recorder = SessionRecorder.from_settings(
                settings,
                model=rt.model_label,
                offline=rt.offline,
                context=rt.context,
                sandbox=rt.sandbox is not None,
            )
        except (OpsConsoleError, OSError) as exc:
            rt.notes.append(RuntimeNote("not-recorded", f"session not recorded: {exc}", "warning"))
