"""Task folders in the kubectl benchmark's format, read and checked.

A task folder holds ``task.yaml`` and the bash scripts it names::

    script:                      # the prompts, in order (one conversation)
      - prompt: "The web Service in namespace shop has no endpoints. Fix it."
      # - promptFile: prompt.md  # or the prompt's text in a file of the folder
    setup: setup.sh              # breaks something (kubectl against the cluster under test)
    verifier: verify.sh          # exit 0: the task is solved (it checks the cluster)
    cleanup: cleanup.sh          # removes what the task made
    difficulty: easy             # easy | medium | hard
    expect:                      # optional: answer-judged tasks (case-insensitive substrings)
      - contains: "no endpoints"
      - notContains: "OOMKilled"

A task needs a verifier or ``expect`` (or both: then both decide). A folder that cannot be
used (no ``task.yaml``, a script that is missing or not executable, a key that is wrong) is
not dropped: :func:`load_tasks` returns it as a :class:`TaskProblem`, reported as that task's
error while the other tasks run.
"""

from __future__ import annotations

import difflib
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from opsconsole.errors import OpsConsoleError, UsageError

TASK_FILE = "task.yaml"
SCRIPT_KEYS = ("setup", "verifier", "cleanup")
DIFFICULTIES = ("easy", "medium", "hard")
#: keys of the benchmark's format that do not change how a task runs here (each task gets
#: its own sandbox anyway)
IGNORED_KEYS = ("isolation", "disabled", "tags", "description")
KNOWN_KEYS = ("script", *SCRIPT_KEYS, "difficulty", "expect", "timeout", *IGNORED_KEYS)


class TaskError(OpsConsoleError):
    """A task folder that cannot be run; its message names the folder and what is wrong."""

    code = "invalid_task"


@dataclass(frozen=True)
class Expectation:
    """One answer check: the final answer contains (or must not contain) ``text``."""

    text: str
    present: bool = True

    def holds(self, answer: str) -> bool:
        return (self.text.casefold() in answer.casefold()) == self.present

    @property
    def rule(self) -> str:
        return ("contains" if self.present else "notContains") + f" {self.text!r}"


@dataclass(frozen=True)
class Task:
    name: str
    directory: Path
    prompts: tuple[str, ...]
    difficulty: str = ""
    setup: Path | None = None
    verifier: Path | None = None
    cleanup: Path | None = None
    expect: tuple[Expectation, ...] = ()
    #: seconds the agent has for the whole script (None: the run's ``--timeout``)
    timeout: float | None = None


@dataclass(frozen=True)
class TaskProblem:
    """A folder that is not a usable task, and why."""

    name: str
    directory: Path
    error: str


def _fail(where: Path, what: str) -> TaskError:
    return TaskError(f"task {where.name}: {what}")


def _script(folder: Path, key: str, value: Any) -> Path | None:
    if value is None or value == "":
        return None
    if not isinstance(value, str):
        raise _fail(folder, f"{key}: expected the file name of a script, got {value!r}")
    path = (folder / value).resolve()
    if not path.is_relative_to(folder.resolve()):
        raise _fail(folder, f"{key}: {value} is outside the task folder")
    if not path.is_file():
        raise _fail(folder, f"{key}: script {value} does not exist in {folder}")
    if not os.access(path, os.X_OK):
        raise _fail(
            folder,
            f"{key}: script {value} is not executable (chmod +x {folder / value})",
        )
    return path


def _prompts(folder: Path, script: Any) -> tuple[str, ...]:
    if not isinstance(script, list) or not script:
        raise _fail(folder, "script: expected a list of {prompt: ...} entries")
    prompts: list[str] = []
    for i, entry in enumerate(script):
        where = f"script[{i}]"
        if not isinstance(entry, dict):
            raise _fail(folder, f"{where}: expected a mapping with prompt or promptFile")
        unknown = sorted(set(entry) - {"prompt", "promptFile"})
        if unknown:
            raise _fail(folder, f"{where}: unknown key {unknown[0]!r} (known: prompt, promptFile)")
        text: Any = entry.get("prompt")
        if "promptFile" in entry:
            name = entry["promptFile"]
            path = folder / str(name)
            if not path.is_file():
                raise _fail(folder, f"{where}.promptFile: {name} does not exist in {folder}")
            text = path.read_text(encoding="utf-8")
        if not isinstance(text, str) or not text.strip():
            raise _fail(folder, f"{where}: the prompt is empty")
        prompts.append(text.strip())
    return tuple(prompts)


def _expect(folder: Path, value: Any) -> tuple[Expectation, ...]:
    if value is None:
        return ()
    if not isinstance(value, list):
        raise _fail(folder, "expect: expected a list of {contains: ...} / {notContains: ...}")
    out: list[Expectation] = []
    for i, entry in enumerate(value):
        if not isinstance(entry, dict) or len(entry) != 1:
            raise _fail(folder, f"expect[{i}]: expected one of contains / notContains")
        ((key, text),) = entry.items()
        if key not in ("contains", "notContains") or not isinstance(text, str) or not text:
            raise _fail(folder, f"expect[{i}]: expected contains: TEXT or notContains: TEXT")
        out.append(Expectation(text, present=key == "contains"))
    return tuple(out)


def load_task(folder: Path) -> Task:
    """Read and check one task folder; raises :class:`TaskError` saying what is wrong."""
    import yaml

    folder = Path(folder)
    spec_path = folder / TASK_FILE
    if not spec_path.is_file():
        raise _fail(folder, f"no {TASK_FILE} in {folder}")
    try:
        data = yaml.safe_load(spec_path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
        raise _fail(folder, f"{TASK_FILE} does not parse: {exc}") from None
    if not isinstance(data, dict):
        raise _fail(folder, f"{TASK_FILE}: expected a mapping with script, setup, verifier")
    for key in data:
        if key not in KNOWN_KEYS:
            close = difflib.get_close_matches(str(key), KNOWN_KEYS, n=1)
            hint = f" (did you mean {close[0]!r}?)" if close else ""
            raise _fail(folder, f"{TASK_FILE}: unknown key {key!r}{hint}")
    scripts = {key: _script(folder, key, data.get(key)) for key in SCRIPT_KEYS}
    expect = _expect(folder, data.get("expect"))
    if scripts["verifier"] is None and not expect:
        raise _fail(folder, f"{TASK_FILE}: a task needs a verifier script or expect entries")
    difficulty = data.get("difficulty") or ""
    if difficulty and difficulty not in DIFFICULTIES:
        raise _fail(folder, f"difficulty: expected one of {', '.join(DIFFICULTIES)}")
    timeout = data.get("timeout")
    if timeout is not None:
        timeout = _seconds(folder, timeout)
    return Task(
        name=folder.name,
        directory=folder,
        prompts=_prompts(folder, data.get("script")),
        difficulty=str(difficulty),
        setup=scripts["setup"],
        verifier=scripts["verifier"],
        cleanup=scripts["cleanup"],
        expect=expect,
        timeout=timeout,
    )


def _seconds(folder: Path, value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or value <= 0:
        raise _fail(folder, f"timeout: expected a number of seconds > 0, got {value!r}")
    return float(value)


def load_tasks(directory: Path, names: list[str] | None = None) -> list[Task | TaskProblem]:
    """Every sub-folder of ``directory`` (sorted by name) as a task or a problem.
    ``names``: only these folders (shell patterns allowed)."""
    import fnmatch

    directory = Path(directory)
    if not directory.is_dir():
        raise UsageError(f"--tasks: {directory} is not a directory")
    folders = sorted(p for p in directory.iterdir() if p.is_dir() and not p.name.startswith("."))
    if names:
        chosen = [p for p in folders if any(fnmatch.fnmatchcase(p.name, n) for n in names)]
        if not chosen:
            known = ", ".join(p.name for p in folders)
            raise UsageError(f"no task in {directory} matches {' '.join(names)} (tasks: {known})")
        folders = chosen
    if not folders:
        raise UsageError(f"--tasks: {directory} has no task folders")
    out: list[Task | TaskProblem] = []
    for folder in folders:
        try:
            out.append(load_task(folder))
        except TaskError as exc:
            out.append(TaskProblem(folder.name, folder, exc.message))
    return out
