"""The redactor's rules: ``rules.toml`` (data) read once, and the detect-secrets patterns it names.

:func:`vocabulary` is the key and value vocabulary (cheap: the TOML file only);
:func:`token_rules` the token-shape rules, built on first use (it imports detect-secrets, whose
plugins are the maintained part of the rule set). A rule that does not load (a plugin renamed
upstream, a regex that does not compile) raises :class:`RulesError` naming it.
"""

from __future__ import annotations

import functools
import importlib
import re
import tomllib
from collections.abc import Callable
from dataclasses import dataclass
from importlib import resources
from typing import Any

from opsconsole.errors import OpsConsoleError


class RulesError(OpsConsoleError):
    """rules.toml or a detect-secrets pattern it names could not be loaded."""


@dataclass(frozen=True)
class Vocabulary:
    """[keys], [entropy] and [values] of rules.toml."""

    words: frozenset[str]
    qualified_words: frozenset[str]
    word_suffixes: tuple[str, ...]
    substrings: tuple[str, ...]
    key_not_secret_prefixes: frozenset[str]
    not_secret_last_words: frozenset[str]
    not_secret_endings: tuple[str, ...]
    value_suffixes: frozenset[str]
    weak_words: frozenset[str]
    entropy_charset: re.Pattern[str]
    entropy_min_length: int
    entropy_min_classes: int
    entropy_min_bits: float
    not_secret_literals: frozenset[str]
    not_secret_patterns: re.Pattern[str]

    def hints(self) -> tuple[str, ...]:
        """The shortest substrings one of which every secret-like key contains (lowercase)."""
        every = sorted(
            {*self.words, *self.qualified_words, *self.word_suffixes, *self.substrings}
            | {*self.weak_words, "key"},
            key=len,
        )
        kept: list[str] = []
        for word in every:
            if not any(k in word for k in kept):
                kept.append(word)
        return tuple(kept)


@dataclass(frozen=True)
class TokenRule:
    """One token shape: where it matches, which part is the secret, when it is looked for."""

    id: str
    regex: re.Pattern[str]
    keywords: tuple[str, ...]
    #: the keywords are context words, not necessarily part of a match
    context: bool = False
    #: the group redacted; None: the first group that took part, else the whole match
    group: int | None = None
    #: widen the span over the rest of the token ([A-Za-z0-9_-])
    extend: bool = False
    validator: Callable[[str], bool] | None = None
    source: str = ""


def _mixed(value: str) -> bool:
    """A random-looking token has letters and digits (not an English word like sk-learn-...)."""
    return any(c.isdigit() for c in value) and any(c.isalpha() for c in value)


VALIDATORS: dict[str, Callable[[str], bool]] = {"mixed": _mixed}


@functools.cache
def _data() -> dict[str, Any]:
    try:
        raw = resources.files("opsconsole.redact").joinpath("rules.toml").read_bytes()
        return tomllib.loads(raw.decode("utf-8"))
    except (OSError, tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise RulesError(f"cannot read the redaction rules (rules.toml): {exc}") from None


def _compile(rule_id: str, pattern: str, flags: int = 0) -> re.Pattern[str]:
    try:
        return re.compile(pattern, flags)
    except re.error as exc:
        raise RulesError(f"redaction rule {rule_id}: bad regex: {exc}") from None


def _lower_words(values: list[str], what: str) -> list[str]:
    for v in values:
        if v != v.lower():
            raise RulesError(f"rules.toml {what}: {v!r} must be lowercase")
    return values


@functools.cache
def vocabulary() -> Vocabulary:
    data = _data()
    keys, ent, values = data["keys"], data["entropy"], data["values"]
    return Vocabulary(
        words=frozenset(_lower_words(keys["words"], "keys.words")),
        qualified_words=frozenset(keys["qualified_words"]),
        word_suffixes=tuple(keys["word_suffixes"]),
        substrings=tuple(keys["substrings"]),
        key_not_secret_prefixes=frozenset(keys["key_not_secret_prefixes"]),
        not_secret_last_words=frozenset(keys["not_secret_last_words"]),
        not_secret_endings=tuple(keys["not_secret_endings"]),
        value_suffixes=frozenset(keys["value_suffixes"]),
        weak_words=frozenset(_lower_words(keys["weak_words"], "keys.weak_words")),
        entropy_charset=_compile("entropy.charset", ent["charset"]),
        entropy_min_length=int(ent["min_length"]),
        entropy_min_classes=int(ent["min_classes"]),
        entropy_min_bits=float(ent["min_bits"]),
        not_secret_literals=frozenset(values["literals"]),
        not_secret_patterns=_compile("values.patterns", "|".join(values["patterns"])),
    )


def _detect_secrets_rule(entry: dict[str, Any]) -> TokenRule:
    plugin = entry["plugin"]
    module_name, _, cls_name = plugin.rpartition(".")
    rule_id = f"detect-secrets:{cls_name}[{entry['index']}]"
    try:
        module = importlib.import_module(f"detect_secrets.plugins.{module_name}")
        denylist = getattr(module, cls_name).denylist
        upstream = denylist[int(entry["index"])]
    except (ImportError, AttributeError, IndexError) as exc:
        raise RulesError(
            f"redaction rule {rule_id}: not in the installed detect-secrets ({exc})",
            hint="pip install 'detect-secrets>=1.5,<2'",
        ) from None
    if entry["expect"] not in upstream.pattern:
        raise RulesError(
            f"redaction rule {rule_id}: upstream pattern {upstream.pattern!r} no longer "
            f"contains {entry['expect']!r} (detect-secrets changed its list)"
        )
    return TokenRule(
        id=rule_id,
        regex=upstream,
        keywords=tuple(_lower_words(entry["keywords"], rule_id)),
        context=bool(entry.get("context", False)),
        extend=bool(entry.get("extend", False)),
        source="https://github.com/Yelp/detect-secrets",
    )


def _own_rule(entry: dict[str, Any]) -> TokenRule:
    rule_id = entry["id"]
    validator = None
    if "validator" in entry:
        try:
            validator = VALIDATORS[entry["validator"]]
        except KeyError:
            raise RulesError(f"redaction rule {rule_id}: unknown validator") from None
    return TokenRule(
        id=rule_id,
        regex=_compile(rule_id, entry["regex"]),
        keywords=tuple(_lower_words(entry["keywords"], rule_id)),
        context=bool(entry.get("context", False)),
        group=entry.get("group"),
        extend=bool(entry.get("extend", False)),
        validator=validator,
        source=entry.get("source", ""),
    )


@functools.cache
def token_rules() -> tuple[TokenRule, ...]:
    data = _data()
    rules = [_detect_secrets_rule(e) for e in data.get("detect_secrets", ())]
    rules += [_own_rule(e) for e in data.get("pattern", ())]
    return tuple(rules)
