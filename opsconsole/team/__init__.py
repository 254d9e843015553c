"""The specialist agents of the multi-agent team: Ops, Coder and Security.

A :class:`Specialist` is data: a name, a tool allowlist, whether it is forced read-only, and
its prompt (zh + en, in :mod:`opsconsole.agent.prompts.specialists_zh` / ``_en``). It has no I/O
of its own: :func:`build_team_tools` builds the extra tools the team needs (``security_scan``,
``get_alerts``, ``generate_manifest``, ``validate_manifest``, ``review_manifest``) and
:meth:`Specialist.registry` cuts a specialist's own registry out of the full one. A tool outside
the allowlist is not in that registry, so the agent loop refuses a call to it
("unknown tool") and never runs it (RELIABILITY S13).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from opsconsole.agent.prompts import Language, build_system_prompt
from opsconsole.agent.tools import Tool, ToolRegistry

if TYPE_CHECKING:  # pragma: no cover
    from opsconsole.config import Settings
    from opsconsole.k8s.client import Cluster

AGENT_NAMES = ("ops", "security", "coder")


@dataclass(frozen=True)
class Specialist:
    name: str
    #: one line for the scheduler's ``ask_<name>`` tool
    description: str
    allowlist: tuple[str, ...]
    #: True: never offered mutating tools, whatever the session's write mode (Security)
    read_only: bool = False

    @property
    def tool_name(self) -> str:
        return f"ask_{self.name}"

    def registry(self, full: ToolRegistry) -> ToolRegistry:
        """The specialist's own registry: the allowlisted tools ``full`` holds, nothing else."""
        tools = [t for n in self.allowlist if (t := full.get(n)) is not None]
        if self.read_only:
            tools = [t for t in tools if not t.mutating]
        return ToolRegistry(tools)

    def write_mode(self, session_write_mode: bool) -> bool:
        return False if self.read_only else session_write_mode

    def prompt(
        self,
        language: Language,
        tools: Iterable[Tool],
        *,
        write_mode: bool = False,
        context: str | None = None,
        namespace: str | None = None,
    ) -> str:
        return team_prompt(
            self.name,
            language,
            tools,
            write_mode=self.write_mode(write_mode),
            context=context,
            namespace=namespace,
        )


def team_prompt(
    agent: str,
    language: Language,
    tools: Iterable[Tool],
    *,
    write_mode: bool = False,
    context: str | None = None,
    namespace: str | None = None,
) -> str:
    """The system prompt of ``agent`` (scheduler, ops, security, coder) in ``language``."""
    from opsconsole.agent.prompts import specialists_en, specialists_zh

    t = specialists_zh if language == "zh" else specialists_en
    extra = t.RULES[agent]
    if agent != "scheduler":
        extra += "\n" + t.DELEGATED
    text = build_system_prompt(
        language,
        tools,
        write_mode=write_mode,
        agent=agent,
        context=context,
        namespace=namespace,
        extra=extra,
    )
    first, _, rest = text.partition("\n")
    return t.ROLES[agent] + "\n" + rest


def specialists() -> dict[str, Specialist]:
    from opsconsole.team.coder import CODER
    from opsconsole.team.ops import OPS
    from opsconsole.team.security import SECURITY

    return {s.name: s for s in (OPS, SECURITY, CODER)}


def build_team_tools(
    cluster: Cluster | None, settings: Settings, *, namespace: str | None = None
) -> list[Tool]:
    """The team's tools besides the Kubernetes ones (see the module docstring)."""
    from opsconsole.team.coder import coder_tools
    from opsconsole.team.ops import ops_tools
    from opsconsole.team.security import security_tools

    ns = namespace or settings.kubernetes.namespace
    return [
        *ops_tools(cluster, settings),
        *security_tools(cluster, settings),
        *coder_tools(cluster, settings, namespace=ns),
    ]


def build_full_registry(
    cluster: Cluster | None, settings: Settings, *, namespace: str | None = None
) -> ToolRegistry:
    """The Kubernetes tools plus the team's tools; specialists take their subsets from it."""
    from opsconsole.k8s.tools import build_k8s_tools

    return ToolRegistry(
        [
            *build_k8s_tools(cluster, settings),
            *build_team_tools(cluster, settings, namespace=namespace),
        ]
    )


__all__ = [
    "AGENT_NAMES",
    "Specialist",
    "build_full_registry",
    "build_team_tools",
    "specialists",
    "team_prompt",
]
