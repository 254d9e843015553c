"""The sessions picker: recorded sessions, newest first; Enter resumes one, Esc closes."""

from __future__ import annotations

from typing import Any

from rich.cells import cell_len
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import OptionList, Static
from textual.widgets.option_list import Option


def _clip(text: str, cells: int) -> str:
    out = ""
    for ch in text.replace("\n", " "):
        if cell_len(out + ch) > cells - 1:
            return out + "…"
        out += ch
    return out


def session_label(summary: Any) -> Text:
    """One line: date, question, model, steps, tokens, outcome."""
    started = str(summary.started or "")[:16].replace("T", " ")
    question = _clip(str(summary.question or "(no question)"), 34)
    line = Text(no_wrap=True, overflow="ellipsis")  # one row per session, never two
    line.append(f"{started:16}  ", style="dim")
    line.append(question + " " * max(0, 35 - cell_len(question)))
    line.append(f" {str(summary.model)[:14]:14}", style="dim")
    line.append(f" {summary.steps:>3} steps {summary.tokens:>7,} tok ", style="dim")
    style = {"answered": "green", "failed": "red", "damaged": "red", "unreadable": "red"}
    line.append(str(summary.outcome), style=style.get(summary.outcome, "yellow"))
    return line


class SessionsModal(ModalScreen["str | None"]):
    """Pick a recorded session; the result is its file path (or None)."""

    BINDINGS = [
        Binding("escape", "dismiss_none", "Close", id="sessions.close", tooltip="Close"),
    ]
    DEFAULT_CSS = """
    SessionsModal { align: center middle; }
    SessionsModal > Vertical {
        width: 110; max-width: 95%; height: 24; max-height: 90%;
        border: round $primary; background: $surface; padding: 0 1;
    }
    SessionsModal #sessions-title { text-style: bold; padding-bottom: 1; }
    SessionsModal OptionList { height: 1fr; }
    """

    def __init__(self, summaries: list[Any]) -> None:
        super().__init__()
        # sessions where nothing was asked (every launch records one) are not worth resuming
        self.summaries = [
            s for s in summaries if s.path and not (s.outcome == "empty" and not s.question)
        ]

    def compose(self) -> ComposeResult:
        with Vertical():
            count = len(self.summaries)
            yield Static(
                f"Sessions ({count}) — Enter resumes the session here, Esc closes",
                id="sessions-title",
            )
            if self.summaries:
                yield OptionList(
                    *[Option(session_label(s), id=str(i)) for i, s in enumerate(self.summaries)],
                    id="sessions-list",
                )
            else:
                yield Static("No recorded sessions yet.", id="sessions-empty")

    def on_mount(self) -> None:
        for option_list in self.query(OptionList):
            option_list.focus()

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        index = int(event.option.id or 0)
        self.dismiss(str(self.summaries[index].path))

    def action_dismiss_none(self) -> None:
        self.dismiss(None)
