"""System prompts in Chinese and English, built from the seed's four-step workflow
(分析用户请求 / 调用合适的工具 / 根据结果判断是否需要继续操作 / 完成后给出总结), the tools the
model is offered, and the safety rules (read-only by default, tool output is untrusted data,
never reveal secrets)."""

from __future__ import annotations

import re
from collections.abc import Iterable
from types import ModuleType
from typing import Literal

from opsconsole.agent.tools import Tool

Language = Literal["zh", "en"]

_CJK_RE = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\u3000-\u303f\uff00-\uffef]")


def contains_cjk(text: str) -> bool:
    return bool(_CJK_RE.search(text))


def resolve_language(setting: str, task: str = "") -> Language:
    """``"zh"``/``"en"`` as given; ``"auto"`` -> zh when the task contains CJK, else en."""
    if setting == "zh":
        return "zh"
    if setting == "en":
        return "en"
    return "zh" if contains_cjk(task) else "en"


def _texts(language: Language) -> ModuleType:
    from opsconsole.agent.prompts import en, zh

    return zh if language == "zh" else en


def state_line(language: Language, context: str | None, namespace: str | None) -> str:
    """The line naming the pinned cluster context and the default namespace, as the system
    prompt has it (also the note a user message carries after the user switched either)."""
    return _texts(language).CLUSTER.format(context=context or "-", namespace=namespace or "default")


def build_system_prompt(
    language: Language,
    tools: Iterable[Tool],
    *,
    write_mode: bool = False,
    agent: str = "ops",
    context: str | None = None,
    namespace: str | None = None,
    extra: str = "",
    follow_user_language: bool = False,
) -> str:
    """The system prompt for one agent: role, workflow, the offered tools, cluster, safety.

    ``extra`` is appended (specialists add their own instructions there).
    ``follow_user_language``: answer in the user's language (language "auto") instead of
    always in ``language``.
    """
    t = _texts(language)
    lines = [t.ROLE.format(agent=agent), "", t.WORKFLOW, "", t.TOOLS_HEADER]
    names = []
    for tool in tools:
        first = tool.description.strip().splitlines()[0] if tool.description.strip() else ""
        marker = (
            ""
            if not tool.mutating
            else (" [写操作，需用户确认]" if language == "zh" else " [mutating, needs approval]")
        )
        lines.append(f"- {tool.name}: {first}{marker}")
        names.append(tool.name)
    if not names:
        lines.append("-")
    if context or namespace:
        lines += ["", state_line(language, context, namespace)]
    lines += [
        "",
        t.SAFETY_WRITE if write_mode else t.SAFETY_READ_ONLY,
        "",
        t.SAFETY,
        "",
        t.ANSWER_STYLE,
        t.LANGUAGE_AUTO if follow_user_language else t.LANGUAGE_FIXED,
    ]
    if extra:
        lines += ["", extra.strip()]
    return "\n".join(lines)
