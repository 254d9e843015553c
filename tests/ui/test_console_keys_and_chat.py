"""Console behaviour found in a hands-on review: keys (ctrl+p, ctrl+t, 1-4), the chat
(angle brackets in answers, a question typed while the agent works, following a new question),
zoom following the focus, and what stays visible in a small terminal."""

from __future__ import annotations

from pathlib import Path

from textual.command import CommandPalette

from opsconsole.ui.factory import build_app
from tests.fakes.openai_server import Hang, reply

from .conftest import make_settings, screen_text, trace_text, wait_for


def _rendered_answers(app: object) -> str:
    """What the chat shows on screen (not the answers' source)."""
    return screen_text(app)


def _shell(tmp_path: Path, **kw: object):
    return build_app(make_settings(tmp_path), demo=True, connect=False, frozen=True, **kw)


async def test_angle_brackets_in_an_answer_are_shown(tmp_path: Path, model_server) -> None:
    model_server.push(reply("Then check <pod> in <namespace>: `kubectl logs <pod>`."))
    app = build_app(
        make_settings(tmp_path, base_url=model_server.base_url),
        frozen=True,
        kubeconfig=str(tmp_path / "none"),
    )
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_for(pilot, lambda: app.backend is not None, 30, "backend")
        app.main.chat.input.value = "how do I check?"
        await pilot.press("enter")
        await wait_for(pilot, lambda: "Then check" in _rendered_answers(app), 10, "answer")
        await pilot.pause()
        shown = _rendered_answers(app)
        assert "Then check <pod> in <namespace>" in shown


async def test_ctrl_p_opens_the_palette_from_the_chat_input(tmp_path: Path) -> None:
    app = _shell(tmp_path)
    async with app.run_test(size=(120, 40)) as pilot:
        assert app.focused is app.main.chat.input
        await pilot.press("ctrl+p")
        await wait_for(pilot, lambda: isinstance(app.screen, CommandPalette), 30, "palette")


async def test_ctrl_w_edits_the_input_and_ctrl_t_toggles_write_mode(tmp_path: Path) -> None:
    app = build_app(make_settings(tmp_path), demo=True, offline=True, frozen=True)
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_for(pilot, lambda: app.backend is not None, 30, "backend")
        chat_input = app.main.chat.input
        chat_input.focus()
        await pilot.press(*"hello world")
        await pilot.press("ctrl+w")
        assert chat_input.value == "hello "  # the word before the cursor, as in a shell
        assert not app.main.status.write_mode
        await pilot.press("ctrl+t")
        await wait_for(pilot, lambda: app.main.status.write_mode, 30, "write mode on")
        assert app.backend.write_mode


async def test_a_question_sent_while_the_agent_works_stays_in_the_input(
    tmp_path: Path, model_server
) -> None:
    model_server.push(Hang(30))
    app = build_app(
        make_settings(tmp_path, base_url=model_server.base_url),
        frozen=True,
        kubeconfig=str(tmp_path / "none"),
    )
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_for(pilot, lambda: app.backend is not None, 30, "backend")
        chat_input = app.main.chat.input
        chat_input.value = "first"
        await pilot.press("enter")
        await wait_for(pilot, lambda: app.bridge.running, 10, "running")
        chat_input.value = "typed while busy"
        await pilot.press("enter")
        await pilot.pause()
        assert chat_input.value == "typed while busy"
        await pilot.press("escape", "escape")  # leave the input, then stop
        await wait_for(pilot, lambda: not app.bridge.running, 30, "stopped")


async def test_a_new_question_brings_chat_and_trace_to_the_end(tmp_path: Path) -> None:
    app = build_app(make_settings(tmp_path), demo=True, offline=True, frozen=True)
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_for(pilot, lambda: app.backend is not None, 30, "backend")
        main = app.main
        for question in ("why is payment-api crashing?", "show pods in namespace shop"):
            main.chat.input.value = question
            main.chat.input.focus()
            await pilot.press("enter")
            await wait_for(
                pilot, lambda: not app.bridge.running and "■" in trace_text(app), 30, "run end"
            )
        trace, log = main.trace, main.chat.log_view
        assert trace.max_scroll_y > 0 and log.max_scroll_y > 0
        # the user reads the first run: the cursor on one of its calls, both panes at the top
        first_tool = next(iter(trace.tools.values()))
        trace.focus()
        trace.select(first_tool)
        trace.scroll_home(animate=False)
        log.scroll_home(animate=False)
        await pilot.pause()
        main.chat.input.focus()
        main.chat.input.value = "list the nodes"
        await pilot.press("enter")
        await wait_for(pilot, lambda: not app.bridge.running, 30, "third run")
        await wait_for(
            pilot,
            lambda: (
                trace.scroll_offset.y >= trace.max_scroll_y - 1
                and log.scroll_offset.y >= log.max_scroll_y - 1
            ),
            what="both panes scrolled to the end",
        )


async def test_number_keys_focus_panes_and_the_zoom_follows(tmp_path: Path) -> None:
    app = _shell(tmp_path)
    async with app.run_test(size=(120, 40)) as pilot:
        main = app.main
        main.trace.focus()
        await pilot.pause()
        await pilot.press("1")
        assert app.focused is main.chat.input
        await pilot.press("z")  # typed into the input: z is a letter there
        assert main.chat.input.value == "z"
        main.chat.input.value = ""
        await pilot.press("f2")
        assert main.maximized is main.query_one("#chat-pane")
        main.trace.focus()  # focus moved by a command: the zoom goes with it
        await pilot.pause()
        assert main.maximized is main.query_one("#trace-pane")
        await pilot.press("3")
        await pilot.pause()
        assert main.maximized is main.query_one("#pods-pane")
        await pilot.press("2")
        await pilot.pause()
        assert main.pane_of(app.focused) is main.query_one("#trace-pane")


async def test_small_terminal_keeps_the_mode_and_fits_the_help(tmp_path: Path) -> None:
    app = _shell(tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        status = str(app.main.status.render())
        assert status.startswith("● ") and "read-only" in status
        assert len(status) <= 80
        app.main.trace.focus()
        await pilot.press("f1")
        await wait_for(pilot, lambda: app.screen.query("#help-dialog"), 30, "help")
        dialog = app.screen.query_one("#help-dialog")
        region = dialog.region
        assert region.x >= 0 and region.y >= 0
        assert region.right <= 80 and region.bottom <= 24


async def test_write_mode_is_shown_even_when_the_status_bar_is_narrow(tmp_path: Path) -> None:
    app = _shell(tmp_path, write=True)
    async with app.run_test(size=(60, 20)) as pilot:
        await pilot.pause()
        status = str(app.main.status.render())
        assert "WRITE MODE" in status and len(status) <= 60


async def test_unknown_context_at_start_can_be_fixed_with_slash_context(
    tmp_path: Path, sandbox_kubeconfig: Path
) -> None:
    app = build_app(
        make_settings(tmp_path),
        kubeconfig=str(sandbox_kubeconfig),
        context="nosuch",
        offline=True,
        frozen=True,
    )
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_for(pilot, lambda: app.backend is not None, 30, "backend")
        assert app.backend.cluster is None
        assert app.bridge.contexts() == ["opsconsole-sandbox"]
        app.main.chat.input.value = "/context opsconsole-sandbox"
        await pilot.press("enter")
        await wait_for(pilot, lambda: app.backend.cluster is not None, 10, "cluster loaded")
        assert app.main.status.context == "opsconsole-sandbox"
        await wait_for(pilot, lambda: app.feeds.pods_ready, 15, "pods listed")


async def test_unknown_namespace_is_warned_about(tmp_path: Path) -> None:
    app = build_app(make_settings(tmp_path), demo=True, offline=True, frozen=True)
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_for(pilot, lambda: app.backend is not None, 30, "backend")
        app.main.chat.input.value = "/ns nosuchns"
        await pilot.press("enter")
        from .conftest import chat_text

        await wait_for(pilot, lambda: "no namespace 'nosuchns'" in chat_text(app), 10, "warn")
        assert "payments" in chat_text(app)  # the namespaces it does have


async def test_a_session_approval_is_marked_in_the_trace(tmp_path: Path, model_server) -> None:
    from opsconsole.ui.screens.modals import ApprovalModal
    from tests.fakes.openai_server import tool_call

    def scale(replicas: int, call_id: str) -> object:
        args = {"namespace": "shop", "name": "cart", "replicas": replicas}
        return reply(tool_calls=[tool_call("scale_deployment", args, id=call_id)])

    model_server.push(scale(3, "call_1"), reply("cart at 3."), scale(2, "call_2"), reply("at 2."))
    app = build_app(
        make_settings(tmp_path, base_url=model_server.base_url), demo=True, write=True, frozen=True
    )
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_for(pilot, lambda: app.backend is not None, 30, "backend")
        app.main.chat.input.value = "scale cart to 3"
        await pilot.press("enter")
        await wait_for(pilot, lambda: isinstance(app.screen, ApprovalModal), 15, "approval")
        await wait_for(pilot, lambda: app.screen.armed, 15, "armed")
        await pilot.press("s")  # approve for this session
        await wait_for(pilot, lambda: not app.bridge.running, 15, "first run")
        assert "approved by you for this session" in trace_text(app)
        app.main.chat.input.value = "now to 2"
        await pilot.press("enter")
        await wait_for(pilot, lambda: not app.bridge.running, 15, "second run")
        assert not isinstance(app.screen, ApprovalModal)
        assert "auto-approved by your standing approval: scale deployment shop/cart" in (
            trace_text(app)
        )


async def test_slash_ns_reaches_the_agent_in_the_newest_message(tmp_path: Path) -> None:
    app = build_app(make_settings(tmp_path), demo=True, offline=True, frozen=True)

    def answers() -> int:
        messages = app.backend.loop.conversation.messages
        return sum(m["role"] == "assistant" and not m.get("tool_calls") for m in messages)

    async with app.run_test(size=(120, 40)) as pilot:
        await wait_for(pilot, lambda: app.backend is not None, 30, "backend")
        app.main.chat.input.value = "list pods"
        await pilot.press("enter")
        await wait_for(pilot, lambda: answers() == 1 and not app.bridge.running, 15, "run 1")
        loop = app.backend.loop
        system = loop.conversation.messages[0]["content"]
        app.main.chat.input.value = "/ns shop"
        await pilot.press("enter")
        await wait_for(pilot, lambda: loop.namespace == "shop", 10, "agent ns")
        app.main.chat.input.value = "list pods"
        await pilot.press("enter")
        await wait_for(pilot, lambda: answers() == 2 and not app.bridge.running, 15, "run 2")
        messages = loop.conversation.messages
        # the system prompt stays byte-identical (A20); the switch is in the newest question
        assert messages[0]["content"] == system
        asked = [m["content"] for m in messages if m["role"] == "user"][-1]
        assert asked.startswith("<console-state>") and "default namespace: shop" in asked
        calls = [c["function"]["arguments"] for m in messages for c in m.get("tool_calls") or ()]
        assert '"shop"' in calls[-1]  # the agent listed the pods of shop
