"""``opsconsole eval --from-session FILE``: a recorded session becomes a regression scenario.

The heuristic (documented in the README section and the generated file's header):

- **question**: the task of the session's first top-level run (``RunStarted`` without a
  parent); stored under ``zh`` when it contains CJK characters, else ``en``.
- **sandbox**: the header's ``scenario`` if one was recorded, else ``demo``. A session recorded
  on a real cluster (header ``sandbox: false``) is flagged in the file: its set-up has to be
  reproduced by hand (``sandbox.setup``) before the scenario means anything.
- **expected root cause**: from that run's final ``Answer``, only its root-cause part (the
  text before an "Evidence" / "证据" / "Next steps" / "下一步" heading, or the first 800
  characters). Two all-of groups are written:
  1. the *subject*: the first Kubernetes object named there (in backticks, bold, or
     ``namespace/name``; for a prose answer, an object-like word of the question that the
     answer repeats), with a pod's ReplicaSet/random suffix stripped so a re-created pod
     still matches (``payment-api-7f9c4d8b6-x2k4q`` -> ``payment-api``);
  2. the *cause*: any of the failure terms found there from a fixed vocabulary
     (CrashLoopBackOff, OOMKilled, ImagePullBackOff, Insufficient cpu, MemoryPressure, selector,
     readiness, ...) plus upper-case identifiers quoted in backticks or in an error such as
     ``KeyError: 'PAYMENT_GATEWAY_URL'``.
  No forbidden claims are guessed; add ``none:`` rules by hand.
- the file is written to ``<data dir>/evals/session-<file stem>.yaml`` (``-2``, ``-3``... if
  taken), where ``opsconsole eval`` loads user scenarios from, and its path is returned.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import yaml

from opsconsole.evals.scenario import ScenarioError, parse_scenario, user_dir

ROOT_CAUSE_END = re.compile(
    r"^\s*(?:\*\*|#+\s*)?(evidence|证据|next steps?|下一步|建议的下一步|suggested|fix|修复)\b",
    re.I | re.M,
)
CAUSE_TERMS = (
    "CrashLoopBackOff",
    "OOMKilled",
    "ImagePullBackOff",
    "ErrImagePull",
    "CreateContainerConfigError",
    "FailedScheduling",
    "Insufficient cpu",
    "Insufficient memory",
    "MemoryPressure",
    "DiskPressure",
    "PIDPressure",
    "NotReady",
    "Evicted",
    "readiness",
    "liveness",
    "selector",
    "endpoints",
    "exit code 137",
    "Forbidden",
    "KeyError",
    "connection refused",
    "taint",
)
_BACKTICK = re.compile(r"`([^`\n]{2,120})`")
_BOLD = re.compile(r"\*\*([^*\n]{2,120})\*\*")
_NS_NAME = re.compile(r"\b([a-z0-9][a-z0-9-]{0,62})/([a-z0-9][a-z0-9.-]{0,252})\b")
_K8S_NAME = re.compile(r"^[a-z0-9]([a-z0-9.-]*[a-z0-9])?$")
#: Kubernetes' generated suffixes use an alphabet without vowels (rand.SafeEncodeString), so
#: "node-exporter" or "my-redis" are never mistaken for one
_SAFE = "[bcdfghjklmnpqrstvwxz2456789]"
_POD_SUFFIX = re.compile(rf"-(?:{_SAFE}{{6,10}}-)?{_SAFE}{{5}}$")
_IDENT = re.compile(r"\b[A-Z][A-Z0-9]*_[A-Z0-9_]+\b")
_ERROR_ARG = re.compile(r"\b[A-Z][A-Za-z]+Error:\s*'([^'\n]{2,80})'")
_CJK = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]")
_KIND_WORDS = {"pod", "node", "deployment", "service", "configmap", "statefulset", "daemonset"}


def root_cause_text(answer: str) -> str:
    """The part of an answer before its evidence / next-steps section."""
    m = ROOT_CAUSE_END.search(answer)
    text = answer[: m.start()] if m and m.start() > 0 else answer[:800]
    return text.strip()


def workload_name(name: str) -> str:
    """Strip a pod's generated suffix (``web-7d9f8c6b5-x2k4q`` -> ``web``)."""
    base = _POD_SUFFIX.sub("", name)
    return base if base and base != name and len(base) >= 2 else name


def _looks_like_object(token: str) -> bool:
    return bool(_K8S_NAME.match(token)) and ("-" in token or any(c.isdigit() for c in token))


def object_names(text: str) -> list[str]:
    """Kubernetes object names in ``text``, in order of appearance, suffixes stripped."""
    found: list[tuple[int, str]] = []
    for rx in (_BACKTICK, _BOLD):
        for m in rx.finditer(text):
            token = m.group(1).strip()
            if "/" in token:
                token = token.rsplit("/", 1)[-1]
            if _looks_like_object(token) and token not in _KIND_WORDS:
                found.append((m.start(), token))
    for m in _NS_NAME.finditer(text):
        if m.group(1) in _KIND_WORDS or _looks_like_object(m.group(2)):
            found.append((m.start(), m.group(2)))
    out: list[str] = []
    for _, token in sorted(found):
        name = workload_name(token)
        if name not in out:
            out.append(name)
    return out


def names_in_both(task: str, answer: str) -> list[str]:
    """Object-like words of the question (``payment-api``, ``worker-3``) that the answer repeats
    (for prose answers that name nothing in backticks or bold)."""
    low = answer.lower()
    out: list[str] = []
    for token in re.findall(r"[a-z0-9][a-z0-9.-]*[a-z0-9]", task.lower()):
        if _looks_like_object(token) and token in low and token not in out:
            out.append(workload_name(token))
    return out


def cause_terms(text: str) -> list[str]:
    low = text.casefold()
    out = [t for t in CAUSE_TERMS if t.casefold() in low]
    for m in _ERROR_ARG.finditer(text):
        out.append(m.group(1))
    for m in _BACKTICK.finditer(text):
        out += _IDENT.findall(m.group(1))
    seen: list[str] = []
    for t in out:
        if t not in seen:
            seen.append(t)
    return seen


def _first_run(session: Any) -> tuple[str, str]:
    from opsconsole.agent.events import Answer, RunStarted

    first = next(
        (e for e in session.events if isinstance(e, RunStarted) and not e.parent_run_id), None
    )
    if first is None or not first.task.strip():
        raise ScenarioError(f"{session.path}: the session has no task to turn into a question")
    answers = [e for e in session.events if isinstance(e, Answer) and e.run_id == first.run_id]
    if not answers or not answers[-1].text.strip():
        raise ScenarioError(
            f"{session.path}: the first task has no final answer to take the root cause from",
            hint="only a session whose first run finished with an answer can become a scenario",
        )
    return first.task.strip(), answers[-1].text


def build_scenario_data(session: Any, name: str) -> tuple[dict[str, Any], list[str]]:
    """(scenario data, header comment lines) for ``session`` (a sessions.Session)."""
    task, answer = _first_run(session)
    cause_part = root_cause_text(answer)
    names = object_names(cause_part) or object_names(answer) or names_in_both(task, cause_part)
    causes = cause_terms(cause_part) or cause_terms(answer)
    groups: list[list[str]] = []
    if names:
        groups.append([names[0]])
    if causes:
        groups.append(causes[:8])
    if not groups:
        raise ScenarioError(
            f"{session.path}: no object name or failure term found in the final answer",
            hint="write the scenario by hand (see `opsconsole eval --list` for examples)",
        )
    header = session.header or {}
    lang = "zh" if _CJK.search(task) else "en"
    sandbox = str(header.get("scenario") or "demo")
    data: dict[str, Any] = {
        "name": name,
        "title": (task if len(task) <= 60 else task[:59] + "…").replace("\n", " "),
        "agent": "ops",
        "tags": ["from-session"],
        "sandbox": {"scenario": sandbox},
        "question": {lang: task},
        "expect": {"answer": {"all": groups}},
        "origin": {
            "session": str(session.path),
            "session_id": header.get("session_id", ""),
            "model": header.get("model", ""),
            "recorded": header.get("started", ""),
            "context": header.get("context", ""),
        },
    }
    comments = [
        f"Generated by `opsconsole eval --from-session` from {Path(session.path).name}.",
        "question: the first task; expect.answer: group 1 = the first object named in the",
        "answer's root cause (pod suffix stripped), group 2 = any failure term found there.",
        "Review the rules, add forbidden claims (expect.answer.none), and a zh/en question.",
    ]
    if not header.get("sandbox", False):
        comments += [
            f"WARNING: recorded on cluster context {header.get('context') or '?'!s}, not the",
            f"sandbox: the '{sandbox}' sandbox may not show this incident; add sandbox.setup",
            "steps that reproduce it.",
        ]
    return data, comments


def _slug(text: str) -> str:
    s = re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")
    return s[:50].strip("-") or "session"


def scenario_from_session(path: Path, directory: Path | None = None) -> Path:
    """Write a scenario file for the session at ``path``; returns the file's path."""
    from opsconsole.paths import ensure_private_dir
    from opsconsole.sessions import read_session

    session = read_session(path, allow_partial=True)
    directory = directory or user_dir()
    base = "session-" + _slug(Path(path).stem)
    name, n = base, 1
    while (directory / f"{name}.yaml").exists():
        n += 1
        name = f"{base}-{n}"
    data, comments = build_scenario_data(session, name)
    parse_scenario(data, f"scenario generated from {path}")  # what we write must load
    text = "".join(f"# {c}\n" for c in comments)
    text += yaml.safe_dump(data, sort_keys=False, allow_unicode=True, width=100)
    try:
        ensure_private_dir(directory)
        target = directory / f"{name}.yaml"
        with open(target, "x", encoding="utf-8") as fh:
            fh.write(text)
    except OSError as exc:
        raise ScenarioError(
            f"cannot write the scenario into {directory}: {exc.strerror or exc}"
        ) from None
    return target
