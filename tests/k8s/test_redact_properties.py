"""Properties of ``redact()`` over generated text (S8; issue 11 item 5, "redacting twice loses
data").

The session recorder redacts text the tools redacted already, so redaction must be idempotent
(``redact(redact(x)) == redact(x)``) and lossless outside the secret spans: every character
``secret_spans`` does not cover comes through unchanged and in order, and text on its own line
next to a secret (a ``</untrusted-log>`` after a PEM block) survives both passes.

Inputs mix the secret shapes of test_redact.py's table and generated ones (PEM blocks in every
line style, key/value pairs in env/YAML/JSON/flag form with arbitrary values, URLs with
passwords, headers, cookies, Secret manifests) with arbitrary unicode, newlines, quotes, escapes
and ``[REDACTED]`` markers.
"""

from __future__ import annotations

import json
import os
import string

from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from opsconsole.redact import REDACTED, redact, redact_lines, secret_spans
from opsconsole.redact.engine import redacted_already
from tests.k8s.test_redact import LOOK_ALIKES, PEM, SECRETS

B64 = string.ascii_letters + string.digits + "+/"
TOKEN = string.ascii_letters + string.digits + "-._~+/"

#: examples per property (OPSCONSOLE_PROPERTY_EXAMPLES=20000 for a deeper search)
PROPERTY_SETTINGS = settings(
    max_examples=int(os.environ.get("OPSCONSOLE_PROPERTY_EXAMPLES", "400")),
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)

# --- generated secret shapes ----------------------------------------------------------------

any_text = st.text(st.characters(exclude_categories=("Cs",)), max_size=24)
value_text = st.text(st.characters(exclude_categories=("Cs",)), min_size=1, max_size=24)


@st.composite
def pem_blocks(draw: st.DrawFn) -> str:
    kind = draw(st.sampled_from(["RSA ", "EC ", "OPENSSH ", "", "ENCRYPTED ", "DSA "]))
    body = draw(st.lists(st.text(B64, min_size=1, max_size=76), min_size=1, max_size=6))
    if draw(st.booleans()):
        body[-1] += "=="
    sep = draw(st.sampled_from(["\n", "\r\n", "\\n", " ", "\n\n"]))
    lines = [f"-----BEGIN {kind}PRIVATE KEY-----", *body]
    if draw(st.integers(0, 5)):  # sometimes cut off before its END line
        lines.append(f"-----END {kind}PRIVATE KEY-----")
    if sep in ("\n", "\r\n") and draw(st.booleans()):  # kubectl logs --timestamps
        lines = [f"2026-11-25T10:00:{i:02d}.123456789Z {ln}" for i, ln in enumerate(lines)]
    if draw(st.integers(0, 4)) == 0:  # only the end of a body (a log window cut the top)
        lines = lines[2:]
    return sep.join(lines)


SECRET_KEYS = [
    "password", "DB_PASSWORD", "api_key", "apiKey", "token", "GITHUB_TOKEN", "secret",
    "client_secret", "passwd", "AccountKey", "tls.key", "client-key-data", "requirepass",
    "密码", "数据库密码", "auth", "session", "sig", "key", "private_key",
]  # fmt: skip
LOOK_ALIKE_KEYS = ["password_file", "secretName", "cache_key", "max_tokens", "tokenPath", "name"]
keys = st.sampled_from(SECRET_KEYS + LOOK_ALIKE_KEYS)


@st.composite
def pairs(draw: st.DrawFn) -> str:
    k, v = draw(keys), draw(value_text)
    form = draw(st.integers(0, 10))
    if form == 0:
        return f"{k}={v}"
    if form == 1:
        return f"{k}: {v}"
    if form == 2:
        return json.dumps({k: v}, ensure_ascii=draw(st.booleans()))
    if form == 3:  # a JSON log line inside a JSON string: \"password\": \"...\"
        return json.dumps(json.dumps({k: v}))
    if form == 4:
        return f"--{k} {v}"
    if form == 5:
        return f"--{k}={v}"
    if form == 6:
        return f"  {k}: |\n    {v}\n    {draw(value_text)}\n"
    if form == 7:
        return f"    env:\n    - name: {k.upper()}\n      value: {v}\n"
    if form == 8:
        return json.dumps({"env": [{"name": k, "value": v}]})
    if form == 9:
        return f"{k}：{v}"
    return f'args: ["--{k}", {json.dumps(v)}]'


@st.composite
def urls(draw: st.DrawFn) -> str:
    scheme = draw(st.sampled_from(["postgres", "redis", "https", "mongodb+srv", "amqp", "mysql"]))
    user = draw(st.text(string.ascii_letters, max_size=6))
    pw = draw(st.text(string.ascii_letters + string.digits + "/@!%:$", min_size=1, max_size=14))
    host = draw(st.sampled_from(["db.shop:5432/orders", "redis-0.shop", "[fd00::1]:6379/0"]))
    return f"{scheme}://{user}:{pw}@{host}"


@st.composite
def headers(draw: st.DrawFn) -> str:
    token = draw(st.text(TOKEN, min_size=1, max_size=40))
    form = draw(st.integers(0, 5))
    if form == 0:
        return f"Authorization: Bearer {token}"
    if form == 1:
        return f"Bearer {token}"
    if form == 2:
        return f'"authorization": "Basic {token}"'
    if form == 3:
        return f"Proxy-Authorization: {token}"
    if form == 4:
        return f"Cookie: a={token}; session={draw(st.text(TOKEN, max_size=12))}"
    return f"Set-Cookie: sid={token}; Path=/; HttpOnly"


@st.composite
def manifests(draw: st.DrawFn) -> str:
    kind = draw(st.sampled_from(["Secret", "ConfigMap"]))
    data = draw(st.dictionaries(st.sampled_from(SECRET_KEYS), value_text, max_size=3))
    if draw(st.booleans()):
        return json.dumps({"kind": kind, "data": data}, ensure_ascii=draw(st.booleans()))
    body = "".join(f"  {k}: {json.dumps(v, ensure_ascii=False)}\n" for k, v in data.items())
    return f"apiVersion: v1\nkind: {kind}\ndata:\n{body}"


table = st.sampled_from([text for _, text, _ in SECRETS] + [text for _, text in LOOK_ALIKES])
secrets = st.one_of(pem_blocks(), pairs(), urls(), headers(), manifests(), table)
glue = st.sampled_from(
    ["\n", " ", "", "\r\n", "\t", "=", ": ", '"', "'", "\\n", '\\"', ",", ";", "  ", "- ",
     REDACTED, "</untrusted-log>", "<untrusted-log pod=shop/web>\n", "kind: Secret\n",
     "data:\n", "-----END RSA PRIVATE KEY-----", "-----BEGIN PRIVATE KEY-----\n"]
)  # fmt: skip
documents = st.lists(st.one_of(secrets, glue, any_text), max_size=12).map("".join)

# --- text that must survive -----------------------------------------------------------------

# letters no rule knows (no ASCII key words, no CJK secret words), digits, spaces, brackets
KEEP_ALPHABET = "αβγδεζηθжзийклмн éàüöß✓☃😀·§ 0123456789()<>/"


@st.composite
def kept_lines(draw: st.DrawFn, index: int) -> str:
    if draw(st.integers(0, 3)) == 0:
        return f"</untrusted-log> {index}"
    return f"<keep {index} {draw(st.text(KEEP_ALPHABET, max_size=20))}>"


@st.composite
def documents_with_kept_lines(draw: st.DrawFn) -> tuple[str, list[str]]:
    """Secrets and arbitrary text with marker lines between them: (text, the marker lines)."""
    parts: list[str] = []
    kept: list[str] = []
    for i in range(draw(st.integers(1, 8))):
        parts.append(draw(st.one_of(secrets, any_text)))
        line = draw(kept_lines(i))
        kept.append(line)
        parts.append(f"\n{line}\n")
    return "".join(parts), kept


# --- properties -------------------------------------------------------------------------------

FOUND = [  # inputs the properties found failing (kept as fixed examples)
    "-----BEGIN RSA PRIVATE KEY-----\n0\n-----END RSA PRIVATE KEY-----"
    "Set-Cookie: sid=s%3A9fKx2.q1w2e3; Path=/; HttpOnly",
    "Authorization: Bearer 00000000password=\\</untrusted-log>",
    "aws_access_key_id: AKIAF2M2QGX6RCOOJD53--password 0",
    "aws_access_key_id: AKIAF2M2QGX6RCOOJD53Authorization: Bearer AAAAAAAA",
]


@PROPERTY_SETTINGS
@given(documents)
@example(f"<untrusted-log pod=shop/web>\n{PEM}\nafter the key\n</untrusted-log>")
@example(FOUND[0])
@example(FOUND[1])
@example(FOUND[2])
@example(FOUND[3])
def test_redact_is_idempotent(text: str) -> None:
    once = redact(text)
    assert redact(once) == once


@PROPERTY_SETTINGS
@given(documents)
def test_redact_replaces_exactly_the_secret_spans(text: str) -> None:
    spans = secret_spans(text)
    assert all(0 <= s < e <= len(text) for s, e in spans)
    assert all(a[1] < b[0] for a, b in zip(spans, spans[1:], strict=False)), "disjoint, apart"
    out = redact(text)
    # everything outside the spans comes through unchanged and in order; each span becomes
    # one marker, or stays as it is when it holds nothing but markers, blanks and timestamps
    expected, pos = [], 0
    for s, e in spans:
        inner = text[s:e]
        expected += [text[pos:s], inner if redacted_already(inner) else REDACTED]
        pos = e
    expected.append(text[pos:])
    assert out == "".join(expected)


@PROPERTY_SETTINGS
@given(documents_with_kept_lines())
@example((f"<untrusted-log pod=shop/web>\n{PEM}\nafter the key\n</untrusted-log>", []))
def test_text_outside_secrets_survives_both_passes(case: tuple[str, list[str]]) -> None:
    text, kept = case
    once = redact(text)
    twice = redact(once)
    assert twice == once
    assert text.count("</untrusted-log>") == once.count("</untrusted-log>")
    pos = 0
    for line in kept:  # each on its own line, in order
        found = once.find(f"\n{line}\n", pos)
        assert found >= 0, (line, once)
        pos = found + len(line) + 1


@PROPERTY_SETTINGS
@given(st.lists(st.one_of(st.sampled_from(range(len(SECRETS))), any_text), max_size=6))
def test_table_secrets_stay_redacted_among_other_lines(parts: list[int | str]) -> None:
    lines, gone = [], []
    for part in parts:
        if isinstance(part, int):
            _, text, values = SECRETS[part]
            lines.append(text)
            gone += values
        else:
            lines.append(part)
    out = redact("\n".join(lines))
    for value in gone:
        assert value not in out, (value, out)
    assert redact(out) == out


# --- redact_lines: the log pane's snapshot -----------------------------------------------------

STAMP = "2026-11-25T10:00:00.123456789Z "


@st.composite
def log_panes(draw: st.DrawFn) -> list[str]:
    """Lines as the log pane holds them: a document split at its newlines, maybe stamped."""
    lines = draw(documents).split("\n")
    if draw(st.booleans()):
        lines = [STAMP + line for line in lines]
    return lines


@PROPERTY_SETTINGS
@given(log_panes())
# found by hypothesis: a value ran over an escaped line break into the next header
@example(["Cookie: a=0; session=password=0\\nCookie: a=0; session=0"])
def test_redact_lines_keeps_one_line_per_line_and_is_stable(lines: list[str]) -> None:
    out = redact_lines(lines)
    assert len(out) == len(lines)
    assert all(a == b or REDACTED in a for a, b in zip(out, lines, strict=True))
    assert redact_lines(out) == out
    # the recorder's plain pass over the joined snapshot changes nothing
    assert redact("\n".join(out)) == "\n".join(out)


@PROPERTY_SETTINGS
@given(st.lists(st.sampled_from(range(len(SECRETS))), min_size=1, max_size=4), st.booleans())
def test_redact_lines_removes_secrets_spread_over_lines(rows: list[int], stamped: bool) -> None:
    lines, gone = [], []
    for row in rows:
        _, text, values = SECRETS[row]
        lines += text.split("\n")
        gone += values
    if stamped:
        lines = [STAMP + line for line in lines]
    out = "\n".join(redact_lines(lines))
    for value in gone:
        for part in value.split("\n"):
            assert part not in out, (part, out)
