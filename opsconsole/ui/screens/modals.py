"""Modal screens: approval of a mutating call, and the full output of a tool call.

The approval window arms before it listens (the user may be typing a follow-up question
when it opens: the ``a`` of "explain" must not approve a delete). Until it has been on screen
for ``ui.approval_arm_ms`` with no key pressed, its buttons are disabled, nothing in it has the
focus and every key goes on to the chat input (``forward``), where the text stays; it says
so on screen. Once armed, its keys decide; a printable key that decides nothing (typing
resumed) disarms it again and goes to the chat input too.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal

from rich.text import Text
from textual import events
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
    #: what "approve for this session" would let through from now on ("" if not offered)
    standing: str = ""
    #: the unified diff live -> dry run result, and what else the change touches
    diff: str = ""
    blast_radius: str = ""
    #: what the person must type before Approve works (a namespace's name; "" none)
    confirm: str = ""


def diff_text(diff: str) -> Text:
    """A unified diff coloured: added lines green, removed red, hunks and headers dim."""
    out = Text()
    for line in diff.splitlines():
        if line.startswith(("+++", "---")):
            style = "bold"
        elif line.startswith("+"):
            style = "green"
        elif line.startswith("-"):
            style = "red"
        elif line.startswith("@@"):
            style = "cyan"
        else:
            style = ""
        out.append(line + "\n", style=style)
    out.rstrip()
    return out


class ArmingGate:
    """Armed once ``delay`` seconds have passed since :meth:`start` and since the last
    :meth:`key`. ``clock`` is injectable (tests)."""

    def __init__(self, delay: float, clock: Callable[[], float] = time.monotonic) -> None:
        self.delay = delay
        self.clock = clock
        self._quiet_since: float | None = None

    def start(self) -> None:
        """The window is on screen (again): count from now."""
        self._quiet_since = self.clock()

    def key(self) -> None:
        """A key was pressed: the quiet period starts over."""
        if self._quiet_since is not None:
            self._quiet_since = self.clock()

    def remaining(self) -> float:
        if self._quiet_since is None:
            return self.delay
        return max(0.0, self._quiet_since + self.delay - self.clock())

    @property
    def armed(self) -> bool:
        return self._quiet_since is not None and self.remaining() == 0.0


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
    ApprovalModal #approval-diff {
        height: auto; max-height: 14; background: $panel; padding: 0 1;
    }
    ApprovalModal #approval-blast { color: $text-warning; margin-top: 1; }
    ApprovalModal #approval-confirm { margin-top: 1; }
    ApprovalModal #approval-buttons { height: auto; margin-top: 1; }
    ApprovalModal #approval-buttons Button { margin-right: 2; }
    ApprovalModal #approval-arming { margin-top: 1; color: $text-warning; }
    ApprovalModal.-armed #approval-arming { color: $text-muted; }
    """

    #: nothing has the focus while arming (keys reach on_key, then the chat input)
    AUTO_FOCUS = ""

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
            tooltip="Run this call, and later the same kind of change to this object, until "
            "you leave write mode",
        ),
        Binding(
            "d,n,escape",
            "decide('decline')",
            "Decline",
            id="approval.decline",
            tooltip="Do not run it; the agent is told it was declined",
        ),
    ]

    def __init__(
        self,
        view: ApprovalView,
        *,
        arm_delay: float = 1.0,
        forward: Callable[[events.Key], str | None] | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        super().__init__(classes="approval")
        self.view = view
        self.gate = ArmingGate(arm_delay, clock)
        #: takes a key for the chat input; returns the input's text after it
        self.forward = forward
        self.armed = False
        #: the chat input's text after the last key passed on to it (None: none passed on)
        self.kept: str | None = None

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
            if v.diff:
                yield Static(Text("diff: live → after the change", style="dim"), classes="label")
                with VerticalScroll(id="approval-diff"):
                    yield Static(diff_text(v.diff), markup=False)
            if v.blast_radius:
                yield Static(
                    Text.assemble(("blast radius: ", "bold"), v.blast_radius),
                    id="approval-blast",
                    markup=False,
                )
            if v.confirm:
                from textual.widgets import Input

                yield Static(
                    Text.assemble("Type ", (v.confirm, "bold"), " to approve this deletion:"),
                    markup=False,
                )
                yield Input(placeholder=v.confirm, id="approval-confirm", disabled=True)
            with Horizontal(id="approval-buttons"):
                yield Button("Approve (a)", id="approve", variant="warning", disabled=True)
                if not v.confirm:
                    yield Button(
                        "Approve for this session (s)", id="approve_session", disabled=True
                    )
                yield Button("Decline (d)", id="decline", variant="primary", disabled=True)
            if v.standing:
                yield Static(
                    Text.assemble(
                        ("for this session: ", "dim"),
                        v.standing,
                        (" (until you leave write mode; nothing else)", "dim"),
                    ),
                    id="approval-standing",
                    markup=False,
                )
            yield Static(self._arming_text(), id="approval-arming", markup=False)

    def on_mount(self) -> None:
        # the quiet period counts from the first frame that shows this window
        self.call_after_refresh(self._start_arming)

    def _start_arming(self) -> None:
        self.gate.start()
        self._schedule()

    def _schedule(self) -> None:
        self.set_timer(max(self.gate.remaining(), 0.01), self._tick)

    def _tick(self) -> None:
        if self.armed:
            return
        if self.gate.armed:
            self._set_armed(True)
        else:
            self._schedule()

    @property
    def confirmed(self) -> bool:
        """Whether what must be typed (if anything) has been typed."""
        if not self.view.confirm:
            return True
        from textual.widgets import Input

        return self.query_one("#approval-confirm", Input).value == self.view.confirm

    def _set_armed(self, armed: bool) -> None:
        self.armed = armed
        self.set_class(armed, "-armed")
        for button in self.query(Button):
            button.disabled = not armed or (button.id == "approve" and not self.confirmed)
        if self.view.confirm:
            from textual.widgets import Input

            field = self.query_one("#approval-confirm", Input)
            field.disabled = not armed
            if armed:
                field.focus()
        if armed and not self.view.confirm:
            self.query_one("#decline", Button).focus()
        elif not armed:
            self.set_focus(None)
        self.query_one("#approval-arming", Static).update(self._arming_text())

    def on_input_changed(self, event: Any) -> None:
        event.stop()
        self.query_one("#approve", Button).disabled = not (self.armed and self.confirmed)

    def on_input_submitted(self, event: Any) -> None:
        event.stop()
        if self.confirmed:
            self.action_decide("approve")

    def _arming_text(self) -> Text:
        if self.armed and self.view.confirm:
            return Text(f"Ready: type {self.view.confirm} and Enter to approve · Esc decline")
        if self.armed:
            return Text("Ready: a approve · s approve for this session · d / Esc decline")
        seconds = f"{self.gate.delay:g} s"
        text = Text(f"⏳ Arming: these keys work once you have not typed for {seconds}. ")
        text.append("What you type meanwhile goes to the chat input.")
        if self.kept:
            shown = self.kept if len(self.kept) <= 40 else "…" + self.kept[-39:]
            text.append(f"\nin the chat input: {shown}", style="bold")
        return text

    def _decides(self, key: str) -> bool:
        return key in self.active_bindings

    async def on_key(self, event: events.Key) -> None:
        """Before the window is armed every key goes on to the chat input; after, a
        printable key that decides nothing means typing resumed: it disarms the window."""
        if self.armed and not (event.is_printable and not self._decides(event.key)):
            return  # a decision key, Tab, Enter on a button...: the bindings handle it
        event.stop()
        event.prevent_default()
        if self.armed:
            self._set_armed(False)
            self.gate.start()
            self._schedule()
        else:
            self.gate.key()
        if self.forward is not None and event.key != "escape":
            self.kept = self.forward(event)
        self.query_one("#approval-arming", Static).update(self._arming_text())

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "decide" and not self.armed:
            return None  # listed, but inert while arming
        if action == "decide" and self.view.confirm and parameters != ("decline",):
            return None  # approving takes the typed name (Enter in the field)
        return True

    def on_button_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        self.action_decide(str(event.button.id))

    def action_decide(self, decision: str) -> None:
        if not self.armed:
            return
        if decision not in ("approve", "approve_session", "decline"):
            decision = "decline"
        if (
            self.view.confirm
            and decision != "decline"
            and not (decision == "approve" and self.confirmed)
        ):
            return  # nothing but the typed name approves this one
        self.dismiss(decision)  # type: ignore[arg-type]


class OutputModal(ModalScreen[None]):
    """The whole observation of a tool call (or a describe), or a whole answer (``markdown``),
    scrollable. Drawn on demand (:class:`~opsconsole.ui.widgets.text_view.TextView`): a 5 MB
    text opens as fast as a short one."""

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

    def __init__(self, title: str, text: str, *, markdown: bool = False) -> None:
        super().__init__(classes="output")
        self.title_text = title
        self.text = text
        self.markdown = markdown

    def compose(self) -> ComposeResult:
        from opsconsole.ui.widgets.text_view import TextView

        body = TextView(id="output-body")
        body.load(self.text, markdown=self.markdown)
        with Vertical(id="output-dialog"):
            yield Static(Text(self.title_text, style="bold"), id="output-title", markup=False)
            yield body
            yield Static(
                Text("Esc / q to close · arrows / PgUp / PgDn / Home / End scroll", style="dim")
            )

    @property
    def body(self) -> Any:
        from opsconsole.ui.widgets.text_view import TextView

        return self.query_one("#output-body", TextView)

    def on_mount(self) -> None:
        self.body.focus()

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
