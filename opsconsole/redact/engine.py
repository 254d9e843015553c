"""Find the secret spans of a text, then replace each with ``[REDACTED]`` in one pass.

Every finder only reports spans ``(start, end)``; :func:`redact` replaces them and copies
everything else unchanged, so nothing outside a secret is ever lost (S8, issue "redacting twice
loses data"). Redaction is idempotent (``redact(redact(x)) == redact(x)``, property tests in
tests/k8s/test_redact_properties.py): a finder that meets ``[REDACTED]`` reports it as it is; a
span that touches a marker is widened to the whole marker, and one that starts in a marker ends
with it (what follows is what the first pass kept); a span of nothing but markers, blanks and
log timestamps is left as it is; a key, header or token glued to a marker is not judged again
(spans that touch merge, so the first pass saw it glued to a secret, not as a word of its own).

:meth:`Redactor.redact_lines` redacts lines as one text and keeps one output line per input line
(a marker on each line a secret covered), with the ``kubectl logs --timestamps`` stamp of each
line set aside meanwhile. The line-based finders also read a line's text after such a stamp.

Finders:
- key/value pairs, found from the secret words (one ``str.find`` scan per word, never a regex
  over the whole text): ``key=value``, ``key: value`` (YAML: the rest of the line, block
  scalars), ``"key": "value"`` and its JSON-escaped form, ``--flag value`` (same line, the
  next line, ``"--flag", "value"``), ``- name: X`` / ``value: ...`` env entries, full-width
  ``：`` for Chinese keys; the key decides (keys.py), placeholders are kept;
- PEM private keys (multi-line, with log timestamps, ``\\n``-escaped, space-joined, a body cut
  off before its BEGIN line) and their base64 form (checked by decoding);
- URL passwords (``scheme://user:pass@host``, a password may hold ``/`` and ``@``);
- ``Authorization`` / ``Proxy-Authorization`` values and bare ``Bearer`` tokens;
- ``Cookie`` values and the first ``Set-Cookie`` value;
- the ``data`` / ``stringData`` of a Secret in YAML or JSON text (not a ConfigMap's);
- the token shapes of rules.toml (detect-secrets' plugins and ours), each behind a keyword
  prefilter.
"""

from __future__ import annotations

import base64
import binascii
import bisect
import re
from collections.abc import Callable, Iterator, Sequence

from opsconsole.redact.keys import NONE, STRONG, WEAK, classify, is_placeholder, looks_random
from opsconsole.redact.rules import TokenRule, token_rules, vocabulary

REDACTED = "[REDACTED]"
_MARKER_LOW = REDACTED.lower()

Span = tuple[int, int]

_ASCII_LOWER = {c: c + 32 for c in range(ord("A"), ord("Z") + 1)}


def _glued(text: str, start: int, end: int) -> bool:
    """Does ``text[start:end]`` touch a ``[REDACTED]`` marker from outside?

    Spans that touch merge into one marker, so the characters next to a marker are ones an
    earlier pass judged not secret, next to a secret that was glued to them: a keyword or key
    there (``[REDACTED]Authorization: ...``, ``[REDACTED]--password x``) was not a word of its
    own in that pass (no ``\\b`` before it), and is not one now. Skipping such a match keeps
    ``redact`` idempotent.
    """
    return text.endswith(REDACTED, 0, start) or text.startswith(REDACTED, end)


def _lower(text: str) -> str:
    """A lowercase copy with the same length (so positions carry over to ``text``)."""
    low = text.lower()
    return low if len(low) == len(text) else text.translate(_ASCII_LOWER)


# an RFC 3339 time; in front of a line, as ``kubectl logs --timestamps`` writes it, it is not
# part of what the program logged (a YAML key after it still starts its line)
_TS = r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d+)?(?:Z|[+-]\d\d:?\d\d)?"
_LOG_STAMP = re.compile(rf"{_TS}[ \t]")
_LOG_STAMP_ANY = re.compile(_TS)


def _unstamped(text: str, line_start: int) -> int:
    """Where the logged text of the line starting at ``line_start`` begins."""
    if line_start >= len(text) or not text[line_start].isdigit():
        return line_start
    m = _LOG_STAMP.match(text, line_start)
    return m.end() if m else line_start


# --- key/value pairs --------------------------------------------------------------------

_KEY_CHARS = frozenset("_.-")


def _is_key_char(c: str) -> bool:
    return c.isalnum() or c in _KEY_CHARS


# after a key: an optional closing quote (maybe JSON-escaped), then = : ： ＝ (not ://)
_SEP = re.compile(r"(\\*[\"']?)[ \t]*(=|:(?!//)|：|＝)[ \t]*")
# after a flag: its value on the same line, after a comma (an args list) or on the next line
_FLAG_SEP = re.compile(
    r"(?:\\*[\"'])?(?:[ \t]*,[ \t]*|[ \t]+)"
    rf"|(?:\\*[\"'])?[ \t]*\r?\n(?:{_TS}[ \t])?[ \t]*(?:-[ \t]+)?"
)
# before an env entry's name: "name: " (YAML) or "name":" (JSON, maybe escaped)
_ENV_NAME_BEFORE = re.compile(r"(?:\bname:[ \t]*[\"']?|(\\*\")name\1[ \t]*:[ \t]*\1)\Z")
_ENV_VALUE_AFTER = re.compile(
    rf"[\"']?[ \t]*(?:,[ \t]*|\r?\n(?:{_TS}[ \t])?[ \t]*)(\\*\"?)value\1[ \t]*:[ \t]*"
)
#: a bare value (passwords may hold / @ ! = : ...) ends at a blank, a quote, a separator or
#: an escaped line break or tab (``\n`` in a JSON-escaped log line starts the next line)
_BARE = re.compile(r"(?:[^\s\"'`,;&<>，；。、）\\]|\\(?![nrt]))+")
_LINE_START = re.compile(r"[ \t]*(?:-[ \t]+)?[\"']?\Z")
_BLOCK_INDICATOR = re.compile(r"[|>][+-]?[0-9]?\Z")


def _closing(text: str, start: int, quote: str) -> int:
    """Index of the quote closing a value opened just before ``start`` (same line), or -1."""
    if quote == '"' or quote == "'":
        i = start
        n = len(text)
        while i < n:
            c = text[i]
            if c == "\\":
                i += 2
                continue
            if c == quote:
                return i
            if c == "\n":
                return -1
            i += 1
        return -1
    end = text.find(quote, start)
    if end < 0 or "\n" in text[start:end]:
        return -1
    return end


def _trim_brackets(text: str, s: int, e: int) -> int:
    """Drop closing brackets at the end of a bare value that it did not open: (password=x)."""
    while e > s and text[e - 1] in ")]}":
        close = text[e - 1]
        opener = {")": "(", "]": "[", "}": "{"}[close]
        value = text[s:e]
        if value.count(opener) >= value.count(close):
            break
        e -= 1
    return e


def _quoted(text: str, p: int) -> tuple[int, int] | None:
    """If a quoted value starts at ``p``: (inner start, inner end); unclosed: to the token end."""
    q = p
    while q < len(text) and text[q] == "\\":
        q += 1
    if q >= len(text) or text[q] not in "\"'" or (q > p and text[q] != '"'):
        return None
    quote = text[p : q + 1]
    inner = q + 1
    end = _closing(text, inner, quote)
    if end < 0:
        m = _BARE.match(text, inner)
        return (inner, m.end()) if m else (inner, inner)
    return inner, end


def _line_end(text: str, p: int) -> int:
    end = text.find("\n", p)
    return len(text) if end < 0 else end


def _block_scalar(text: str, line_end: int, key_indent: int) -> tuple[int, int] | None:
    """The lines of a YAML block scalar (``key: |``) indented deeper than its key."""
    pos = line_end + 1
    first = last = None
    n = len(text)
    while pos < n:
        end = _line_end(text, pos)
        pos = _unstamped(text, pos)
        line = text[pos:end]
        stripped = line.strip()
        indent = len(line) - len(line.lstrip(" \t"))
        if stripped and indent <= key_indent:
            break
        if stripped:
            if first is None:
                first = pos + indent
            last = pos + len(line.rstrip())
        pos = end + 1
    return (first, last) if first is not None and last is not None else None


def _value_span(text: str, p: int, *, line_mode: bool, key_indent: int) -> Span | None:
    """The value of a pair starting at ``p`` (quotes excluded)."""
    q = _quoted(text, p)
    if q is not None:
        return q
    if line_mode:
        end = _line_end(text, p)
        value = text[p:end]
        hash_at = value.find(" #")
        if hash_at >= 0:
            value = value[:hash_at]
        value = value.rstrip()
        if not value:
            return None
        if _BLOCK_INDICATOR.match(value):
            return _block_scalar(text, end, key_indent)
        return p, p + len(value)
    m = _BARE.match(text, p)
    if not m:
        return None
    return p, _trim_brackets(text, p, m.end())


def _accept(text: str, span: Span | None, strength: int) -> Span | None:
    if span is None or span[0] >= span[1]:
        return None
    value = text[span[0] : span[1]]
    if is_placeholder(value):
        return None
    if strength == WEAK and not looks_random(value):
        return None
    return span


def _pair_at(text: str, ks: int, ke: int, strength: int) -> Span | None:
    """The secret value after the key ``text[ks:ke]``, if one follows it."""
    m = _SEP.match(text, ke)
    if m:
        line_start = _unstamped(text, text.rfind("\n", 0, ks) + 1)
        before = text[line_start:ks] if line_start <= ks else ""
        line_mode = m.group(2) in ":：" and bool(_LINE_START.match(before))
        indent = len(before) - len(before.lstrip(" \t"))
        return _accept(
            text,
            _value_span(text, m.end(), line_mode=line_mode, key_indent=indent),
            strength,
        )
    if text[ks] == "-" and (ks == 0 or not _is_key_char(text[ks - 1])):
        m = _FLAG_SEP.match(text, ke)
        if m and m.end() < len(text):
            p = m.end()
            if text[p] == "-":
                return None
            span = _value_span(text, p, line_mode=False, key_indent=0)
            if span and "\n" in m.group(0):  # a value on the next line is that whole line
                rest = text[span[1] : _line_end(text, span[1])].strip(" \t\"',\r")
                if rest:
                    return None
            return _accept(text, span, strength)
        return None
    if strength == STRONG and _ENV_NAME_BEFORE.search(text, max(0, ks - 12), ks):
        m = _ENV_VALUE_AFTER.match(text, ke)
        if m:
            line_start = _unstamped(text, text.rfind("\n", 0, m.end()) + 1)
            line_mode = "\n" in m.group(0)
            return _accept(
                text,
                _value_span(text, m.end(), line_mode=line_mode, key_indent=m.end() - line_start),
                STRONG,
            )
    return None


#: a longer run of key characters is a blob (base64, a hash), not a key
MAX_KEY = 128


def _pairs(text: str, low: str, hints: tuple[str, ...], out: list[Span]) -> None:
    seen: set[int] = set()
    marked = REDACTED in text
    n = len(text)
    for hint in hints:
        i = low.find(hint)
        while i >= 0:
            ks = i
            floor = max(0, i - MAX_KEY)
            while ks > floor and _is_key_char(text[ks - 1]):
                ks -= 1
            ke = i + len(hint)
            ceiling = min(n, ke + MAX_KEY)
            while ke < ceiling and _is_key_char(text[ke]):
                ke += 1
            i = low.find(hint, ke)
            if (
                ks in seen
                or ks == floor > 0
                or ke == ceiling < n
                or (marked and _glued(text, ks, ks))
            ):
                continue
            seen.add(ks)
            key = text[ks:ke]
            strength = classify(key.strip("-_."))
            if strength == NONE:
                continue
            span = _pair_at(text, ks, ke, strength)
            if span is not None:
                out.append(span)


# --- PEM private keys ---------------------------------------------------------------------

_PEM_TOKEN = r"(?:[A-Za-z0-9+/=]+|\[REDACTED\]|(?:Proc-Type|DEK-Info|Comment):[^\r\n\\]*)"
_PEM_LINE_NL = rf"{_PEM_TOKEN}[ \t]*(?=\r?\n|\Z)"
_PEM_LINE_ESC = rf"{_PEM_TOKEN}[ \t]*(?=\\r?\\n|[\"']|\Z)"
_NL = rf"(?:[ \t]*\r?\n)+[ \t]*(?:{_TS}[ \t]+)?"
_PEM_RE = re.compile(
    r"-----BEGIN [A-Z0-9 ]*PRIVATE KEY(?: BLOCK)?-----(?:"
    rf"{_NL}(?P<nl>{_PEM_LINE_NL}(?:{_NL}{_PEM_LINE_NL})*)"
    rf"|(?:\\r?\\n)+(?P<esc>{_PEM_LINE_ESC}(?:(?:\\r?\\n)+{_PEM_LINE_ESC})*)"
    rf"|[ \t]+(?P<sp>{_PEM_TOKEN}(?:[ \t]+{_PEM_TOKEN})*)(?=[ \t]+-----END )"
    r")"
)
_PEM_END_RE = re.compile(r"-----END [A-Z0-9 ]*PRIVATE KEY(?: BLOCK)?-----")
_B64_LINE = re.compile(rf"(?:{_TS}[ \t]+)?([A-Za-z0-9+/=]{{16,}}|\[REDACTED\])[ \t]*\r?")
_PEM_B64_RE = re.compile(r"LS0tLS1CRUdJT[A-Za-z0-9+/=]{8,}")


def _pem(text: str, low: str, out: list[Span]) -> None:
    if "private key" not in low:
        return
    for m in _PEM_RE.finditer(text):
        group = "nl" if m.group("nl") is not None else "esc" if m.group("esc") else "sp"
        out.append(m.span(group))
    # a body whose BEGIN line is not in this text (a log window cut it off): the base64
    # lines right above an END line
    for m in _PEM_END_RE.finditer(text):
        line_start = text.rfind("\n", 0, m.start()) + 1
        if text[line_start : m.start()].strip() and not re.fullmatch(
            rf"[ \t]*{_TS}[ \t]*", text[line_start : m.start()]
        ):
            continue
        first = last = None
        pos = line_start
        while pos > 0:
            prev = text.rfind("\n", 0, pos - 1) + 1
            lm = _B64_LINE.fullmatch(text, prev, pos - 1)
            if not lm:
                break
            first = lm.start(1)
            if last is None:
                last = lm.end(1)
            pos = prev
        if first is not None and last is not None:
            out.append((first, last))


def _pem_b64(text: str, out: list[Span]) -> None:
    if "LS0tLS1CRUdJT" not in text:
        return
    for m in _PEM_B64_RE.finditer(text):
        head = m.group(0)[:64]
        try:
            decoded = base64.b64decode(head[: len(head) // 4 * 4])
        except (binascii.Error, ValueError):
            continue
        if b"PRIVATE KEY" in decoded:
            out.append(m.span())


# --- URLs, headers, cookies -----------------------------------------------------------------

_SCHEME_BEFORE = re.compile(r"[A-Za-z][A-Za-z0-9+.-]{1,20}\Z")
_USERINFO = re.compile(
    r"(?P<user>[^\s:/@\"'<>\\]*):(?P<pw>[^\s\"'<>\\?#]*)@"
    r"(?P<host>\[[0-9A-Fa-f:.]+\]|[\w.%-]+)(?=[:/\s\"'<>?#,;)\]}\\]|\Z)"
)
_PORT_LIKE = re.compile(r"\d+/")  # host:8080/path@x is a port, not a password


def _urls(text: str, out: list[Span]) -> None:
    i = text.find("://")
    while i >= 0:
        start = i + 3
        if _SCHEME_BEFORE.search(text, max(0, i - 21), i):
            m = _USERINFO.match(text, start)
            if m and m.group("pw") and not _PORT_LIKE.match(m.group("pw")):
                span = m.span("pw")
                if not is_placeholder(m.group("pw")):
                    out.append(span)
        i = text.find("://", start)


#: a header name starts a word, also right after an escaped line break (``\nCookie:``)
_WORD_START = r"(?:\b|(?<=\\[nrt]))"
_AUTH_RE = re.compile(
    rf"{_WORD_START}(?:proxy-)?authorization\\*[\"']?[ \t]*[:=][ \t]*\\*[\"']?"
    r"(?:(?:bearer|basic|token|digest|negotiate|ntlm|apikey|api-key|key|sso-key|splunk)[ \t]+)?"
    r"(?P<v>[^\s\"',;\\]+)"
)
_BEARER_RE = re.compile(r"\bbearer[ \t]+(?P<v>[a-z0-9\-._~+/]{8,}=*)")
_COOKIE_RE = re.compile(
    rf"{_WORD_START}(?P<set>set-)?cookie\\*[\"']?[ \t]*[:=][ \t]*\\*[\"']?(?P<v>[^\r\n\"\\]*)"
)
_COOKIE_PAIR = re.compile(r"[ \t]*([^=;\s]+)=([^;]*)")


def _at_word(
    regex: re.Pattern[str], low: str, word: str, prefix: str, *, overlapping: bool = False
) -> Iterator[re.Match[str]]:
    """The matches of ``regex`` (which starts with ``\\b(?:prefix)?word``), tried only where
    ``word`` occurs: one ``str.find`` scan instead of a regex search through the whole text.
    Non-overlapping like ``finditer``, unless ``overlapping`` (every occurrence is tried)."""
    i = low.find(word)
    n = len(prefix)
    while i >= 0:
        m = regex.match(low, i - n) if i >= n and low.startswith(prefix, i - n) else None
        if m is None:
            m = regex.match(low, i)
        if m is not None:
            yield m
        nxt = i + len(word) if overlapping or m is None else max(m.end(), i + len(word))
        i = low.find(word, nxt)


def _headers(text: str, low: str, out: list[Span]) -> None:
    marked = REDACTED in text
    if "authorization" in low:
        for m in _at_word(_AUTH_RE, low, "authorization", "proxy-"):
            if marked and _glued(text, m.start(), m.end()):
                continue
            if not is_placeholder(text[m.start("v") : m.end("v")]):
                out.append(m.span("v"))
    if "bearer" in low:
        for m in _at_word(_BEARER_RE, low, "bearer", ""):
            if marked and _glued(text, m.start(), m.end()):
                continue
            value = text[m.start("v") : m.end("v")]
            if any(c.isdigit() for c in value) and not is_placeholder(value):
                out.append(m.span("v"))
    if "cookie" in low:
        # every header, also one inside the value of the one before it on the same line
        for c in _at_word(_COOKIE_RE, low, "cookie", "set-", overlapping=True):
            if marked and _glued(text, c.start(), c.start()):
                continue
            start, end = c.span("v")
            # one ``name=value`` per ``;``-separated segment; a Set-Cookie's first segment is
            # the cookie, the rest are its attributes (Path=/), and a segment without ``=``
            # (``[REDACTED]``, HttpOnly) holds no value
            while start <= end:
                semi = text.find(";", start, end)
                seg_end = end if semi < 0 else semi
                pair = _COOKIE_PAIR.match(text, start, seg_end)
                if pair:
                    value_start, value_end = pair.span(2)
                    value = text[value_start:value_end].strip()
                    if value:
                        lead = len(text[value_start:value_end]) - len(
                            text[value_start:value_end].lstrip()
                        )
                        out.append((value_start + lead, value_start + lead + len(value)))
                if c.group("set") or semi < 0:
                    break
                start = semi + 1


# --- a Secret's data in YAML or JSON text ----------------------------------------------------

_YAML_KIND = re.compile(r"[ \t]*(- )?kind:[ \t]*[\"']?(\w+)[\"']?[ \t]*\r?\Z")


def _indent(line: str) -> tuple[int, bool]:
    """(effective indent, starts a list item): ``- kind: x`` counts as indented by 2 more."""
    stripped = line.lstrip(" \t")
    ind = len(line) - len(stripped)
    if stripped.startswith("- "):
        return ind + 2, True
    return ind, False


def _lines_from(text: str, pos: int, step: int) -> Iterator[tuple[int, str]]:
    """(start, line) going down (step 1) or up (step -1) from the line after/before ``pos``."""
    if step > 0:
        start = _line_end(text, pos) + 1
        while start < len(text):
            end = _line_end(text, start)
            yield start, text[start:end]
            start = end + 1
    else:
        start = text.rfind("\n", 0, pos) + 1
        while start > 0:
            prev = text.rfind("\n", 0, start - 1) + 1
            yield prev, text[prev : start - 1]
            start = prev


def _yaml_is_secret(text: str, data_line_start: int, block_end: int, indent: int) -> bool:
    """Is there a ``kind: Secret`` among the siblings of the data key at ``indent``?"""
    for direction, origin in ((-1, data_line_start), (1, block_end)):
        for _, line in _lines_from(text, origin, direction):
            if not line.strip():
                continue
            ind, item = _indent(line)
            m = _YAML_KIND.match(line)
            if m and ind == indent:
                if direction > 0 and item:
                    break  # the next list item's kind
                return m.group(2) == "Secret"
            if ind < indent or (item and ind == indent and direction > 0):
                break
            if item and ind == indent and direction < 0:
                break  # the start of our own list item, without a kind
    return False


_YAML_DATA_KEY = re.compile(r"(?:data|stringData):[ \t]*\r?$", re.M)


def _yaml_data_keys(text: str, low: str) -> Iterator[tuple[int, int, int]]:
    """(line start, key start, key line end) of each ``data:`` / ``stringData:`` key line."""
    i = low.find("data:")
    while i >= 0:
        start = i - 6 if low.startswith("string", i - 6) else i
        m = _YAML_DATA_KEY.match(text, start)
        if m:
            line_start = text.rfind("\n", 0, start) + 1
            if text[line_start:start].strip(" \t") in ("", "-"):
                yield line_start, start, m.end()
        i = low.find("data:", i + 5)


def _yaml_data(text: str, low: str, out: list[Span]) -> None:
    for line_start, key_start, key_end in _yaml_data_keys(text, low):
        head = text[line_start:key_start]
        indent, _ = _indent(head + "data")
        m_end = key_end
        spans: list[Span] = []
        entry_indent = None
        block_end = m_end
        for start, line in _lines_from(text, m_end, 1):
            if not line.strip():
                continue
            ind = len(line) - len(line.lstrip(" \t"))
            if ind <= indent:
                break
            block_end = start + len(line)
            if entry_indent is None:
                entry_indent = ind
            body = line.rstrip()
            if ind == entry_indent and ":" in body:
                colon = body.index(":")
                value_start = start + colon + 1
                value = text[value_start : start + len(body)]
                lead = len(value) - len(value.lstrip())
                value = value.strip().strip("\"'")
                if value and not _BLOCK_INDICATOR.match(value) and value != REDACTED:
                    vs = value_start + lead
                    if text[vs] in "\"'":
                        vs += 1
                    spans.append((vs, vs + len(value)))
            elif ind > (entry_indent or indent):
                spans.append((start + ind, start + len(body)))
        if spans and _yaml_is_secret(text, line_start, block_end, indent):
            out.extend(spans)


_JSON_DATA = re.compile(r"data(\\*\")[ \t]*:[ \t]*\{")


_JSON_STRUCT = re.compile(r'[{}"]')


def _json_braces(text: str, start: int, end: int, level: int) -> Iterator[tuple[int, str]]:
    """The ``{`` and ``}`` of ``text[start:end]`` (``start`` outside a string) that are not in
    a string quoted at escape ``level``: 0 plain JSON ``"..."``, 1 JSON inside a JSON string
    ``\\"...\\"``, and so on (a ``"`` after ``2**level - 1`` backslashes, modulo
    ``2**(level + 1)``, opens or closes a string of that level)."""
    period, delimiter = 2 << level, (1 << level) - 1
    in_string = False
    for m in _JSON_STRUCT.finditer(text, start, end):
        i = m.start()
        if text[i] == '"':
            run = i
            while run > 0 and text[run - 1] == "\\":
                run -= 1
            if (i - run) % period == delimiter:
                in_string = not in_string
        elif not in_string:
            yield i, text[i]


def _balanced(text: str, start: int, end: int, level: int) -> bool:
    depth = 0
    for _, c in _json_braces(text, start, end, level):
        depth += 1 if c == "{" else -1
        if depth < 0:
            return False
    return depth == 0


def _json_data(text: str, low: str, out: list[Span]) -> None:
    kinds: dict[str, list[tuple[int, int, str]]] = {}
    for m in _JSON_DATA.finditer(low):
        q = m.group(1)
        level = len(q) - 1
        head = low[max(0, m.start() - len(q) - 6) : m.start()]
        if not (head.endswith(q) or head.endswith(q + "string")):
            continue
        if text[m.start() : m.start() + 4] != ("Data" if head.endswith("string") else "data"):
            continue
        # the object's end (braces in its strings do not count); a nested object: not a map
        # of strings, not a Secret's data
        brace = next(_json_braces(text, m.end(), len(text), level), None)
        if brace is None or brace[1] == "{":
            continue
        close = brace[0]
        if q not in kinds:
            pat = re.compile(
                re.escape(q) + r"kind" + re.escape(q) + r"[ \t]*:[ \t]*" + re.escape(q) + r"(\w+)"
            )
            kinds[q] = [(k.start(), k.end(), k.group(1)) for k in pat.finditer(text)]
        found = kinds[q]
        idx = bisect.bisect_left(found, (m.start(), 0, ""))
        secret = False
        if idx < len(found) and _balanced(text, close + 1, found[idx][0], level):
            secret = found[idx][2] == "Secret"
        elif idx > 0 and _balanced(text, found[idx - 1][1] + len(q), m.start() - len(q), level):
            secret = found[idx - 1][2] == "Secret"
        if not secret:
            continue
        if q == '"':
            entry = re.compile(r":[ \t\r\n]*\"((?:[^\"\\]|\\.)*)\"")
        else:
            entry = re.compile(r":[ \t\r\n]*" + re.escape(q) + r"(.*?)" + re.escape(q))
        for e in entry.finditer(text, m.end(), close):
            if e.group(1):
                out.append(e.span(1))


# --- token shapes (rules.toml) -------------------------------------------------------------

_TOKEN_TAIL = re.compile(r"[A-Za-z0-9_-]*")


def _tokens(text: str, low: str, rules: tuple[TokenRule, ...], out: list[Span]) -> None:
    marked = REDACTED in text
    for rule in rules:
        if not any(k in low for k in rule.keywords):
            continue
        for m in rule.regex.finditer(text):
            if marked and _glued(text, m.start(), m.end()):
                continue
            if rule.group is not None:
                group = rule.group
            else:
                group = next((g for g in range(1, (m.re.groups or 0) + 1) if m.group(g)), 0)
            start, end = m.span(group)
            if start >= end:
                continue
            if rule.validator is not None and not rule.validator(text[start:end]):
                continue
            if rule.extend:
                tail = _TOKEN_TAIL.match(text, end)
                end = tail.end() if tail else end
            out.append((start, end))


# --- assembling ------------------------------------------------------------------------------


def _markers(text: str) -> list[Span]:
    out = []
    i = text.find(REDACTED)
    while i >= 0:
        out.append((i, i + len(REDACTED)))
        i = text.find(REDACTED, i + len(REDACTED))
    return out


def _normalize(text: str, spans: list[Span]) -> list[Span]:
    """Sorted, merged spans; a span touching a ``[REDACTED]`` marker covers the whole marker.

    A span that starts in a marker ends with it: the value was redacted already, and what
    follows the marker is what the first pass kept (``Bearer [REDACTED]</untrusted-log>``,
    where the first pass's value ended at a character now inside the marker).
    """
    if not spans:
        return []
    spans.sort()
    markers = _markers(text) if REDACTED in text else []
    merged: list[Span] = []
    for s, e in spans:
        if markers:
            k = bisect.bisect_right(markers, (s, len(text) + 1)) - 1
            if k >= 0 and markers[k][1] > s:
                s = markers[k][0]
                e = min(e, markers[k][1])
            k = bisect.bisect_left(markers, (e, -1)) - 1
            if k >= 0 and markers[k][1] > e:
                e = markers[k][1]
        if merged and s <= merged[-1][1]:
            if e > merged[-1][1]:
                merged[-1] = (merged[-1][0], e)
        else:
            merged.append((s, e))
    return merged


class Redactor:
    """The rule set loaded once; :meth:`spans` and :meth:`redact` of one text."""

    def __init__(self) -> None:
        voc = vocabulary()
        self.hints = voc.hints()
        self.rules = token_rules()
        words = set(self.hints) | {k for r in self.rules for k in r.keywords}
        words |= {"private key", "ls0tls1crudjt", "authorization", "bearer", "cookie", "://"}
        words |= {"data:", 'data"', "data\\"}
        self._any = re.compile("|".join(re.escape(w) for w in sorted(words, key=len)))
        self._finders: list[Callable[[str, str, list[Span]], None]] = [
            lambda t, lo, o: _pairs(t, lo, self.hints, o),
            _pem,
            lambda t, lo, o: _pem_b64(t, o),
            lambda t, lo, o: _urls(t, o) if "://" in lo else None,
            _headers,
            lambda t, lo, o: _yaml_data(t, lo, o) if "secret" in lo else None,
            lambda t, lo, o: _json_data(t, lo, o) if "secret" in lo else None,
            lambda t, lo, o: _tokens(t, lo, self.rules, o),
        ]

    def spans(self, text: str) -> list[Span]:
        if not text:
            return []
        low = _lower(text)
        if not self._any.search(low):
            return []
        found: list[Span] = []
        for finder in self._finders:
            finder(text, low, found)
        return _normalize(text, found)

    def redact(self, text: str) -> str:
        return self._replace(text, _one_marker)

    def redact_lines(self, lines: Sequence[str]) -> list[str]:
        """``lines`` redacted as one text, one output line per input line: a secret that spans
        lines (a PEM body) becomes a marker on each line it covers. The timestamp kubectl
        ``--timestamps`` puts in front of a line is set aside meanwhile, so a block scalar or a
        flag's value on the next line is seen as the program wrote it."""
        stamps = [_LOG_STAMP.match(line) for line in lines]
        bodies = [line[m.end() :] if m else line for line, m in zip(lines, stamps, strict=True)]
        text = "\n".join(bodies)
        out = self._replace(text, _marker_per_line)
        if out is text:
            return list(lines)
        pieces = out.split("\n")  # every newline of ``text`` is still in ``out``, in order
        result: list[str] = []
        pos = 0
        for body, m in zip(bodies, stamps, strict=True):
            n = body.count("\n") + 1
            result.append((m.group(0) if m else "") + "\n".join(pieces[pos : pos + n]))
            pos += n
        return result

    def _replace(self, text: str, marker: Callable[[str], str]) -> str:
        spans = self.spans(text)
        if not spans:
            return text
        parts: list[str] = []
        pos = 0
        for s, e in spans:
            parts.append(text[pos:s])
            piece = text[s:e]
            parts.append(piece if redacted_already(piece) else marker(piece))
            pos = e
        parts.append(text[pos:])
        return "".join(parts)


def redacted_already(piece: str) -> bool:
    """Markers with only blanks and log timestamps between them: nothing left to redact (a
    PEM body that :meth:`Redactor.redact_lines` left as one marker a line)."""
    rest = piece.replace(REDACTED, "")
    return not rest.strip() or not _LOG_STAMP_ANY.sub("", rest).strip()


def _one_marker(piece: str) -> str:
    return REDACTED


def _marker_per_line(piece: str) -> str:
    """A marker for each line of ``piece`` that holds more than blanks and markers."""
    return "\n".join(seg if redacted_already(seg) else REDACTED for seg in piece.split("\n"))
