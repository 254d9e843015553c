"""A reply whose stream ends without a finish_reason (A7), in the console: the text already
streamed stays in the chat, followed by a warning that it was interrupted and the failure;
it is not turned into an answer, and the next question works."""

from __future__ import annotations

from pathlib import Path

from opsconsole.ui.factory import build_app
from tests.fakes.openai_server import reply

from .conftest import chat_text, make_settings, wait_for


async def test_streamed_text_of_a_cut_reply_stays_marked_interrupted(
    tmp_path: Path, model_server
) -> None:
    # role chunk, "default ", "命名空间下共有 " -- then the body just ends
    model_server.push(reply("default 命名空间下共有 3 个 Pod，全部正常。", end_after=3))
    settings = make_settings(tmp_path, base_url=model_server.base_url)
    app = build_app(settings, kubeconfig=str(tmp_path / "none"), frozen=True)
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_for(pilot, lambda: app.backend is not None)
        app.main.chat.input.value = "default 里的 Pod 怎么样？"
        await pilot.press("enter")
        await wait_for(pilot, lambda: "✗" in chat_text(app), 15, "the failure")
        text = chat_text(app)
        assert "default 命名空间下共有" in text  # what was shown is not silently replaced
        assert "全部正常" not in text
        partial = text.index("default 命名空间下共有")
        assert text.index("reply was interrupted") > partial  # marked right after it
        assert "not an answer" in text
        assert app.main.status.state == "failed"
        model_server.push(reply("3 个 Pod 全部正常运行。"))
        app.main.chat.input.value = "再试一次"
        await pilot.press("enter")
        await wait_for(pilot, lambda: "3 个 Pod 全部正常运行" in chat_text(app), 15, "answer")
    assert model_server.rejections == []
