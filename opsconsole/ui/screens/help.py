"""The help screen: every key (with its id, for remapping) and the slash commands."""

from __future__ import annotations

from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Static

SLASH_COMMANDS: list[tuple[str, str]] = [
    ("/clear", "start a new conversation (clears chat and trace)"),
    ("/model [NAME]", "show or switch the model"),
    ("/context [NAME]", "show or switch the Kubernetes context"),
    ("/ns [NAME|all]", "show or switch the namespace"),
    ("/write", "toggle write mode (mutating tools, each call approved)"),
    ("/help", "this help"),
]


def keys_table(rows: list[tuple[str, str, str, str]]) -> Table:
    table = Table(box=None, expand=True, pad_edge=False, show_header=True, header_style="bold")
    table.add_column("key", no_wrap=True)
    table.add_column("action")
    table.add_column("where", no_wrap=True, style="dim")
    table.add_column("id (for ui.keymap)", no_wrap=True, style="dim")
    for key, desc, where, bid in rows:
        table.add_row(key, desc, where, bid)
    return table


class HelpScreen(ModalScreen[None]):
    DEFAULT_CSS = """
    HelpScreen { align: center middle; }
    HelpScreen #help-dialog {
        width: 100; max-width: 100%; height: 34; max-height: 100%;
        border: thick $primary; background: $surface; padding: 0 1;
    }
    HelpScreen #help-body { height: 1fr; }
    HelpScreen #help-title { margin-bottom: 1; }
    """
    BINDINGS = [
        Binding(
            "escape,q,question_mark", "close", "Close", id="help.close", tooltip="Close the help"
        ),
    ]

    def __init__(self, rows: list[tuple[str, str, str, str]]) -> None:
        super().__init__(classes="help")
        self.rows = rows

    def compose(self) -> ComposeResult:
        with Vertical(id="help-dialog"):
            yield Static(Text("opsconsole — keys and commands", style="bold"), id="help-title")
            with VerticalScroll(id="help-body"):
                yield Static(keys_table(self.rows), id="help-keys")
                cmds = Table(box=None, expand=True, show_header=True, header_style="bold")
                cmds.add_column("chat command", no_wrap=True)
                cmds.add_column("does")
                for name, desc in SLASH_COMMANDS:
                    cmds.add_row(name, desc)
                yield Static(cmds, id="help-commands")
                yield Static(
                    Text(
                        "Remap any key in config.yaml under ui.keymap, e.g. "
                        "`ui: {keymap: {app.zoom: f6}}`. : or ctrl+p opens the command "
                        "palette (actions and themes).",
                        style="dim",
                    )
                )
            yield Static(Text("Esc / q to close", style="dim"))

    def action_close(self) -> None:
        self.dismiss(None)
