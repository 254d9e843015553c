"""One runtime wires everything.

Statically: the product constructs a cluster connection, a sandbox and a model client in one
place each (``opsconsole/runtime/build.py``, and ``opsconsole/team/factory.py`` for models), and
every front end builds its runtime through :func:`opsconsole.runtime.build_runtime`. Then for
real: the console's backend, ``ask`` and ``eval`` each run on a runtime, and both agents (one
loop, the team's Scheduler) satisfy the one ``Runner`` protocol.
"""

from __future__ import annotations

import ast
import asyncio
import subprocess
import sys
from pathlib import Path

import pytest

from opsconsole.config import Settings

PKG = Path(__file__).resolve().parents[2] / "opsconsole"

#: constructor (call text) -> the only modules allowed to call it
CONSTRUCTORS = {
    "Cluster.from_settings": {"runtime/build.py"},
    "SandboxServer": {"runtime/build.py", "sandbox/main.py"},  # main: `opsconsole sandbox`
    "OpenAIModelClient": {"team/factory.py"},
    "OfflinePlanner": {"team/factory.py"},
}


def _calls(tree: ast.AST) -> list[str]:
    out = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            fn = node.func
            if isinstance(fn, ast.Name):
                out.append(fn.id)
            elif isinstance(fn, ast.Attribute):
                base = fn.value
                out.append(f"{base.id}.{fn.attr}" if isinstance(base, ast.Name) else fn.attr)
    return out


def test_each_piece_is_constructed_in_one_place() -> None:
    found: dict[str, set[str]] = {name: set() for name in CONSTRUCTORS}
    for path in PKG.rglob("*.py"):
        rel = path.relative_to(PKG).as_posix()
        for call in _calls(ast.parse(path.read_text(encoding="utf-8"))):
            if call in found:
                found[call].add(rel)
    for name, allowed in CONSTRUCTORS.items():
        assert found[name], f"{name} is never constructed: the check is stale"
        assert found[name] <= allowed, f"{name} constructed outside {allowed}: {found[name]}"


@pytest.mark.parametrize(
    "module", ["ui/backend.py", "ask.py", "evals/harness.py", "mcplink/serve.py"]
)
def test_front_ends_build_through_build_runtime(module: str) -> None:
    calls = _calls(ast.parse((PKG / module).read_text(encoding="utf-8")))
    assert "build_runtime" in calls


def test_console_backend_runs_on_a_runtime(tmp_path: Path) -> None:
    from opsconsole.agent.runner import Runner
    from opsconsole.runtime import SANDBOX_CONTEXT, Runtime
    from opsconsole.ui.app import AppOptions
    from opsconsole.ui.backend import connect

    settings = Settings().replace(
        sessions=Settings().sessions.replace(dir=str(tmp_path), record=True)
    )
    backend = connect(settings, AppOptions(demo=True, offline=True), approver=None)
    try:
        assert isinstance(backend.runtime, Runtime)
        assert backend.context == SANDBOX_CONTEXT
        assert backend.sandbox is not None and backend.recorder is not None
        assert isinstance(backend.loop, Runner)
        backend.multi_agent = True
        backend.build_loop()
        assert isinstance(backend.loop, Runner)  # the Scheduler: the same protocol
        assert backend.loop.context == SANDBOX_CONTEXT
    finally:
        backend.close()
    assert backend.runtime.recorder is None


def test_runtime_close_stops_the_sandbox_it_started() -> None:
    import urllib.error
    import urllib.request

    from opsconsole.runtime import RuntimeOptions, build_runtime

    rt = build_runtime(Settings(), RuntimeOptions(demo=True, offline=True, record=False))
    url = rt.sandbox.url
    kubeconfig = Path(rt.kubeconfig or "")
    assert kubeconfig.is_file()
    with urllib.request.urlopen(f"{url}/version", timeout=30) as resp:
        assert resp.status == 200
    rt.close()
    assert not kubeconfig.exists()
    with pytest.raises(OSError):
        urllib.request.urlopen(f"{url}/version", timeout=5)


def test_ask_runs_on_the_runtime(tmp_path: Path) -> None:
    """``ask --demo`` end to end in a fresh interpreter: the runtime's notes, the answer."""
    env = {
        "PATH": "/usr/bin:/bin",
        "HOME": str(tmp_path),
        "OPSCONSOLE_CONFIG_DIR": str(tmp_path / "config"),
        "OPSCONSOLE_DATA_DIR": str(tmp_path / "data"),
        "OPSCONSOLE_STATE_DIR": str(tmp_path / "state"),
        "OPSCONSOLE_CACHE_DIR": str(tmp_path / "cache"),
    }
    proc = subprocess.run(
        [sys.executable, "-m", "opsconsole", "ask", "--demo", "--offline", "list pods in shop"],
        capture_output=True,
        text=True,
        timeout=300,
        env={**env, "PYTHONPATH": str(PKG.parent)},
    )
    assert proc.returncode == 0, proc.stderr
    assert "using the built-in sandbox cluster (demo scenario)" in proc.stdout
    assert "--offline: using the built-in offline planner" in proc.stdout
    assert "Answer:" in proc.stdout


def test_eval_scenario_runs_on_a_runtime() -> None:
    from opsconsole.evals.harness import ModelSpec, run_scenario
    from opsconsole.evals.scenario import builtin_scenarios

    scn = next(s for s in builtin_scenarios() if s.agent == "ops")
    spec = ModelSpec.from_settings(Settings(), offline=True)
    result = asyncio.run(run_scenario(scn, "en", spec, Settings(), timeout=240))
    assert result.error == "", result.error
    assert result.runner == "loop"
