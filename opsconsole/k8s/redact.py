"""Scrub secrets from text and JSON-like data before it reaches a model or a file (S8, S14).

``redact(text)`` replaces secret values with ``[REDACTED]`` and keeps the surrounding shape
(the key name, the header name, the URL's user and host) so the output still reads well:

- ``-----BEGIN ... PRIVATE KEY-----`` blocks (and their base64 form ``LS0tLS1CRUdJTi...``)
- ``Authorization: Bearer|Basic ...`` headers and bare ``Bearer <token>``
- JWTs (``eyJ...``), AWS key ids (``AKIA...``/``ASIA...``), GitHub/Slack/OpenAI-style keys
- ``key=value`` / ``key: value`` / ``"key": "value"`` pairs whose key names a secret
  (password, passwd, secret, token, credential, *_key/api-key/apikey/private_key ...)
- connection strings with a password (``postgres://user:pass@host`` -> ``user:[REDACTED]@``)
- the values of a ``data:`` / ``stringData:`` map (a Secret's payload) in YAML or JSON text

``redact_obj(obj)`` walks dicts/lists: a Secret's ``data``/``stringData`` values, values under
secret-like keys, ``{"name": "DB_PASSWORD", "value": "..."}`` env entries, and every string
(through ``redact``). All regexes are compiled once at import.
"""

from __future__ import annotations

import functools
import re
from typing import Any

REDACTED = "[REDACTED]"

# A key names a secret if it contains one of these words; "key" counts only with a qualifier
# (api_key, client-key-data, SECRET_KEY, privateKey), never alone (taints, secretKeyRef.key).
_SECRET_WORD = (
    r"(?:passw(?:or)?d|passphrase|pwd|[a-z0-9]_pass\b|secret|token|credentials?|"
    r"(?:api|access|secret|private|signing|encryption|client|ssh|auth|master|session)"
    r"[_.-]?key|[a-z0-9]_key)"
)
# names that merely refer to a secret (secretName, tokenPath ...), not carry one
_NOT_SECRET_SUFFIX = re.compile(
    r"(?i)(?:name|names|ref|refs|path|file|type|count|length|size|ttl|timeout|seconds|tokens|"
    r"expiry|expires|expiration|enabled|mode|id|ids|url|uri|endpoint|provider|source|kind)$"
)
_NOT_SECRET_VALUES = frozenset({"true", "false", "null", "none", "~", "yes", "no", ""})
_SECRET_KEY_RE = re.compile(rf"(?i)^[\w.-]*{_SECRET_WORD}[\w.-]*$")

_PEM_RE = re.compile(
    r"-----BEGIN ([A-Z0-9 ]*?)PRIVATE KEY-----(?:.*?-----END [A-Z0-9 ]*?PRIVATE KEY-----|.*\Z)",
    re.S,
)
_PEM_B64_RE = re.compile(r"LS0tLS1CRUdJT[A-Za-z0-9+/=]{8,}")
_AUTH_HEADER_RE = re.compile(
    r"(?i)(\bauthorization\b[\"']?\s*[:=]\s*[\"']?)(?:(bearer|basic|token|digest)\s+)?"
    r"([^\s\"',;]+)"
)
_BEARER_RE = re.compile(r"(?i)\b(bearer)\s+([A-Za-z0-9\-._~+/]{8,}=*)")
_JWT_RE = re.compile(r"\beyJ[A-Za-z0-9_-]{8,}(?:\.[A-Za-z0-9_-]*){0,2}")
_AWS_ID_RE = re.compile(r"\b(?:AKIA|ASIA|AGPA|AIDA|AROA|ANPA|ANVA|AIPA)[A-Z0-9]{12,}\b")
_VENDOR_KEY_RE = re.compile(
    r"\b(?:gh[pousr]_[A-Za-z0-9]{20,}|xox[abprs]-[A-Za-z0-9-]{10,}|sk-[A-Za-z0-9_-]{16,}"
    r"|glpat-[A-Za-z0-9_-]{16,}|AIza[A-Za-z0-9_-]{30,})"
)
_URL_PASSWORD_RE = re.compile(r"\b([a-zA-Z][a-zA-Z0-9+.-]{1,20}://[^:/\s@\"']+:)([^@\s/\"']+)(@)")
# key (optionally quoted) then = or : then a value (quoted, or up to whitespace/separator);
# the key is checked for a secret word in the callback (one linear scan, no backtracking)
_PAIR_RE = re.compile(
    r"(?P<key>\b[A-Za-z_][\w.-]*)(?P<sep>[\"']?[ \t]*(?:=|:(?!//))[ \t]*)"
    r"(?P<val>\"[^\"\n]*\"|'[^'\n]*'|[^\s,;&\"'}\])]+)"
)
_SECRET_IN_KEY = re.compile(_SECRET_WORD, re.I)
_PAIR_WORDS = ("passw", "passphrase", "pwd", "_pass", "secret", "token", "credential", "key")
# a YAML data:/stringData: block: the indented lines that follow it
_YAML_DATA_RE = re.compile(
    r"(?m)^([ \t]*)(data|stringData):[ \t]*\n((?:\1[ \t]+\S[^\n]*(?:\n|$))+)"
)
_YAML_ENTRY_RE = re.compile(r"(?m)^([ \t]+[^:\n]+:)[ \t]*\S[^\n]*$")
_JSON_DATA_RE = re.compile(r"(\"(?:data|stringData)\"\s*:\s*\{)([^{}]*)(\})")
_JSON_ENTRY_RE = re.compile(r"(\"[^\"]*\"\s*:\s*)(\"(?:[^\"\\]|\\.)*\"|[^,}\s]+)")

_AWS_HINT = re.compile(r"A(?:KIA|SIA|GPA|IDA|ROA|NPA|NVA|IPA)")
_VENDOR_HINT = re.compile(r"gh[pousr]_|xox[abprs]-|sk-|glpat-|AIza")
# cheap substring checks (on the lowercased text) before any regex runs
_NEEDLES = (
    "pass",
    "pwd",
    "secret",
    "token",
    "key",
    "auth",
    "bearer",
    "eyj",
    "akia",
    "asia",
    "private",
    "ls0tls1",
    "://",
    "data",
    "credential",
    "gh",
    "xox",
    "sk-",
    "glpat-",
    "aiza",
)


@functools.lru_cache(maxsize=4096)
def _key_secret(key: str) -> bool:
    return bool(_SECRET_IN_KEY.search(key)) and not _NOT_SECRET_SUFFIX.search(key)


def _pair_sub(m: re.Match[str]) -> str:
    key = m.group("key")
    val = m.group("val")
    if not _key_secret(key):
        if "=" in val or ":" in val:  # e.g. ``args: --password=x``: look inside the value
            return f"{key}{m.group('sep')}{_PAIR_RE.sub(_pair_sub, val)}"
        return m.group(0)
    if val.startswith(("[REDACTED", '"[REDACTED', "'[REDACTED")):
        return m.group(0)
    if val.strip("\"'").lower() in _NOT_SECRET_VALUES:  # flags such as automount...Token: false
        return m.group(0)
    if val[:1] in "\"'":
        return f"{key}{m.group('sep')}{val[0]}{REDACTED}{val[0]}"
    return f"{key}{m.group('sep')}{REDACTED}"


def _auth_sub(m: re.Match[str]) -> str:
    scheme = m.group(2)
    return f"{m.group(1)}{scheme + ' ' if scheme else ''}{REDACTED}"


def _yaml_data_sub(m: re.Match[str]) -> str:
    body = _YAML_ENTRY_RE.sub(lambda e: f"{e.group(1)} {REDACTED}", m.group(3))
    return f"{m.group(1)}{m.group(2)}:\n{body}"


def _json_data_sub(m: re.Match[str]) -> str:
    body = _JSON_ENTRY_RE.sub(lambda e: f'{e.group(1)}"{REDACTED}"', m.group(2))
    return f"{m.group(1)}{body}{m.group(3)}"


def redact(text: str) -> str:
    """Return ``text`` with secret values replaced by ``[REDACTED]``."""
    if not text:
        return text
    low = text.lower()
    if not any(n in low for n in _NEEDLES):
        return text
    out = text
    if "private key" in low:
        out = _PEM_RE.sub(lambda m: f"-----BEGIN {m.group(1)}PRIVATE KEY-----{REDACTED}", out)
    if "LS0tLS1" in out:
        out = _PEM_B64_RE.sub(REDACTED, out)
    if "authorization" in low:
        out = _AUTH_HEADER_RE.sub(_auth_sub, out)
    if "bearer" in low:
        out = _BEARER_RE.sub(lambda m: f"{m.group(1)} {REDACTED}", out)
    if "eyJ" in out:
        out = _JWT_RE.sub(REDACTED, out)
    if _AWS_HINT.search(out):
        out = _AWS_ID_RE.sub(REDACTED, out)
    if _VENDOR_HINT.search(out):
        out = _VENDOR_KEY_RE.sub(REDACTED, out)
    if "://" in out:
        out = _URL_PASSWORD_RE.sub(lambda m: f"{m.group(1)}{REDACTED}{m.group(3)}", out)
    if any(w in low for w in _PAIR_WORDS):
        out = _PAIR_RE.sub(_pair_sub, out)
    if "data" in low:
        out = _YAML_DATA_RE.sub(_yaml_data_sub, out)
        out = _JSON_DATA_RE.sub(_json_data_sub, out)
    return out


def is_secret_key(name: str) -> bool:
    """True if a key/variable name looks like it holds a secret (DB_PASSWORD, api_key ...)."""
    return bool(_SECRET_KEY_RE.match(name)) and not _NOT_SECRET_SUFFIX.search(name)


def redact_obj(obj: Any) -> Any:
    """A copy of a JSON-like structure with secret values replaced (see module docstring)."""
    if isinstance(obj, str):
        return redact(obj)
    if isinstance(obj, list):
        return [redact_obj(v) for v in obj]
    if isinstance(obj, tuple):
        return tuple(redact_obj(v) for v in obj)
    if not isinstance(obj, dict):
        return obj
    is_secret = obj.get("kind") == "Secret"
    env_secret = isinstance(obj.get("name"), str) and "value" in obj and is_secret_key(obj["name"])
    out: dict[Any, Any] = {}
    for key, value in obj.items():
        skey = str(key)
        if (is_secret and skey in ("data", "stringData")) and isinstance(value, dict):
            out[key] = {k: REDACTED for k in value}
        elif env_secret and skey == "value" and value not in (None, ""):
            out[key] = REDACTED
        elif (
            is_secret_key(skey)
            and isinstance(value, str | int | float)
            and not isinstance(value, bool)
        ):
            out[key] = REDACTED
        elif skey == "last-applied-configuration" or skey.endswith("/last-applied-configuration"):
            out[key] = REDACTED if is_secret else redact_obj(value)
        else:
            out[key] = redact_obj(value)
    return out
