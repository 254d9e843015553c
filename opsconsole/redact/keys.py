"""Does a key name a secret, and is a value under it one (the words of rules.toml [keys]).

:func:`classify` splits a key into words (at ``_ . -``, spaces and camelCase) and answers
``STRONG`` (the value is a secret: DB_PASSWORD, apiKey, tls.key, client-key-data, 数据库密码),
``WEAK`` (a secret only if it looks random: auth, sig, key, session) or ``NONE`` (secretName,
password_file, max_tokens, cache_key, PASS alone). :func:`looks_random` is the entropy rule for
weak keys, :func:`is_placeholder` the values that are never secrets (``false``, ``${VAR}``,
``<set to the key ...>``, ``****``).
"""

from __future__ import annotations

import functools
import math
import re
from collections import Counter

from opsconsole.redact.rules import vocabulary

NONE, WEAK, STRONG = 0, 1, 2

_SPLIT = re.compile(r"[_.\-\s/:\"'\\]+|(?<=[a-z0-9])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])")


def key_words(key: str) -> list[str]:
    """``AWS_SECRET_ACCESS_KEY`` -> aws secret access key; ``clientKeyData`` -> client key data."""
    return [w.lower() for w in _SPLIT.split(key) if w]


@functools.lru_cache(maxsize=16384)
def classify(key: str) -> int:
    """STRONG, WEAK or NONE for a key name (cached: keys repeat)."""
    voc = vocabulary()
    words = key_words(key)
    if not words:
        return NONE
    low = key.lower()
    if words[-1] in voc.not_secret_last_words or low.endswith(voc.not_secret_endings):
        return NONE
    while len(words) > 1 and words[-1] in voc.value_suffixes:
        words.pop()
    if (
        any(w in voc.words for w in words)
        or any(w.endswith(voc.word_suffixes) for w in words)
        or any(s in low for s in voc.substrings)
        or (len(words) > 1 and words[-1] in voc.qualified_words)
    ):
        return STRONG
    if words[-1] == "key" and len(words) > 1:
        return NONE if words[-2] in voc.key_not_secret_prefixes else STRONG
    if any(w in voc.weak_words or w in voc.qualified_words for w in words):
        return WEAK
    return NONE


def is_secret_key(name: str) -> bool:
    """True if a key/variable name holds a secret (DB_PASSWORD, api_key, tls.key ...)."""
    return classify(name) == STRONG


def is_placeholder(value: str) -> bool:
    """A value under a secret key that is not a secret: a flag, a reference, a placeholder."""
    voc = vocabulary()
    v = value.strip().strip("\"'").strip()
    return v.lower() in voc.not_secret_literals or bool(voc.not_secret_patterns.match(v))


def entropy_bits(value: str) -> float:
    """Shannon entropy in bits per character."""
    n = len(value)
    return -sum(c / n * math.log2(c / n) for c in Counter(value).values()) if n else 0.0


def looks_random(value: str) -> bool:
    """The entropy rule: one token, long enough, of mixed classes and high entropy."""
    voc = vocabulary()
    if len(value) < voc.entropy_min_length or not voc.entropy_charset.match(value):
        return False
    classes = (
        any(c.islower() for c in value)
        + any(c.isupper() for c in value)
        + any(c.isdigit() for c in value)
    )
    return classes >= voc.entropy_min_classes and entropy_bits(value) >= voc.entropy_min_bits
