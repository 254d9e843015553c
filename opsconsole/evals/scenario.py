"""Eval scenarios as data: YAML files, validated into frozen dataclasses with clear errors.

A scenario file (see ``scenarios/*.yaml`` for examples)::

    name: payment-api-crashloop          # [a-z0-9-]; defaults to the file name
    title: payment-api keeps crashing     # one line for the table
    agent: ops                            # ops | security | coder (which agent answers)
    tags: [demo-fault]
    sandbox:
      scenario: demo                      # a sandbox scenario (opsconsole/sandbox/scenarios)
      speed: 1.0                          # simulation speed factor
      setup:                              # optional, applied in order before the run
        - scale: {namespace: shop, name: cart, replicas: 0}
        - patch: {kind: service, namespace: shop, name: web, body: {spec: {selector: {..}}}}
        - delete: {kind: pod, namespace: shop, name: cart-abc}
        - delete: {kind: pod, namespace: shop, selector: app=web}   # the first match
        - create: {namespace: shop, manifest: {apiVersion: v1, kind: ConfigMap, ...}}
        - forbid: {resource: pods/log, namespace: payments, verbs: [get]}
        - wait: 2                         # seconds
    write: false                          # write mode + every mutating call approved
    question:
      en: Why is payment-api crashing?
      zh: payment-api 为什么一直崩溃？
    expect:
      answer:
        all:                              # every group must match; a group is any-of
          - [payment-api]
          - [PAYMENT_GATEWAY_URL, gateway_url, {re: "config ?map"}]
        any: [...]                        # optional: at least one of these groups
        none:                             # forbidden claims: any match fails the run
          - {re: "\\bOOM"}
      cluster:                            # fix tasks: verified through the k8s layer
        - deployment: {namespace: shop, name: cart, replicas: 4, ready: 4}
        - restarted: {namespace: shop, deployment: web}
      manifest:                           # the answer must hold YAML passing a dry run
        kinds: [Deployment, Service]
        dry_run: true
        namespace: shop
        match: [{kind: Deployment, name: web-cache, replicas: 2, image: "nginx:1.27"}]
      tools:                              # optional: tools that must / must not be called
        called: [scale_deployment]
        not_called: [delete_pod]

A keyword is a case-insensitive substring; ``{re: ...}`` is a case-insensitive regex. A group
written as a plain string is a group of one keyword.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from importlib import resources as ires
from pathlib import Path
from typing import Any

import yaml

from opsconsole.errors import UsageError

NAME_RE = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
AGENTS = ("ops", "security", "coder")
LANGS = ("en", "zh")
SETUP_OPS = ("scale", "patch", "delete", "create", "forbid", "wait")
PATCH_KINDS = ("deployment", "service", "configmap", "statefulset", "daemonset", "pod", "node")
DELETE_KINDS = ("pod", "deployment", "service", "configmap", "statefulset", "daemonset")


class ScenarioError(UsageError):
    """A scenario file is invalid (file, key, what was expected) or a name is unknown."""


# --- data ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Keyword:
    text: str
    regex: bool = False

    def matches(self, answer: str) -> bool:
        if self.regex:
            return re.search(self.text, answer, re.IGNORECASE | re.MULTILINE) is not None
        return self.text.casefold() in answer.casefold()

    def describe(self) -> str:
        return f"/{self.text}/" if self.regex else repr(self.text)

    def to_data(self) -> Any:
        return {"re": self.text} if self.regex else self.text


Group = tuple[Keyword, ...]


@dataclass(frozen=True)
class AnswerRules:
    all: tuple[Group, ...] = ()
    any: tuple[Group, ...] = ()
    none: tuple[Keyword, ...] = ()

    @property
    def empty(self) -> bool:
        return not (self.all or self.any or self.none)


@dataclass(frozen=True)
class ClusterCheck:
    kind: str  # "deployment" | "restarted"
    namespace: str
    name: str
    replicas: int | None = None
    ready: int | None = None
    min_ready: int | None = None
    timeout: float = 20.0

    def describe(self) -> str:
        if self.kind == "restarted":
            return f"deployment {self.namespace}/{self.name} restarted"
        want = []
        if self.replicas is not None:
            want.append(f"replicas={self.replicas}")
        if self.ready is not None:
            want.append(f"ready={self.ready}")
        if self.min_ready is not None:
            want.append(f"ready>={self.min_ready}")
        return f"deployment {self.namespace}/{self.name} " + ", ".join(want)


@dataclass(frozen=True)
class ManifestRule:
    kinds: tuple[str, ...] = ()
    dry_run: bool = True
    namespace: str = "default"
    match: tuple[dict[str, Any], ...] = ()


@dataclass(frozen=True)
class ToolRules:
    called: tuple[str, ...] = ()
    not_called: tuple[str, ...] = ()


@dataclass(frozen=True)
class SetupStep:
    op: str
    args: dict[str, Any]


@dataclass(frozen=True)
class Scenario:
    name: str
    question: dict[str, str]
    title: str = ""
    agent: str = "ops"
    tags: tuple[str, ...] = ()
    sandbox: str = "demo"
    speed: float = 1.0
    setup: tuple[SetupStep, ...] = ()
    write: bool = False
    answer: AnswerRules = field(default_factory=AnswerRules)
    cluster: tuple[ClusterCheck, ...] = ()
    manifest: ManifestRule | None = None
    tools: ToolRules = field(default_factory=ToolRules)
    source: str = ""  # "builtin" or the user file's path
    namespace: str | None = None  # default namespace of the run

    def question_for(self, lang: str) -> tuple[str, str]:
        """(question, language actually used): falls back to the other language if missing."""
        if lang in self.question:
            return self.question[lang], lang
        other = next(iter(self.question))
        return self.question[other], other


# --- validation ---------------------------------------------------------------------------


class _V:
    """Validation helpers that name the file and the key in every message."""

    def __init__(self, where: str) -> None:
        self.where = where

    def fail(self, key: str, expected: str, got: Any = None) -> ScenarioError:
        tail = f" (got {got!r})" if got is not None else ""
        return ScenarioError(f"{self.where}: {key}: expected {expected}{tail}")

    def mapping(self, value: Any, key: str, allowed: set[str] | None = None) -> dict[str, Any]:
        if value is None:
            return {}
        if not isinstance(value, dict):
            raise self.fail(key, "a mapping", type(value).__name__)
        if allowed is not None:
            unknown = sorted(set(map(str, value)) - allowed)
            if unknown:
                raise ScenarioError(
                    f"{self.where}: {key}: unknown key {unknown[0]!r}; "
                    f"expected one of: {', '.join(sorted(allowed))}"
                )
        return value

    def string(self, value: Any, key: str, *, required: bool = True) -> str:
        if value is None and not required:
            return ""
        if not isinstance(value, str) or not value.strip():
            raise self.fail(key, "a non-empty string", value)
        return value

    def integer(self, value: Any, key: str) -> int | None:
        if value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, int) or value < 0:
            raise self.fail(key, "an integer >= 0", value)
        return value

    def number(self, value: Any, key: str, default: float) -> float:
        if value is None:
            return default
        if isinstance(value, bool) or not isinstance(value, int | float) or value <= 0:
            raise self.fail(key, "a number > 0", value)
        return float(value)

    def keyword(self, value: Any, key: str) -> Keyword:
        if isinstance(value, str) and value.strip():
            return Keyword(value)
        if isinstance(value, int | float) and not isinstance(value, bool):
            return Keyword(str(value))
        if isinstance(value, dict) and set(value) == {"re"} and isinstance(value["re"], str):
            try:
                re.compile(value["re"])
            except re.error as exc:
                raise self.fail(key, f"a valid regular expression ({exc})", value["re"]) from None
            return Keyword(value["re"], regex=True)
        raise self.fail(key, 'a keyword (string) or {re: "regex"}', value)

    def group(self, value: Any, key: str) -> Group:
        if isinstance(value, list):
            if not value:
                raise self.fail(key, "a non-empty list of keywords")
            return tuple(self.keyword(v, f"{key}[{i}]") for i, v in enumerate(value))
        return (self.keyword(value, key),)

    def groups(self, value: Any, key: str) -> tuple[Group, ...]:
        if value is None:
            return ()
        if not isinstance(value, list):
            raise self.fail(key, "a list of keyword groups", type(value).__name__)
        return tuple(self.group(v, f"{key}[{i}]") for i, v in enumerate(value))

    def strings(self, value: Any, key: str) -> tuple[str, ...]:
        if value is None:
            return ()
        if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
            raise self.fail(key, "a list of strings", value)
        return tuple(value)


def _answer(v: _V, data: Any) -> AnswerRules:
    d = v.mapping(data, "expect.answer", {"all", "any", "none"})
    none = d.get("none")
    if none is not None and not isinstance(none, list):
        raise v.fail("expect.answer.none", "a list of keywords", type(none).__name__)
    return AnswerRules(
        all=v.groups(d.get("all"), "expect.answer.all"),
        any=v.groups(d.get("any"), "expect.answer.any"),
        none=tuple(v.keyword(x, f"expect.answer.none[{i}]") for i, x in enumerate(none or [])),
    )


def _cluster(v: _V, data: Any) -> tuple[ClusterCheck, ...]:
    if data is None:
        return ()
    if not isinstance(data, list):
        raise v.fail("expect.cluster", "a list of checks", type(data).__name__)
    out = []
    for i, item in enumerate(data):
        key = f"expect.cluster[{i}]"
        item = v.mapping(item, key, {"deployment", "restarted"})
        if len(item) != 1:
            raise v.fail(key, "one check: deployment or restarted", item)
        kind, body = next(iter(item.items()))
        if kind == "deployment":
            b = v.mapping(
                body,
                f"{key}.deployment",
                {"namespace", "name", "replicas", "ready", "min_ready", "timeout"},
            )
            check = ClusterCheck(
                "deployment",
                v.string(b.get("namespace"), f"{key}.deployment.namespace"),
                v.string(b.get("name"), f"{key}.deployment.name"),
                replicas=v.integer(b.get("replicas"), f"{key}.deployment.replicas"),
                ready=v.integer(b.get("ready"), f"{key}.deployment.ready"),
                min_ready=v.integer(b.get("min_ready"), f"{key}.deployment.min_ready"),
                timeout=v.number(b.get("timeout"), f"{key}.deployment.timeout", 20.0),
            )
            if check.replicas is None and check.ready is None and check.min_ready is None:
                raise v.fail(f"{key}.deployment", "at least one of replicas, ready, min_ready")
        else:
            b = v.mapping(body, f"{key}.restarted", {"namespace", "deployment", "timeout"})
            check = ClusterCheck(
                "restarted",
                v.string(b.get("namespace"), f"{key}.restarted.namespace"),
                v.string(b.get("deployment"), f"{key}.restarted.deployment"),
                timeout=v.number(b.get("timeout"), f"{key}.restarted.timeout", 20.0),
            )
        out.append(check)
    return tuple(out)


def _manifest(v: _V, data: Any) -> ManifestRule | None:
    if data is None:
        return None
    d = v.mapping(data, "expect.manifest", {"kinds", "dry_run", "namespace", "match"})
    match = d.get("match") or []
    if not isinstance(match, list) or not all(isinstance(m, dict) and m.get("kind") for m in match):
        raise v.fail("expect.manifest.match", "a list of mappings with a kind", match)
    dry = d.get("dry_run", True)
    if not isinstance(dry, bool):
        raise v.fail("expect.manifest.dry_run", "true or false", dry)
    return ManifestRule(
        kinds=v.strings(d.get("kinds"), "expect.manifest.kinds"),
        dry_run=dry,
        namespace=v.string(d.get("namespace", "default"), "expect.manifest.namespace"),
        match=tuple(dict(m) for m in match),
    )


def _setup(v: _V, data: Any) -> tuple[SetupStep, ...]:
    if data is None:
        return ()
    if not isinstance(data, list):
        raise v.fail("sandbox.setup", "a list of steps", type(data).__name__)
    steps = []
    for i, item in enumerate(data):
        key = f"sandbox.setup[{i}]"
        item = v.mapping(item, key, set(SETUP_OPS))
        if len(item) != 1:
            raise v.fail(key, f"one operation of: {', '.join(SETUP_OPS)}", item)
        op, args = next(iter(item.items()))
        if op == "wait":
            steps.append(SetupStep("wait", {"seconds": v.number(args, key + ".wait", 1.0)}))
            continue
        a = dict(v.mapping(args, f"{key}.{op}"))
        if op == "scale":
            v.string(a.get("namespace"), f"{key}.scale.namespace")
            v.string(a.get("name"), f"{key}.scale.name")
            if v.integer(a.get("replicas"), f"{key}.scale.replicas") is None:
                raise v.fail(f"{key}.scale.replicas", "an integer >= 0")
        elif op in ("patch", "delete"):
            kinds = PATCH_KINDS if op == "patch" else DELETE_KINDS
            kind = str(a.get("kind", "")).lower()
            if kind not in kinds:
                raise v.fail(f"{key}.{op}.kind", f"one of {', '.join(kinds)}", a.get("kind"))
            a["kind"] = kind
            if kind != "node":
                v.string(a.get("namespace"), f"{key}.{op}.namespace")
            if op == "delete" and kind == "pod" and "selector" in a:
                v.string(a.get("selector"), f"{key}.delete.selector")
            else:
                v.string(a.get("name"), f"{key}.{op}.name")
            if op == "patch":
                v.mapping(a.get("body"), f"{key}.patch.body")
                if not a.get("body"):
                    raise v.fail(f"{key}.patch.body", "a non-empty mapping (a merge patch)")
        elif op == "create":
            m = v.mapping(a.get("manifest"), f"{key}.create.manifest")
            if not m.get("kind") or not m.get("apiVersion"):
                raise v.fail(f"{key}.create.manifest", "a manifest with apiVersion and kind")
        elif op == "forbid":
            v.string(a.get("resource"), f"{key}.forbid.resource")
        steps.append(SetupStep(op, a))
    return tuple(steps)


def _sandbox_scenarios() -> list[str]:
    try:
        from opsconsole.sandbox.scenario import list_scenarios
    except ImportError:  # pragma: no cover - the sandbox ships with opsconsole
        return []
    return list_scenarios()


def parse_scenario(data: Any, where: str, *, default_name: str = "", source: str = "") -> Scenario:
    """Validate one scenario's data (``where`` names it in error messages)."""
    v = _V(where)
    d = v.mapping(
        data,
        "top level",
        {
            "name",
            "title",
            "agent",
            "tags",
            "sandbox",
            "write",
            "question",
            "expect",
            "namespace",
            "notes",
            "origin",
        },
    )
    if not d:
        raise v.fail("top level", "a mapping with name, question and expect")
    name = d.get("name", default_name)
    if not isinstance(name, str) or not NAME_RE.match(name):
        raise v.fail("name", "lower-case letters, digits and dashes", name)
    agent = d.get("agent", "ops")
    if agent not in AGENTS:
        raise v.fail("agent", f"one of {', '.join(AGENTS)}", agent)
    q = v.mapping(d.get("question"), "question", set(LANGS))
    if not q:
        raise v.fail("question", "a mapping with en and/or zh")
    question = {lang: v.string(q[lang], f"question.{lang}") for lang in LANGS if lang in q}
    sb = d.get("sandbox", "demo")
    if isinstance(sb, str):
        sb = {"scenario": sb}
    sb = v.mapping(sb, "sandbox", {"scenario", "speed", "setup"})
    write = d.get("write", False)
    if not isinstance(write, bool):
        raise v.fail("write", "true or false", write)
    exp = v.mapping(d.get("expect"), "expect", {"answer", "cluster", "manifest", "tools"})
    tools = v.mapping(exp.get("tools"), "expect.tools", {"called", "not_called"})
    scn = Scenario(
        name=name,
        question=question,
        title=v.string(d.get("title"), "title", required=False),
        agent=agent,
        tags=v.strings(d.get("tags"), "tags"),
        sandbox=v.string(sb.get("scenario", "demo"), "sandbox.scenario"),
        speed=v.number(sb.get("speed"), "sandbox.speed", 1.0),
        setup=_setup(v, sb.get("setup")),
        write=write,
        answer=_answer(v, exp.get("answer")),
        cluster=_cluster(v, exp.get("cluster")),
        manifest=_manifest(v, exp.get("manifest")),
        tools=ToolRules(
            called=v.strings(tools.get("called"), "expect.tools.called"),
            not_called=v.strings(tools.get("not_called"), "expect.tools.not_called"),
        ),
        source=source,
        namespace=v.string(d.get("namespace"), "namespace", required=False) or None,
    )
    known = _sandbox_scenarios()
    if known and scn.sandbox not in known:
        raise v.fail("sandbox.scenario", f"one of {', '.join(known)}", scn.sandbox)
    if scn.answer.empty and not scn.cluster and scn.manifest is None and not scn.tools.called:
        raise v.fail("expect", "at least one rule (answer, cluster, manifest or tools)")
    if scn.cluster and not scn.write:
        raise v.fail("write", "true for a scenario with cluster checks (a fix task)", write)
    return scn


def load_file(path: Path, *, source: str = "") -> Scenario:
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ScenarioError(f"{path}: cannot read: {exc.strerror or exc}") from None
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        at = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        problem = getattr(exc, "problem", None) or "invalid YAML"
        raise ScenarioError(f"{path}: not valid YAML{at}: {problem}") from None
    return parse_scenario(data, str(path), default_name=path.stem, source=source or str(path))


# --- discovery ----------------------------------------------------------------------------


def user_dir() -> Path:
    """Where user scenarios live (and ``--from-session`` writes): ``<data dir>/evals``."""
    from opsconsole import paths

    return paths.data_dir() / "evals"


def builtin_scenarios() -> list[Scenario]:
    root = ires.files("opsconsole.evals").joinpath("scenarios")
    out = []
    for entry in sorted(root.iterdir(), key=lambda p: p.name):
        if entry.name.endswith((".yaml", ".yml")):
            out.append(load_file(Path(str(entry)), source="builtin"))
    return out


def load_all(extra_dir: Path | None = None, *, include_user: bool = True) -> list[Scenario]:
    """Built-in scenarios, then the user's (``user_dir()``); a duplicate name is an error."""
    scenarios = builtin_scenarios()
    dirs = []
    if include_user:
        dirs.append(user_dir())
    if extra_dir is not None:
        dirs.append(extra_dir)
    for d in dirs:
        if d.is_dir():
            for path in sorted(d.iterdir()):
                if path.suffix in (".yaml", ".yml") and path.is_file():
                    scenarios.append(load_file(path))
    seen: dict[str, str] = {}
    for s in scenarios:
        if s.name in seen:
            raise ScenarioError(
                f"two scenarios are named {s.name!r}: {seen[s.name]} and {s.source}",
                hint="rename one of them (the `name:` key or the file name)",
            )
        seen[s.name] = s.source
    return scenarios


def select(scenarios: list[Scenario], names: list[str] | None) -> list[Scenario]:
    """The scenarios called ``names`` (all when empty); an unknown name lists the known ones.

    A name may also be a tag (``demo-fault``) or a shell-style pattern (``fix-*``)."""
    if not names:
        return list(scenarios)
    import fnmatch

    chosen: list[Scenario] = []
    for name in names:
        hits = [
            s
            for s in scenarios
            if s.name == name or name in s.tags or fnmatch.fnmatchcase(s.name, name)
        ]
        if not hits:
            known = ", ".join(s.name for s in scenarios)
            raise ScenarioError(f"unknown scenario {name!r}; known scenarios: {known}")
        for s in hits:
            if s not in chosen:
                chosen.append(s)
    return chosen
