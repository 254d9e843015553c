"""The alerts view: Alertmanager's firing alerts, most urgent first (severity, name, target,
age, summary); Enter starts an investigation of one, Esc closes."""

from __future__ import annotations

import time
from datetime import datetime
from typing import Any

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import OptionList, Static
from textual.widgets.option_list import Option

from opsconsole.duration import human_duration

SEVERITY_STYLE = {"critical": "bold red", "error": "red", "warning": "yellow", "info": "cyan"}


def _age(starts_at: str, now: float) -> str:
    try:
        started = datetime.fromisoformat(starts_at.replace("Z", "+00:00")).timestamp()
    except ValueError:
        return "?"
    return human_duration(max(now - started, 0))


def alert_label(alert: Any, now: float) -> Text:
    """One line: severity, name, target, age, summary."""
    line = Text(no_wrap=True, overflow="ellipsis")
    sev = alert.severity or "-"
    line.append(f"{sev:9}", style=SEVERITY_STYLE.get(sev, "dim"))
    line.append(f" {alert.name:32}", style="bold")
    line.append(f" {(alert.target or '-')[:44]:44}")
    line.append(f" {_age(alert.starts_at, now):>7}", style="dim")
    summary = " ".join(alert.annotations.get("summary", "").split())
    if summary:
        line.append(f"  {summary}", style="dim")
    return line


class AlertsModal(ModalScreen[Any]):
    """Pick a firing alert; the result is the alert (or None)."""

    BINDINGS = [
        Binding("escape", "dismiss_none", "Close", id="alerts.close", tooltip="Close"),
    ]
    DEFAULT_CSS = """
    AlertsModal { align: center middle; }
    AlertsModal > Vertical {
        width: 130; max-width: 95%; height: 24; max-height: 90%;
        border: round $error; background: $surface; padding: 0 1;
    }
    AlertsModal #alerts-title { text-style: bold; padding-bottom: 1; }
    AlertsModal OptionList { height: 1fr; }
    """

    def __init__(self, alerts: list[Any], *, now: float | None = None) -> None:
        super().__init__()
        self.alerts = alerts
        self.now = time.time() if now is None else now

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Static(
                f"Firing alerts ({len(self.alerts)}) — Enter investigates the alert, Esc closes",
                id="alerts-title",
            )
            if self.alerts:
                yield OptionList(
                    *[
                        Option(alert_label(a, self.now), id=str(i))
                        for i, a in enumerate(self.alerts)
                    ],
                    id="alerts-list",
                )
            else:
                yield Static("No alert is firing.", id="alerts-empty")

    def on_mount(self) -> None:
        for option_list in self.query(OptionList):
            option_list.focus()

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        self.dismiss(self.alerts[int(event.option.id or 0)])

    def action_dismiss_none(self) -> None:
        self.dismiss(None)
