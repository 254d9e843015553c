"""The agent tree, built from the event stream (headless; for the console's trace, ``ask`` and
session replay): Scheduler -> specialists -> their steps, with tokens and time per agent.

    tree = AgentTree()
    for event in events:          # as they arrive, in any interleaving
        tree.feed(event)
    tree.render()                 # text, one line per agent run
    tree.tokens_by_agent()        # {"scheduler": (prompt, completion), "security": ...}

Links come from ``AgentDispatched`` (parent run, tool_call_id, child run) and from the child's
``RunStarted.parent_run_id``; either may arrive first. A cancelled parent marks its still
running children cancelled (their own ``RunCancelled`` cannot be yielded during a cancel).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from opsconsole.agent.events import (
    AgentDispatched,
    AgentEvent,
    RunCancelled,
    RunFailed,
    RunFinished,
    RunStarted,
    StepStarted,
    ToolCallFinished,
    ToolCallStarted,
    UsageReported,
)


@dataclass
class ToolStep:
    tool_call_id: str
    tool: str
    status: str = "running"
    duration: float = 0.0


@dataclass
class AgentNode:
    run_id: str
    agent: str = ""
    task: str = ""
    model: str = ""
    parent_run_id: str | None = None
    #: the parent's ask_* call that started this run (None: addressed directly / top level)
    tool_call_id: str | None = None
    #: running | finished | failed | cancelled
    status: str = "running"
    started: float = 0.0
    duration: float = 0.0
    steps: int = 0
    prompt_tokens: int = 0
    completion_tokens: int = 0
    error: str = ""
    tools: dict[str, ToolStep] = field(default_factory=dict)
    children: list[str] = field(default_factory=list)

    @property
    def tokens(self) -> int:
        return self.prompt_tokens + self.completion_tokens


class AgentTree:
    def __init__(self) -> None:
        self.nodes: dict[str, AgentNode] = {}
        self._links: dict[str, tuple[str, str | None]] = {}
        self.order: list[str] = []

    def _node(self, run_id: str) -> AgentNode:
        node = self.nodes.get(run_id)
        if node is None:
            node = AgentNode(run_id=run_id)
            self.nodes[run_id] = node
            self.order.append(run_id)
        return node

    def _link(self, child: str, parent: str | None, tool_call_id: str | None) -> None:
        node = self._node(child)
        if parent and node.parent_run_id is None:
            node.parent_run_id = parent
        if tool_call_id and node.tool_call_id is None:
            node.tool_call_id = tool_call_id
        if parent:
            pnode = self._node(parent)
            if child not in pnode.children:
                pnode.children.append(child)

    def feed(self, ev: AgentEvent) -> None:
        if not ev.run_id:
            return
        if isinstance(ev, AgentDispatched):
            self._node(ev.run_id).agent = ev.agent
            child = self._node(ev.child_run_id)
            child.agent = child.agent or ev.target
            child.task = child.task or ev.task
            self._link(ev.child_run_id, ev.run_id, ev.tool_call_id)
            return
        node = self._node(ev.run_id)
        node.agent = node.agent or ev.agent
        if isinstance(ev, RunStarted):
            node.task, node.model, node.started = ev.task, ev.model, ev.ts
            node.status = "running"
            if ev.parent_run_id:
                self._link(ev.run_id, ev.parent_run_id, None)
        elif isinstance(ev, StepStarted):
            node.steps = max(node.steps, ev.step)
        elif isinstance(ev, UsageReported):
            node.prompt_tokens += ev.prompt_tokens
            node.completion_tokens += ev.completion_tokens
        elif isinstance(ev, ToolCallStarted):
            node.tools[ev.tool_call_id] = ToolStep(ev.tool_call_id, ev.tool)
        elif isinstance(ev, ToolCallFinished):
            step = node.tools.setdefault(ev.tool_call_id, ToolStep(ev.tool_call_id, ev.tool))
            step.status, step.duration = ev.status, ev.duration
        elif isinstance(ev, RunFinished):
            node.status = "finished"
            node.duration = ev.duration or max(0.0, ev.ts - node.started)
        elif isinstance(ev, RunFailed):
            node.status, node.error = "failed", ev.error
            node.duration = max(0.0, ev.ts - node.started) if node.started else 0.0
        elif isinstance(ev, RunCancelled):
            self._cancel(node, ev.ts)

    def _cancel(self, node: AgentNode, ts: float) -> None:
        if node.status == "running":
            node.status = "cancelled"
            node.duration = max(0.0, ts - node.started) if node.started else 0.0
            for step in node.tools.values():
                if step.status == "running":
                    step.status = "cancelled"
        for child in node.children:
            self._cancel(self.nodes[child], ts)

    # -- reading ------------------------------------------------------------------------------

    def roots(self) -> list[AgentNode]:
        return [self.nodes[r] for r in self.order if self.nodes[r].parent_run_id is None]

    def children(self, run_id: str) -> list[AgentNode]:
        return [self.nodes[c] for c in self.nodes[run_id].children]

    def tokens_by_agent(self) -> dict[str, tuple[int, int]]:
        out: dict[str, tuple[int, int]] = {}
        for n in self.nodes.values():
            p, c = out.get(n.agent, (0, 0))
            out[n.agent] = (p + n.prompt_tokens, c + n.completion_tokens)
        return out

    def render(self) -> str:
        """One line per agent run, indented under its parent."""
        marks = {"running": "…", "finished": "✓", "failed": "✗", "cancelled": "⊘"}
        lines: list[str] = []

        def walk(node: AgentNode, prefix: str, last: bool, top: bool) -> None:
            tools = ", ".join(
                f"{s.tool}{'' if s.status == 'ok' else ' [' + s.status + ']'}"
                for s in node.tools.values()
            )
            head = "" if top else prefix + ("└─ " if last else "├─ ")
            tok = f"{node.tokens / 1000:.1f}k tok" if node.tokens >= 1000 else f"{node.tokens} tok"
            lines.append(
                f"{head}{node.agent} {marks.get(node.status, '?')} ({node.duration:.1f}s, {tok})"
                + (f": {tools}" if tools else "")
            )
            kids = self.children(node.run_id)
            for i, kid in enumerate(kids):
                walk(
                    kid,
                    "" if top else prefix + ("   " if last else "│  "),
                    i == len(kids) - 1,
                    False,
                )

        for root in self.roots():
            walk(root, "", True, True)
        return "\n".join(lines)
