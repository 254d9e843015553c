"""Slash commands (chat), command-palette actions and the key list for the help screen."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import TYPE_CHECKING, Any

from textual.app import SystemCommand
from textual.binding import Binding

if TYPE_CHECKING:
    from opsconsole.ui.app import OpsConsoleApp


SLASH_HELP = (
    "/clear — new conversation · /model [NAME] · /context [NAME] · /ns [NAME|all] · "
    "/write — toggle write mode · /sessions — resume a recorded session · "
    "/mcp — MCP servers · /help"
)


async def run_slash(app: OpsConsoleApp, text: str) -> None:
    """Run one slash command typed in the chat."""
    chat = app.main.chat
    name, _, rest = text.strip().partition(" ")
    arg = rest.strip()
    name = name.lower()
    bridge = app.bridge
    if name == "/clear":
        await bridge.clear()
    elif name == "/help":
        await chat.add_notice(SLASH_HELP)
        app.action_help()
    elif name == "/sessions":
        await bridge.pick_session()
    elif name == "/mcp":
        await chat.add_notice(mcp_status(app.backend))
    elif name == "/write":
        await bridge.set_write_mode(not app.main.status.write_mode)
    elif name == "/model":
        if not arg:
            await chat.add_notice(f"model: {app.main.status.model}. Use /model NAME to switch.")
        else:
            await bridge.set_model(arg)
    elif name == "/context":
        if not arg:
            contexts = bridge.contexts()
            listed = ", ".join(contexts) if contexts else "none"
            await chat.add_notice(
                f"context: {app.main.status.context} (available: {listed}). "
                "Use /context NAME to switch."
            )
        else:
            await bridge.switch_context(arg)
    elif name == "/ns":
        if not arg:
            await chat.add_notice(
                f"namespace: {app.main.status.namespace}. Use /ns NAME or /ns all."
            )
        else:
            await bridge.switch_namespace(arg)
    else:
        await chat.add_notice(f"unknown command {name}. {SLASH_HELP}", "warning")


def mcp_status(backend: Any) -> str:
    """``/mcp``: each server of ``mcp.servers`` with its state and how many tools it gave."""
    hub = getattr(getattr(backend, "runtime", None), "mcp", None)
    if hub is None:
        return "no MCP servers configured (add them under mcp.servers in the config)"
    lines = ["MCP servers (started when the agent first lists its tools):"]
    for s in hub.status():
        tools = f", {s.tools} tools" if s.state == "ready" else ""
        why = f": {s.reason}" if s.reason and s.state in ("failed", "exited") else ""
        lines.append(f"  {s.name} ({s.transport}): {s.state}{tools}{why}")
    return "\n".join(lines)


def palette_commands(app: OpsConsoleApp) -> Iterator[SystemCommand]:
    """The main actions, offered in the command palette (next to Textual's Theme command)."""
    yield SystemCommand("Ask the agent", "Focus the chat input", app.action_focus_chat)
    if app.bridge.running:
        yield SystemCommand("Stop the agent", "Cancel the running task (Esc)", app.bridge.stop)
    yield SystemCommand(
        "Toggle write mode",
        "Offer mutating tools to the agent (each call still needs your approval)",
        app.action_toggle_write,
    )
    yield SystemCommand("Zoom pane", "Zoom the focused pane / restore (z)", app.action_zoom)
    yield SystemCommand("Help", "Keys and chat commands (?)", app.action_help)
    yield SystemCommand(
        "New conversation", "Clear the chat, the trace and the agent's memory", app.bridge.clear
    )
    yield SystemCommand(
        "Sessions", "Pick a recorded session and continue it here", app.bridge.pick_session
    )
    yield SystemCommand(
        "All namespaces", "Show pods of every namespace", lambda: app.bridge.switch_namespace("all")
    )
    ns = app.settings.kubernetes.namespace
    yield SystemCommand(
        f"Namespace {ns}",
        "Show pods of the configured namespace",
        lambda: app.bridge.switch_namespace(ns),
    )
    for pane, label in (
        ("#pod-list", "Pods"),
        ("#log-view", "Logs"),
        ("#trace", "Trace"),
        ("#chat-input", "Chat"),
    ):
        yield SystemCommand(
            f"Focus {label}", f"Move the focus to the {label} pane", _focus(app, pane)
        )


def _focus(app: OpsConsoleApp, selector: str) -> Any:
    def focus() -> None:
        for widget in app.main.query(selector):
            if widget.focusable:
                widget.focus()
            else:
                app.main.set_focus(next((w for w in widget.query("*") if w.focusable), None))
            return

    return focus


def _binding_classes(app: object | None = None) -> list[tuple[str, type]]:
    from opsconsole.ui.app import OpsConsoleApp
    from opsconsole.ui.replay import ReplayApp
    from opsconsole.ui.screens.main import MainScreen
    from opsconsole.ui.screens.modals import ApprovalModal, OutputModal
    from opsconsole.ui.widgets.chat import ChatInput, ChatLog, ChatPane
    from opsconsole.ui.widgets.trace import TracePane
    from opsconsole.ui.widgets.virtual_list import VirtualList

    classes: list[tuple[str, type]] = [("everywhere", OpsConsoleApp), ("everywhere", MainScreen)]
    classes += [("chat", ChatInput), ("chat", ChatPane), ("chat", ChatLog)]
    classes += [("trace", TracePane), ("chat, trace, output", VirtualList)]
    from opsconsole.ui.screens.help import HelpScreen
    from opsconsole.ui.screens.modals import ContainerPickerModal
    from opsconsole.ui.screens.sessions import SessionsModal
    from opsconsole.ui.widgets.log_body import LogBody
    from opsconsole.ui.widgets.log_view import LogView
    from opsconsole.ui.widgets.pod_list import PodList
    from opsconsole.ui.widgets.virtual_table import VirtualTable

    classes += [("pods", PodList), ("pods", VirtualTable), ("logs", LogView), ("logs", LogBody)]
    classes += [("approval", ApprovalModal), ("output", OutputModal)]
    classes += [("containers", ContainerPickerModal), ("sessions", SessionsModal)]
    classes += [("help", HelpScreen)]
    if app is None or isinstance(app, ReplayApp):
        classes.append(("replay", ReplayApp))
    return classes


def _bindings(cls: type) -> Iterable[Binding]:
    for item in getattr(cls, "BINDINGS", []):
        if isinstance(item, Binding):
            yield item
        elif isinstance(item, tuple) and len(item) >= 2:
            yield Binding(*item)


def known_binding_ids() -> set[str]:
    """Every binding id a user may remap in ``ui.keymap``."""
    return {b.id for _, cls in _binding_classes() for b in _bindings(cls) if b.id}


def keymap_problems(keymap: dict[str, str]) -> list[str]:
    """One line per ``ui.keymap`` entry that names no binding (F1 lists the ids)."""
    import difflib

    known = known_binding_ids()
    problems = []
    for key in keymap:
        if key in known:
            continue
        close = difflib.get_close_matches(key, sorted(known), n=1)
        hint = f"; did you mean {close[0]}?" if close else ""
        problems.append(f"ui.keymap.{key}: no such binding id{hint} (F1 lists the ids)")
    return problems


def help_rows(app: OpsConsoleApp) -> list[tuple[str, str, str, str]]:
    """(keys, description, where, id) for every binding, with the user's keymap applied."""
    keymap = dict(app.settings.ui.keymap)
    rows: list[tuple[str, str, str, str]] = [
        ("ctrl+q", "Quit", "everywhere", "—"),
    ]
    for where, cls in _binding_classes(app):
        for binding in _bindings(cls):
            key = keymap.get(binding.id or "", binding.key)
            desc = binding.tooltip or binding.description or binding.action
            rows.append((_pretty(key), desc, where, binding.id or "—"))
    return rows


def _pretty(keys: str) -> str:
    names = {
        "question_mark": "?",
        "colon": ":",
        "slash": "/",
        "escape": "esc",
        "enter": "⏎",
        "pageup": "PgUp",
        "pagedown": "PgDn",
    }
    return " ".join(names.get(k.strip(), k.strip()) for k in keys.split(","))
