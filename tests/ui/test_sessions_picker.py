"""The sessions picker: one row per session, launches where nothing was asked left out."""

from __future__ import annotations

from types import SimpleNamespace

from opsconsole.ui.screens.sessions import SessionsModal, session_label


def _summary(question: str | None, outcome: str, path: str = "/s/x.jsonl") -> SimpleNamespace:
    return SimpleNamespace(
        started="2026-11-25T18:49:02Z",
        question=question,
        model="deepseek-chat-with-a-long-name",
        steps=12,
        tokens=1_234_567,
        outcome=outcome,
        path=path,
    )


def test_empty_sessions_are_left_out() -> None:
    modal = SessionsModal(
        [_summary(None, "empty"), _summary("why?", "answered"), _summary("x", "damaged")]
    )
    assert [s.outcome for s in modal.summaries] == ["answered", "damaged"]


def test_a_row_fits_the_picker_without_wrapping() -> None:
    long_question = "为什么 payment 服务的 pod 一直重启？请检查日志、事件和配置" * 3
    label = session_label(_summary(long_question, "interrupted"))
    assert label.no_wrap
    # the picker is 110 wide: border, padding and the scrollbar leave ~104 cells
    assert label.cell_len <= 104
