"""The planner's place in the layers: only the one place that builds a model (the team's
model factory, which the runtime calls) imports it, the agent package (the kernel) does not,
and the planner itself imports only the kernel's model and tool types, the Kubernetes layer
and itself. Read from the source (every import, function-level ones too), so a new import in
the wrong place fails here."""

from __future__ import annotations

import ast
from pathlib import Path

import opsconsole

ROOT = Path(opsconsole.__file__).resolve().parent

#: the one place that builds the model (offline or online): it may import the planner
BUILDERS = {"opsconsole/team/factory.py"}
#: what the planner may import from the rest of the project
PLANNER_MAY_IMPORT = (
    "opsconsole.planner",
    "opsconsole.agent.model",
    "opsconsole.agent.tools",
    "opsconsole.agent.transcript",
    "opsconsole.k8s",
)


def imports(path: Path) -> set[str]:
    """Every module ``path`` imports (absolute names), at any depth of the file."""
    out: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            out.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            out.add(node.module)
            out.update(f"{node.module}.{a.name}" for a in node.names)
    return out


def rel(path: Path) -> str:
    return path.relative_to(ROOT.parent).as_posix()


def test_only_the_model_builders_import_the_planner() -> None:
    importers = {
        rel(p)
        for p in ROOT.rglob("*.py")
        if not rel(p).startswith("opsconsole/planner/")
        and any(
            m == "opsconsole.planner" or m.startswith("opsconsole.planner.") for m in imports(p)
        )
    }
    assert importers <= BUILDERS, sorted(importers - BUILDERS)


def test_the_planner_imports_only_the_kernel_types_and_k8s() -> None:
    bad: list[str] = []
    for p in sorted((ROOT / "planner").rglob("*.py")):
        for m in sorted(imports(p)):
            if m.startswith("opsconsole") and not m.startswith(PLANNER_MAY_IMPORT):
                bad.append(f"{rel(p)}: {m}")
    assert not bad, bad


def test_the_check_sees_a_violation(tmp_path: Path) -> None:
    """A deliberate violation is caught (the check is not vacuous)."""
    scratch = tmp_path / "scratch.py"
    scratch.write_text(
        "def f():\n    from opsconsole.planner.intents import parse_intent\n"
        "    from opsconsole.ui import app\n",
        encoding="utf-8",
    )
    found = imports(scratch)
    assert "opsconsole.planner.intents" in found
    assert any(not m.startswith(PLANNER_MAY_IMPORT) for m in found if m.startswith("opsconsole"))
