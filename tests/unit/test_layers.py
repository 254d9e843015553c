"""The layers of docs/architecture.md, enforced: the import-linter contracts in pyproject.toml
(``lint-imports``; every import counts, those inside functions too) hold for the tree, and a
deliberate violation in a scratch copy of the package breaks them (so the check can fail)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
#: the ``lint-imports`` command, run by this interpreter
LINT = "import sys; from importlinter.cli import lint_imports_command as c; sys.exit(c())"


def _lint_imports(package_parent: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(package_parent)}
    return subprocess.run(
        [sys.executable, "-c", LINT, "--config", str(ROOT / "pyproject.toml"), "--no-cache"],
        capture_output=True,
        text=True,
        env=env,
        cwd=package_parent,
        timeout=300,
    )


def test_the_layer_contracts_hold() -> None:
    done = _lint_imports(ROOT)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "0 broken" in done.stdout


def test_an_upward_import_breaks_them(tmp_path: Path) -> None:
    shutil.copytree(
        ROOT / "opsconsole", tmp_path / "opsconsole", ignore=shutil.ignore_patterns("__pycache__")
    )
    events = tmp_path / "opsconsole" / "agent" / "events.py"
    # the kernel reaching up into the sessions layer, inside a function as such imports hide
    events.write_text(
        events.read_text(encoding="utf-8")
        + "\n\ndef _upward() -> object:\n"
        + "    from opsconsole.sessions import recorder\n\n"
        + "    return recorder\n",
        encoding="utf-8",
    )
    done = _lint_imports(tmp_path)
    assert done.returncode != 0
    assert "BROKEN" in done.stdout
    assert "opsconsole.agent.events -> opsconsole.sessions.recorder" in done.stdout
