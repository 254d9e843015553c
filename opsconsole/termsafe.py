"""Text that is safe to print to a terminal.

Pod logs, tool outputs, model answers and error bodies are untrusted: an ESC sequence in them
could clear the screen, set the window title, write the clipboard (OSC 52), move the cursor to
overwrite earlier lines, or hide text. Everything the headless commands print goes through
:func:`printable` (or :func:`printable_keeping_sgr` for a line that carries our own colours):
C0 control characters other than newline and tab, DEL and the C1 range (U+0080-U+009F, 8-bit
CSI/OSC) are shown as visible escapes (``\\x1b``, ``\\r``, ``\\x9b``) instead of being sent.
"""

from __future__ import annotations

import re

_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")
#: the colour codes the headless printers add themselves: SGR with plain numeric parameters
_OUR_SGR = re.compile(r"\x1b\[[0-9;]{0,8}m")
_C1_AND_DEL = re.compile(r"[\x7f-\x9f]")


def _show(match: re.Match[str]) -> str:
    ch = match.group(0)
    return {"\r": "\\r", "\x1b": "\\x1b"}.get(ch, f"\\x{ord(ch):02x}")


def printable(text: str) -> str:
    """``text`` with every control character except newline and tab made visible."""
    return _CONTROL.sub(_show, text)


def printable_keeping_sgr(text: str) -> str:
    """Like :func:`printable`, but colour/attribute sequences (``ESC [ … m``) are kept: they
    can change only how text looks, never move the cursor, clear, retitle or write anything."""
    out: list[str] = []
    pos = 0
    for m in _OUR_SGR.finditer(text):
        out.append(printable(text[pos : m.start()]))
        out.append(m.group(0))
        pos = m.end()
    out.append(printable(text[pos:]))
    return "".join(out)


def json_line(text: str) -> str:
    """A JSON line (``json.dumps(..., ensure_ascii=False)`` escapes C0 controls) with the C1
    range and DEL escaped too, so the line stays valid JSON and inert in a terminal."""
    return _C1_AND_DEL.sub(lambda m: f"\\u{ord(m.group(0)):04x}", text)
