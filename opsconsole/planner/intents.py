"""What the user asked, in Chinese or English: an :class:`Intent` from the latest request.

Pure functions, no I/O. The intents, the words that signal them and example requests are data
(``intents.toml``, read by :mod:`opsconsole.planner.vocabulary`); :func:`parse_intent` finds
what the request names (:mod:`opsconsole.planner.slots`), scores every intent by its rules and
takes the best one (see the comment at the top of ``intents.toml`` for how rules fire and
score). Names the planner has already seen in earlier observations (``known``) help tell a
namespace from a pod or deployment name.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal, get_args

from opsconsole.planner.slots import (
    Known,
    all_namespaces,
    candidate_names,
    extract_lines,
    extract_namespace,
    extract_target,
    pod_state,
    wants_previous,
)
from opsconsole.planner.vocabulary import CJK_RE, IntentSpec, Rule, vocabulary

IntentKind = Literal[
    "pods",
    "logs",
    "diagnose",
    "unhealthy",
    "usage",
    "gpu",
    "nodes",
    "events",
    "deployments",
    "security",
    "mutate",
    "greeting",
    "help",
    "unknown",
]
KINDS: dict[str, IntentKind] = {k: k for k in get_args(IntentKind)}

Language = Literal["zh", "en"]

#: a request at least this similar to an example (names aside) takes its intent when no rule
#: fires; similarity is the Jaccard index of words and Chinese character pairs
EXAMPLE_MATCH = 0.8

__all__ = [
    "EXAMPLE_MATCH",
    "Intent",
    "IntentKind",
    "Known",
    "Language",
    "candidate_names",
    "change_verb",
    "classify",
    "detect_language",
    "extract_namespace",
    "extract_target",
    "parse_intent",
    "similarity",
]


@dataclass(frozen=True)
class Intent:
    kind: IntentKind
    language: Language
    text: str
    namespace: str | None = None
    target: str | None = None
    #: what the target is, when the text says so: pod | deployment | node | service | None
    target_kind: str | None = None
    all_namespaces: bool = False
    previous: bool = False
    lines: int | None = None
    #: the mutating verb for kind == "mutate" (delete | scale | restart | rollback)
    verb: str | None = None
    #: for a change: the pods it selects by state ("the crashlooping pods"), a [states] key
    state: str | None = None


def detect_language(text: str, preference: str = "auto") -> Language:
    if preference == "zh":
        return "zh"
    if preference == "en":
        return "en"
    return "zh" if CJK_RE.search(text or "") else "en"


# --- scoring ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Facts:
    """What holds for one request: the cues that match and what it names."""

    text: str
    target: bool
    namespace: bool
    target_kind: bool

    def holds(self, fact: str) -> bool:
        if fact.startswith("!"):
            return not self.holds(fact[1:])
        if fact in ("target", "namespace", "target_kind"):
            return bool(getattr(self, fact))
        name, _, half = fact.partition(".")
        cue = vocabulary().cues.get(name)
        if cue is None:
            raise ValueError(f"intents.toml: unknown cue or fact {fact!r}")
        return cue.matches(self.text, half or None)


def _fires(rule: Rule, facts: _Facts) -> bool:
    return (
        any(facts.holds(f) for f in rule.when)
        and all(facts.holds(f) for f in rule.need)
        and not any(all(facts.holds(f) for f in combo) for combo in rule.unless)
    )


def _tokens(text: str, names: list[str]) -> set[str]:
    """Words and Chinese character pairs of ``text``, the names it mentions replaced by a
    placeholder (so "why is checkout failing" is like "why is ledger failing")."""
    t = text.lower()
    for name in sorted(names, key=len, reverse=True):
        t = t.replace(name, " <name> ")
    words = set(re.findall(r"<name>|[a-z0-9][a-z0-9'-]*", t))
    cjk = re.sub(r"[^\u3400-\u9fff]+", " ", t).split()
    pairs = {run[i : i + 2] for run in cjk for i in range(max(1, len(run) - 1))}
    return words | pairs


def similarity(text: str, example: str) -> float:
    a = _tokens(text, candidate_names(text.lower()))
    b = _tokens(example, candidate_names(example.lower()))
    return len(a & b) / len(a | b) if a | b else 0.0


def _best_example(text: str, intents: tuple[IntentSpec, ...]) -> tuple[float, IntentSpec]:
    """The intent (of ``intents``, not empty) with the example most like ``text``; the first
    one on equal similarity."""
    scored = [(max((similarity(text, e) for e in i.all_examples), default=0.0), i) for i in intents]
    return max(scored, key=lambda s: s[0])


def classify(text: str, *, target: bool, namespace: bool, target_kind: bool) -> IntentKind:
    """The intent of a (lower-cased) request: the best-scored one whose rules fire, ties to
    the most similar example; with no rule firing, the intent of an example the request is a
    near-copy of (not one whose words are there but whose conditions refused it); else
    unknown."""
    facts = _Facts(text, target, namespace, target_kind)
    scores: dict[str, float] = {}
    refused: set[str] = set()
    for spec in vocabulary().intents:
        fired = [r.score for r in spec.rules if _fires(r, facts)]
        if fired:
            scores[spec.name] = max(fired)
        elif any(facts.holds(f) for r in spec.rules for f in r.when):
            refused.add(spec.name)  # its words are there, its conditions say no
    if scores:
        top = max(scores.values())
        tied = tuple(i for i in vocabulary().intents if scores.get(i.name) == top)
        best = tied[0] if len(tied) == 1 else _best_example(text, tied)[1]
        return KINDS[best.name]
    open_ = tuple(i for i in vocabulary().intents if i.name not in refused)
    if not open_:
        return "unknown"
    near, spec = _best_example(text, open_)
    return KINDS[spec.name] if near >= EXAMPLE_MATCH else "unknown"


def change_verb(text: str) -> str | None:
    """The change a (lower-cased) request asks for: the verb whose word comes first in it."""
    spots = [
        (i, name) for name, cue in vocabulary().verbs.items() if (i := cue.first(text)) is not None
    ]
    return min(spots)[1] if spots else None


# --- the request -----------------------------------------------------------------------------


def parse_intent(text: str, *, language: str = "auto", known: Known | None = None) -> Intent:
    """Classify a request. Never raises; unknown requests get kind ``"unknown"``."""
    raw = (text or "").strip()
    lang = detect_language(raw, language)
    t = raw.lower()
    known = known or Known()
    if not t:
        return Intent(kind="help", language=lang, text=raw)
    ns = extract_namespace(t, known)
    target, target_kind = extract_target(t, ns)
    if target is not None and target_kind is None and target in known.nodes:
        target_kind = "node"
    kind = classify(
        t, target=target is not None, namespace=ns is not None, target_kind=target_kind is not None
    )
    if kind == "greeting":
        return Intent(kind="greeting", language=lang, text=raw)
    verb = change_verb(t) if kind == "mutate" else None
    return Intent(
        kind=kind,
        language=lang,
        text=raw,
        namespace=ns,
        target=target,
        target_kind=target_kind,
        all_namespaces=all_namespaces(t),
        previous=wants_previous(t),
        lines=extract_lines(t),
        verb=verb,
        state=pod_state(t) if verb == "delete" else None,
    )
