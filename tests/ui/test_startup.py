"""Nothing but Textual on the path to the first frame: the kubernetes and openai clients and
the sandbox are loaded after the first paint (docs/performance.md). Checked in a fresh process
that exits on its first frame (the hook the startup benchmark uses)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

SCRIPT = """
import json, sys
from opsconsole.config import Settings
from opsconsole.ui.factory import build_app
app = build_app(Settings(), demo=True, exit_after_first_frame=True)
app.run(headless=True)
heavy = ("kubernetes", "openai", "httpx", "opsconsole.sandbox", "opsconsole.k8s.client",
         "opsconsole.agent.loop", "opsconsole.agent.model", "textual.widgets._markdown",
         # loaded when needed, after the first frame: config is msgspec, themes come from
         # the parsed-theme cache, the bridge, feeds and modals on first use
         "pydantic", "opsconsole.ui.bridge", "opsconsole.ui.feeds",
         "opsconsole.ui.screens.modals")
print(json.dumps({"rc": app.return_code, "loaded": [m for m in heavy if m in sys.modules]}))
"""


def test_first_frame_loads_no_heavy_client(tmp_path: Path) -> None:
    env = {
        **os.environ,
        "PYTHONPATH": str(ROOT),
        "OPSCONSOLE_CONFIG_DIR": str(tmp_path),
        "OPSCONSOLE_DATA_DIR": str(tmp_path),
        "OPSCONSOLE_STATE_DIR": str(tmp_path),
        "OPSCONSOLE_CACHE_DIR": str(tmp_path / "cache"),
    }
    out = subprocess.run(
        [sys.executable, "-c", SCRIPT], capture_output=True, text=True, env=env, timeout=60
    )
    assert out.returncode == 0, out.stderr
    result = json.loads(out.stdout.strip().splitlines()[-1])
    assert result == {"rc": 0, "loaded": []}
