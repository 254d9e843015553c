"""The planner's vocabulary, read once from ``intents.toml``: cue words, verbs, intents with
their rules and example requests, the pod states a change can select, and the words that are
never names.

Pure data plus the one matcher every word list uses (:func:`has_word`): whole words for ASCII
words, substrings for Chinese words and for phrases (a space or an apostrophe inside).
"""

from __future__ import annotations

import functools
import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

DATA = Path(__file__).with_name("intents.toml")
CJK_RE = re.compile(r"[\u3400-\u9fff\uf900-\ufaff\u3000-\u303f\uff00-\uffef]")


@dataclass(frozen=True)
class Cue:
    """A named word list; ``patterns`` are regular expressions searched in the request."""

    name: str
    zh: tuple[str, ...] = ()
    en: tuple[str, ...] = ()
    patterns: tuple[re.Pattern[str], ...] = ()

    def matches(self, text: str, half: str | None = None) -> bool:
        words = self.zh if half == "zh" else self.en if half == "en" else self.zh + self.en
        if has_word(text, words):
            return True
        return half is None and any(p.search(text) for p in self.patterns)

    def first(self, text: str) -> int | None:
        """Where the earliest of its words or patterns starts in ``text``, if any."""
        spots = [i for w in self.zh + self.en if (i := word_at(text, w)) is not None]
        spots += [m.start() for p in self.patterns if (m := p.search(text))]
        return min(spots, default=None)


@dataclass(frozen=True)
class Rule:
    score: float
    when: tuple[str, ...]
    need: tuple[str, ...] = ()
    unless: tuple[tuple[str, ...], ...] = ()


@dataclass(frozen=True)
class IntentSpec:
    name: str
    rules: tuple[Rule, ...]
    examples: dict[str, tuple[str, ...]] = field(default_factory=dict)

    @property
    def all_examples(self) -> tuple[str, ...]:
        return tuple(e for lang in ("zh", "en") for e in self.examples.get(lang, ()))


@dataclass(frozen=True)
class PodState:
    """A state a change can select pods by: the words naming it, the analyzers' reasons and
    the listing's STATUS values that put a pod in it."""

    name: str
    label: str
    words: Cue
    reasons: frozenset[str]
    statuses: frozenset[str]


@dataclass(frozen=True)
class Vocabulary:
    cues: dict[str, Cue]
    verbs: dict[str, Cue]
    intents: tuple[IntentSpec, ...]
    stopwords: frozenset[str]
    all_namespaces: Cue
    previous: tuple[str, ...]
    states: dict[str, PodState]


def word_at(text: str, word: str) -> int | None:
    """Where ``word`` starts in ``text`` (whole word for ASCII words), or None."""
    if not word:
        return None
    if CJK_RE.search(word) or " " in word or "'" in word:
        i = text.find(word)
        return i if i >= 0 else None
    m = re.search(rf"(?<![a-z0-9]){re.escape(word)}(?![a-z0-9])", text)
    return m.start() if m else None


def has_word(text: str, words: tuple[str, ...]) -> bool:
    """Whole-word match for ASCII words, substring match for CJK words and phrases."""
    return any(word_at(text, w) is not None for w in words)


def _cue(name: str, raw: dict[str, object]) -> Cue:
    def strings(key: str) -> tuple[str, ...]:
        value = raw.get(key, [])
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise ValueError(f"{DATA.name}: {name}.{key} must be a list of strings")
        return tuple(value)

    return Cue(
        name,
        strings("zh"),
        strings("en"),
        tuple(re.compile(p, re.I) for p in strings("patterns")),
    )


def _facts(value: object, where: str) -> tuple[str, ...]:
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ValueError(f"{DATA.name}: {where} must be a list of strings")
    return tuple(value)


@functools.cache
def vocabulary() -> Vocabulary:
    raw = tomllib.loads(DATA.read_text(encoding="utf-8"))
    cues = {name: _cue(name, spec) for name, spec in raw["cues"].items()}
    verbs = {name: _cue(name, spec) for name, spec in raw["verbs"].items()}
    cues["change"] = Cue(
        "change",
        tuple(w for v in verbs.values() for w in v.zh),
        tuple(w for v in verbs.values() for w in v.en),
        tuple(p for v in verbs.values() for p in v.patterns),
    )
    intents = []
    for spec in raw["intents"]:
        name = spec["name"]
        rules = tuple(
            Rule(
                float(r["score"]),
                _facts(r["when"], f"{name}.when"),
                _facts(r.get("need", []), f"{name}.need"),
                tuple(_facts(u, f"{name}.unless") for u in r.get("unless", [])),
            )
            for r in spec.get("rules", [])
        )
        examples = {lang: tuple(spec.get("examples", {}).get(lang, ())) for lang in ("zh", "en")}
        intents.append(IntentSpec(name, rules, examples))
    words = raw["words"]
    all_ns = _cue(
        "all_namespaces",
        {"zh": words["all_namespaces"], "patterns": words["all_namespaces_patterns"]},
    )
    states = {
        name: PodState(
            name,
            str(spec["label"]),
            _cue(name, spec),
            frozenset(_facts(spec["reasons"], f"states.{name}.reasons")),
            frozenset(_facts(spec["statuses"], f"states.{name}.statuses")),
        )
        for name, spec in raw["states"].items()
    }
    return Vocabulary(
        states=states,
        cues=cues,
        verbs=verbs,
        intents=tuple(intents),
        stopwords=frozenset(words["stop"].split()),
        all_namespaces=all_ns,
        previous=tuple(words["previous"]),
    )
