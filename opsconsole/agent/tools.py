"""Tools the agent can call, and the registry that renders them as the OpenAI ``tools`` array.

A tool is data: name, description, JSON-schema parameters, a handler, and whether it only
reads. ``read_only`` must be declared explicitly; a tool that leaves it ``None`` is treated as
mutating (RELIABILITY S3). Mutating tools are not offered to the model in read-only mode (S2)
and every call to one waits for approval (S1).
"""

from __future__ import annotations

import asyncio
import inspect
import re
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:  # pragma: no cover
    from opsconsole.agent.events import AgentEvent

TOOL_NAME_RE = re.compile(r"^[a-zA-Z0-9_-]{1,64}$")
#: arguments that would move a call to another cluster: refused unless a tool declares one
#: (S10); the session's context is pinned and only the user switches it
CONTEXT_KEYS = frozenset({"context", "cluster", "kube_context", "kubeconfig", "server"})

#: A handler takes the validated arguments (and, when the tool is ``contextual``, the call's
#: :class:`ToolContext`) and returns the observation text for the model. It may be sync (run in
#: a thread by the loop) or async.
ToolHandler = Callable[..., "str | ToolResult | Awaitable[str | ToolResult]"]


@dataclass(frozen=True)
class ToolContext:
    """The call a contextual tool's handler runs for: which run, agent, step and call, and
    where its own events go (into the caller's stream, after the call's ToolCallStarted: an
    agent run as a tool forwards its run's events there; call it from an async handler, on the
    loop's thread)."""

    run_id: str
    agent: str
    step: int
    tool_call_id: str
    emit: Callable[[AgentEvent], None] = field(default=lambda _event: None, compare=False)


@dataclass(frozen=True)
class ToolError:
    """Why a call failed, for programs: a stable ``code`` to branch on and one line for a
    person. Codes of the Kubernetes tools are the :attr:`opsconsole.errors.OpsConsoleError.code`
    of the failure (``unreachable``, ``no_cluster``, ``auth``, ``forbidden``, ``not_found``,
    ``invalid_argument`` ...); the loop adds its own (``unknown_tool``, ``invalid_arguments``,
    ``timeout``, ``read_only``, ``repeated_call``, ``too_many_calls``, ``tool_failed``)."""

    code: str
    message: str


@dataclass(frozen=True)
class ToolResult:
    """What a tool returns: ``content`` goes to the model; ``data`` stays local (UI, replay,
    the offline planner); ``error`` says why a failed call (``is_error``) failed."""

    content: str
    is_error: bool = False
    data: dict[str, Any] | None = None
    error: ToolError | None = None


@dataclass(frozen=True)
class ActionSummary:
    """How a call reads to a person approving it: verb, kind/name, namespace."""

    verb: str
    kind: str
    name: str
    namespace: str | None = None
    detail: str = ""


@dataclass(frozen=True)
class DryRun:
    """What a server-side dry run of a call says will happen, for the person approving it.

    ``text`` is one or more lines (the server's verdict); ``diff`` the unified diff between
    the live object and the dry run's result (``+`` added, ``-`` removed lines, ``@@`` hunks);
    ``blast_radius`` one line on what else the change touches ("replaces 3 pods, rolling,
    maxUnavailable 25%, maxSurge 25%"). ``rejected``: the server refused the request (a 4xx
    answer), so the call cannot succeed: the loop asks nobody and ends the call with ``text``.
    ``confirm``: the text the person must type to approve (a namespace's name), "" if none."""

    text: str
    diff: str = ""
    blast_radius: str = ""
    rejected: bool = False
    confirm: str = ""


@dataclass(frozen=True)
class Tool:
    name: str
    description: str
    parameters: dict[str, Any]
    handler: ToolHandler
    read_only: bool | None = None
    timeout: float = 60.0
    #: summarises a call for the approval prompt (mutating tools)
    summarize: Callable[[dict[str, Any]], ActionSummary] | None = None
    #: server-side dry run of a call, shown in the approval prompt (mutating tools): text,
    #: or a :class:`DryRun` with the diff, the blast radius and whether the server refused it
    dry_run: Callable[[dict[str, Any]], str | DryRun] | None = None
    tags: frozenset[str] = field(default_factory=frozenset)
    #: the handler takes ``(args, ToolContext)`` (an agent run as a tool: its events name the
    #: call that started it)
    contextual: bool = False

    def __post_init__(self) -> None:
        if not TOOL_NAME_RE.match(self.name):
            raise ValueError(f"invalid tool name {self.name!r}: must match {TOOL_NAME_RE.pattern}")

    @property
    def mutating(self) -> bool:
        """True unless the tool explicitly declared ``read_only=True``."""
        return self.read_only is not True

    @property
    def needs_approval(self) -> bool:
        return self.mutating

    @property
    def is_async(self) -> bool:
        return inspect.iscoroutinefunction(self.handler)

    def openai_schema(self) -> dict[str, Any]:
        return {
            "type": "function",
            "function": {
                "name": self.name,
                "description": self.description,
                "parameters": self.parameters,
            },
        }

    def summary(self, args: dict[str, Any]) -> ActionSummary:
        if self.summarize is not None:
            return self.summarize(args)
        name = str(args.get("name") or args.get("pod_name") or args.get("deployment") or "")
        return ActionSummary(verb=self.name, kind="", name=name, namespace=args.get("namespace"))


class ToolSource(Protocol):
    """Tools from elsewhere (an MCP server), loaded on first use: :meth:`ToolRegistry.prepare`
    calls :meth:`load` once. ``load`` never raises for an expected failure: it returns no
    tools and says why in its notices (one line each, for the person)."""

    name: str

    async def load(self) -> tuple[list[Tool], list[str]]: ...


class ToolRegistry:
    """An ordered set of tools, unique by name, plus sources loaded on first use."""

    def __init__(self, tools: Iterable[Tool] = (), sources: Iterable[ToolSource] = ()) -> None:
        self._tools: dict[str, Tool] = {}
        self._sources: list[ToolSource] = list(sources)
        #: one load at a time: a run that starts while another loads waits for those tools
        self._loading = asyncio.Lock()
        for tool in tools:
            self.register(tool)

    async def prepare(self) -> list[str]:
        """Load the sources not loaded yet (each once; the loop calls this as a run starts).
        A source's tool never replaces one already here: it is left out with a notice.
        Returns the notices (a source that failed, a tool left out)."""
        notices: list[str] = []
        if not self._sources and not self._loading.locked():
            return notices
        async with self._loading:
            while self._sources:
                source = self._sources.pop(0)
                try:
                    tools, said = await source.load()
                except Exception as exc:  # noqa: BLE001 - a source's bug must not break the run
                    why = f"{type(exc).__name__}: {exc}"
                    notices.append(f"tools of {source.name} not loaded: {why}")
                    continue
                notices += said
                for tool in tools:
                    if tool.name in self._tools:
                        notices.append(
                            f"{source.name}: tool {tool.name!r} left out: the name is taken"
                        )
                        continue
                    self._tools[tool.name] = tool
        return notices

    def register(self, tool: Tool) -> Tool:
        if tool.name in self._tools:
            raise ValueError(f"tool {tool.name!r} registered twice")
        self._tools[tool.name] = tool
        return tool

    def get(self, name: str) -> Tool | None:
        return self._tools.get(name)

    def __contains__(self, name: object) -> bool:
        return name in self._tools

    def __iter__(self):
        return iter(self._tools.values())

    def __len__(self) -> int:
        return len(self._tools)

    def names(self, *, include_mutating: bool = True) -> list[str]:
        return [t.name for t in self if include_mutating or not t.mutating]

    def subset(self, names: Iterable[str]) -> ToolRegistry:
        """A registry holding only ``names`` (an agent's allowlist); unknown names are errors."""
        wanted = list(names)
        missing = [n for n in wanted if n not in self._tools]
        if missing:
            raise KeyError(f"unknown tools in allowlist: {', '.join(missing)}")
        return ToolRegistry(self._tools[n] for n in wanted)

    def offered(self, *, write_mode: bool) -> list[Tool]:
        """The tools the model may see: read-only ones, plus mutating ones in write mode."""
        return [t for t in self if write_mode or not t.mutating]

    def openai_tools(self, *, write_mode: bool) -> list[dict[str, Any]]:
        return [t.openai_schema() for t in self.offered(write_mode=write_mode)]
