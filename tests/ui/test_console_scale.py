"""The console stays as fast after many answers as after none (issue 11): a long answer is
collapsed (its head and its end on screen) and opens whole; a 1 MB streamed answer finishes
and the chat shows its end; the screen holds the same widgets after 2 answers or 24, and a
width change draws only what is on screen; replay stepping back and on shows what playing
forward shows."""

from __future__ import annotations

from pathlib import Path

from opsconsole.ui.factory import build_app
from opsconsole.ui.screens.modals import OutputModal
from tests.fakes.openai_server import reply, tool_call

from .conftest import chat_text, make_settings, screen_text, wait_for


def _long_answer(lines: int, *, first: str, middle: str, last: str) -> str:
    body = [f"# {first}", ""]
    for i in range(lines):
        body.append(f"- step {i}: `kubectl describe pod checkout-{i}` shows exit code 1")
        if i == lines // 2:
            body += ["", middle, ""]
    body += ["", last, ""]
    return "\n".join(body)


def _app(tmp_path: Path, model_server):
    settings = make_settings(tmp_path, base_url=model_server.base_url)
    return build_app(settings, kubeconfig=str(tmp_path / "none"), frozen=True)


async def _ask(pilot, app, question: str) -> None:
    chat = app.main.chat
    chat.input.focus()
    chat.input.value = question
    await pilot.press("enter")
    await wait_for(
        pilot,
        lambda: not app.bridge.running and not chat.streaming and question in chat_text(app),
        120,
        f"the answer to {question!r}",
    )


async def test_a_long_answer_is_collapsed_and_opens_whole(tmp_path: Path, model_server) -> None:
    text = _long_answer(400, first="诊断 HEAD-LINE", middle="MIDDLE-LINE-7f3", last="END-LINE 结束")
    model_server.push(reply(text, chunk_size=64))
    app = _app(tmp_path, model_server)
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_for(pilot, lambda: app.backend is not None, 30, "backend")
        await _ask(pilot, app, "why does checkout fail?")
        answer = app.main.chat.log_view.answers[-1]
        assert answer.collapsed and answer.source.strip() == text.strip()
        await pilot.pause()
        shown = screen_text(app)
        assert "END-LINE 结束" in shown  # its end is on screen
        assert "407 lines (26.2 KB) · Enter: the whole answer" in shown  # what is between
        assert "MIDDLE-LINE-7f3" not in shown  # collapsed: the middle is not drawn
        app.main.chat.log_view.action_top()
        await pilot.pause()
        assert "HEAD-LINE" in screen_text(app)  # its head
        # Enter on the chat log (Esc leaves the input) opens the whole answer
        app.main.chat.input.focus()
        await pilot.press("escape")
        assert app.focused is app.main.chat.log_view
        await pilot.press("enter")
        await wait_for(pilot, lambda: isinstance(app.screen, OutputModal), 10, "the window")
        modal = app.screen
        assert modal.text == answer.source
        assert "MIDDLE-LINE-7f3" in modal.body.plain_text()  # the whole text is there
        await pilot.press("end")
        await pilot.pause()
        assert "END-LINE 结束" in screen_text(app)
        await pilot.press("escape")
        await wait_for(pilot, lambda: not isinstance(app.screen, OutputModal), 10, "closed")
        # a click on the collapsed answer opens it too
        app.main.chat.log_view.follow()
        await pilot.pause()
        rows = screen_text(app).splitlines()
        row = next(i for i, line in enumerate(rows) if "Enter: the whole answer" in line)
        log = app.main.chat.log_view
        await pilot.click(log, offset=(4, row - log.region.y))
        await wait_for(pilot, lambda: isinstance(app.screen, OutputModal), 10, "the window")
        assert app.screen.text == answer.source
    assert model_server.rejections == []


async def test_a_megabyte_answer_streams_to_its_end(tmp_path: Path, model_server) -> None:
    section = (
        "## Finding\n\nPod **checkout** restarted; 数据库连接被拒绝。\n\n"
        "| pod | status |\n|---|---|\n| checkout-1 | CrashLoopBackOff |\n\n"
        "```text\n2026-11-25T10:00:00Z ERROR dial tcp 10.0.0.1:5432: connection refused\n```\n\n"
    )
    text = section * (1_200_000 // len(section)) + "THE-LAST-LINE of a very long answer\n"
    assert len(text) > 1_000_000
    model_server.push(reply(text, chunk_size=512))
    app = _app(tmp_path, model_server)
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_for(pilot, lambda: app.backend is not None, 30, "backend")
        await _ask(pilot, app, "tell me everything")
        assert app.main.status.state == "ready"
        answer = app.main.chat.log_view.answers[-1]
        assert not answer.streaming and answer.source.strip() == text.strip()
        await pilot.pause()
        assert "THE-LAST-LINE of a very long answer" in screen_text(app)
    assert model_server.rejections == []


async def test_the_screen_holds_the_same_widgets_after_many_answers(
    tmp_path: Path, model_server
) -> None:
    """The chat and the trace are one widget each (their items are drawn on demand): the
    screen's widget count does not grow with the conversation; a zoom (a new width) draws
    only the items on screen."""
    answer = _long_answer(30, first="Pods", middle="…", last="All checked.")
    app = _app(tmp_path, model_server)
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_for(pilot, lambda: app.backend is not None, 30, "backend")
        main = app.main
        counts = []
        for n in range(24):
            model_server.push(reply(tool_calls=[tool_call("get_k8s_pods", {"namespace": "a"})]))
            model_server.push(reply(answer, chunk_size=64))
            await _ask(pilot, app, f"question {n}")
            if n in (1, 23):
                await pilot.pause()
                counts.append(len(list(main.walk_children())))
        assert counts[0] == counts[1], counts
        log, trace = main.chat.log_view, main.trace
        assert len(log.answers) == 24 and len(trace.tools) == 24
        log.focus()
        await pilot.press("f2")  # zoom the chat: a new width
        await wait_for(pilot, lambda: main.maximized is not None, 10, "zoomed")
        await pilot.pause()
        drawn, visible = log.drawn_items(), log.visible_items()
        assert visible and set(map(id, drawn)) <= set(map(id, visible)), (len(drawn), len(visible))
        assert len(drawn) < len(log.items) // 4
        await pilot.press("f2")
        await wait_for(pilot, lambda: main.maximized is None, 10, "restored")
        # at the old width the lines were kept: scrolling to the top draws the first answer
        log.action_top()
        await pilot.pause()
        assert "Pods" in screen_text(app) and log.visible_items()[0] is log.items[0]
    assert model_server.rejections == []


async def test_the_chat_text_can_be_selected_with_the_mouse(tmp_path: Path) -> None:
    """Drawn as lines, the conversation is still text: a drag selects it for copying."""
    app = build_app(make_settings(tmp_path), demo=True, connect=False, frozen=True)
    async with app.run_test(size=(120, 40)) as pilot:
        chat = app.main.chat
        for n in range(30):
            await chat.add_notice(f"notice number {n}")
        await pilot.pause()
        log = chat.log_view
        rows = screen_text(app).splitlines()
        row = next(i for i, line in enumerate(rows) if "notice number 29" in line) - log.region.y
        await pilot.mouse_down(log, offset=(1, row - 2))
        await pilot.hover(log, offset=(17, row))
        await pilot.mouse_up(log, offset=(17, row))
        await pilot.pause()
        assert app.screen.get_selected_text() == "notice number 28\n\nnotice number 29"
