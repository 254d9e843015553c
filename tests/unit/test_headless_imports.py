"""The headless packages never load textual or rich (docs/architecture.md): checked by
importing every one of their modules in a fresh process. The import-linter contracts
(tests/unit/test_layers.py) say the same statically; this catches what only runs."""

from __future__ import annotations

import pkgutil
import subprocess
import sys
from pathlib import Path

import opsconsole

HEADLESS = [
    "opsconsole.agent",
    "opsconsole.k8s",
    "opsconsole.sandbox",
    "opsconsole.sessions",
    "opsconsole.planner",
    "opsconsole.team",
    "opsconsole.redact",
    "opsconsole.evals",
    "opsconsole.mcplink",
]


def _modules() -> list[str]:
    root = Path(opsconsole.__file__).parent
    names = ["opsconsole.cli", "opsconsole.ask", "opsconsole.config", "opsconsole.errors"]
    names += ["opsconsole.paths", "opsconsole.termsafe", "opsconsole.duration"]
    for pkg in HEADLESS:
        path = root / pkg.split(".", 1)[1]
        names.append(pkg)
        for info in pkgutil.walk_packages([str(path)], prefix=pkg + "."):
            names.append(info.name)
    return names


def test_headless_packages_do_not_import_textual_or_rich() -> None:
    mods = _modules()
    code = (
        "import importlib, sys\n"
        f"for m in {mods!r}:\n"
        "    importlib.import_module(m)\n"
        "bad = sorted(m for m in sys.modules if m.split('.')[0] in ('textual', 'rich'))\n"
        "print(','.join(bad))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "", f"headless import pulled in: {out.stdout.strip()}"


def test_cli_import_is_light() -> None:
    code = (
        "import sys, opsconsole.cli\n"
        "heavy = [m for m in ('textual', 'openai', 'kubernetes', 'rich') if m in sys.modules]\n"
        "print(','.join(heavy))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""
