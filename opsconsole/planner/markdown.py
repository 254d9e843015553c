"""How the offline planner writes: its label, the Markdown of quotes and blocks, and the
fixed phrases of its answers in Chinese and English."""

from __future__ import annotations

import re
from collections.abc import Iterable

from opsconsole.agent.model import OFFLINE_HEADER
from opsconsole.planner.intents import Language

HEADER = OFFLINE_HEADER

_T: dict[str, dict[Language, str]] = {
    "cause": {"zh": "**根因**", "en": "**Root cause**"},
    "evidence": {"zh": "**证据**（摘自工具输出）", "en": "**Evidence** (quoted from tool output)"},
    "next": {
        "zh": "**建议的下一步**（离线规划器不会执行任何变更）",
        "en": "**Next steps** (the offline planner changes nothing itself)",
    },
    "analyzer": {"zh": "分析器结论", "en": "analyzer finding"},
    "no_findings": {
        "zh": "分析器没有发现异常的 Pod。",
        "en": "The analyzers found no unhealthy pods.",
    },
    "output": {"zh": "工具输出", "en": "Tool output"},
    "more": {"zh": "（其余 {n} 行省略）", "en": "({n} more lines omitted)"},
    "ask_more": {
        "zh": "想深入某个 Pod，可以问：“为什么 {ns} 的 {name} 一直重启”。",
        "en": 'To dig into one of them, ask: "why is {name} in {ns} failing".',
    },
    "tool_error": {"zh": "工具返回了错误：", "en": "The tool returned an error:"},
}


def t(key: str, lang: Language, **kw: object) -> str:
    return _T[key][lang].format(**kw)


def ask_more(lang: Language, example: tuple[str | None, str] | None) -> str:
    """How to dig into one item, with a real one of the listing as the example."""
    ns, name = example if example is not None else ("NAMESPACE", "NAME")
    return t("ask_more", lang, ns=ns or "NAMESPACE", name=name)


def code(text: str) -> str:
    """``text`` as an inline code span (shown literally, wraps in a narrow pane)."""
    text = " ".join(text.split("\n")).strip()
    longest = max((len(m) for m in re.findall(r"`+", text)), default=0)
    fence = "`" * (longest + 1)
    pad = " " if text.startswith("`") or text.endswith("`") else ""
    return f"{fence}{pad}{text}{pad}{fence}"


def quote(lines: Iterable[str]) -> str:
    """Lines quoted from tool output: one bullet each, as code, so Markdown keeps every line
    apart (``>`` quotes merge into one paragraph) and wraps long ones in a narrow chat."""
    return "\n".join(f"- {code(line)}" for line in lines if line.strip())


def block(text: str, lang: Language, max_lines: int = 30) -> str:
    lines = [ln.rstrip() for ln in text.strip("\n").splitlines()]
    extra = len(lines) - max_lines
    body = "\n".join(lines[:max_lines]).replace("```", "ˋˋˋ")
    out = f"```\n{body}\n```"
    if extra > 0:
        out += "\n" + t("more", lang, n=extra)
    return out


def numbered(steps: Iterable[str]) -> str:
    return "\n".join(f"{i}. {step}" for i, step in enumerate(steps, 1))
