"""``opsconsole ask`` with the team: --team and @-addressing go through the Scheduler."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

from tests.fakes.cli import run_cli


def _ask(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return run_cli(tmp_path, "ask", "--demo", "--offline", *args)


def test_mention_routes_to_the_security_agent(tmp_path: Path) -> None:
    out = _ask(tmp_path, "@security scan namespace shop")
    assert out.returncode == 0, out.stderr
    assert "-> security agent: scan namespace shop" in out.stdout
    assert "[security] Action: security_scan" in out.stdout
    assert "DB_PASSWORD" in out.stdout and "SecretInEnv" in out.stdout


def test_team_flag_json_events_carry_the_agent_tree(tmp_path: Path) -> None:
    out = _ask(tmp_path, "--team", "--json", "哪些 Pod 不健康？顺便做个安全扫描")
    assert out.returncode == 0, out.stderr
    events = [json.loads(line) for line in out.stdout.splitlines()]
    dispatched = [e for e in events if e["type"] == "agent_dispatched"]
    assert {e["target"] for e in dispatched} >= {"ops", "security"}
    children = {e["child_run_id"] for e in dispatched}
    started = [e for e in events if e["type"] == "run_started" and e["run_id"] in children]
    assert started and all(e["parent_run_id"] for e in started)
    assert events[-1]["type"] == "run_finished" and events[-1]["agent"] == "scheduler"
