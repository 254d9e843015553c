"""The eval package is headless (no textual/rich ever) and light to import (kubernetes and
openai only when a run starts), like DESIGN §1 asks of the other headless packages."""

from __future__ import annotations

import subprocess
import sys


def test_eval_package_is_headless_and_light() -> None:
    code = (
        "import sys\n"
        "import opsconsole.evals, opsconsole.evals.cli, opsconsole.evals.harness\n"
        "import opsconsole.evals.judge, opsconsole.evals.report, opsconsole.evals.results\n"
        "import opsconsole.evals.scenario, opsconsole.evals.from_session\n"
        "bad = [m for m in ('textual', 'rich', 'kubernetes', 'openai') if m in sys.modules]\n"
        "print(','.join(bad))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "", f"importing opsconsole.evals loaded: {out.stdout.strip()}"
