"""Modal screens: approval of a mutating call, and the full output of a tool call."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any, Literal

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Button, Static

Decision = Literal["approve", "approve_session", "decline"]


@dataclass(frozen=True)
class ApprovalView:
    """What the approval modal shows (built by the bridge from the core's request)."""

    tool: str
    verb: str
    target: str
    namespace: str | None
    context: str | None
    dry_run: str = ""
    arguments: dict[str, Any] = field(default_factory=dict)
    #: every mutating call of this model turn, as text, and this call's position in it
    batch: tuple[str, ...] = ()
    index: int = 0


class ApprovalModal(ModalScreen[Decision]):
    """Approve / Approve for this session / Decline one mutating call."""

    DEFAULT_CSS = """
    ApprovalModal { align: center middle; }
    ApprovalModal #approval-dialog {
        width: 90; max-width: 100%; height: auto; max-height: 100%;
        border: thick $warning; background: $surface; padding: 1 2;
    }
    ApprovalModal #approval-title { color: $text-warning; margin-bottom: 1; }
    ApprovalModal #approval-dry-run {
        height: auto; max-height: 12; background: $panel; padding: 0 1;
    }
    ApprovalModal #approval-buttons { height: auto; margin-top: 1; }
    ApprovalModal #approval-buttons Button { margin-right: 2; }
    """

    BINDINGS = [
        Binding(
            "a,y",
            "decide('approve')",
            "Approve",
            id="approval.approve",
            tooltip="Run this call once",
        ),
        Binding(
            "s",
            "decide('approve_session')",
            "Approve for session",
            id="approval.approve_session",
            tooltip="Run this and every later call of this tool in this session",
        ),
        Binding(
            "d,n,escape",
            "decide('decline')",
            "Decline",
            id="approval.decline",
            tooltip="Do not run it; the agent is told it was declined",
        ),
    ]

    def __init__(self, view: ApprovalView) -> None:
        super().__init__(classes="approval")
        self.view = view

    def compose(self) -> ComposeResult:
        v = self.view
        with Vertical(id="approval-dialog"):
            yield Static(
                Text("Approve a change to the cluster?", style="bold"), id="approval-title"
            )
            facts = Text()
            for label, value in (
                ("verb", v.verb),
                ("object", v.target),
                ("namespace", v.namespace or "—"),
                ("context", v.context or "—"),
                ("tool", v.tool),
                ("arguments", json.dumps(v.arguments, ensure_ascii=False)),
            ):
                facts.append(f"{label:>10}  ", style="dim")
                facts.append(f"{value}\n", style="bold" if label in ("verb", "context") else "")
            yield Static(facts, id="approval-facts", markup=False)
            if len(v.batch) > 1:
                pending = Text(f"call {v.index + 1} of {len(v.batch)} in this turn:\n", "dim")
                for number, line in enumerate(v.batch):
                    mark = "▶ " if number == v.index else "  "
                    pending.append(f"{mark}{line}\n", style="bold" if number == v.index else "")
                yield Static(pending, id="approval-batch", markup=False)
            if v.dry_run:
                yield Static(Text("server-side dry run", style="dim"), classes="label")
                with VerticalScroll(id="approval-dry-run"):
                    yield Static(v.dry_run, markup=False)
            with Horizontal(id="approval-buttons"):
                yield Button("Approve (a)", id="approve", variant="warning")
                yield Button("Approve for this session (s)", id="approve_session")
                yield Button("Decline (d)", id="decline", variant="primary")

    def on_mount(self) -> None:
        self.query_one("#decline", Button).focus()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        self.action_decide(str(event.button.id))

    def action_decide(self, decision: str) -> None:
        if decision not in ("approve", "approve_session", "decline"):
            decision = "decline"
        self.dismiss(decision)  # type: ignore[arg-type]


class OutputModal(ModalScreen[None]):
    """The whole observation of a tool call (or a describe), scrollable."""

    DEFAULT_CSS = """
    OutputModal { align: center middle; }
    OutputModal #output-dialog {
        width: 100; max-width: 100%; height: 34; max-height: 100%;
        border: thick $primary; background: $surface; padding: 0 1;
    }
    OutputModal #output-body { height: 1fr; }
    OutputModal #output-title { margin-bottom: 1; }
    """

    BINDINGS = [
        Binding("escape,q", "close", "Close", id="output.close", tooltip="Close this window"),
    ]

    def __init__(self, title: str, text: str) -> None:
        super().__init__(classes="output")
        self.title_text = title
        self.text = text

    def compose(self) -> ComposeResult:
        with Vertical(id="output-dialog"):
            yield Static(Text(self.title_text, style="bold"), id="output-title", markup=False)
            with VerticalScroll(id="output-body"):
                yield Static(Text(self.text), markup=False, id="output-text")
            yield Static(Text("Esc / q to close · arrows / PgUp / PgDn scroll", style="dim"))

    def on_mount(self) -> None:
        self.query_one("#output-body").focus()

    def action_close(self) -> None:
        self.dismiss(None)


class ContainerPickerModal(ModalScreen[str | None]):
    """Pick the container whose log to show."""

    DEFAULT_CSS = """
    ContainerPickerModal { align: center middle; }
    ContainerPickerModal #containers-dialog {
        width: 40; height: auto; max-height: 20;
        border: thick $primary; background: $surface; padding: 0 1;
    }
    ContainerPickerModal #containers-list { height: auto; max-height: 16; }
    """

    BINDINGS = [
        Binding("escape", "close", "Close", id="containers.close", tooltip="Keep the current one"),
    ]

    def __init__(self, containers: list[str], current: str | None) -> None:
        super().__init__(classes="containers")
        self.containers = containers
        self.current = current

    def compose(self) -> ComposeResult:
        from textual.widgets import OptionList

        with Vertical(id="containers-dialog"):
            yield Static(Text("Container", style="bold"))
            yield OptionList(*self.containers, id="containers-list")

    def on_mount(self) -> None:
        options = self.query_one("#containers-list")
        if self.current in self.containers:
            options.highlighted = self.containers.index(self.current)  # type: ignore[attr-defined]
        options.focus()

    def on_option_list_option_selected(self, event: Any) -> None:
        self.dismiss(self.containers[event.option_index])

    def action_close(self) -> None:
        self.dismiss(None)
