"""``--demo --pods N``: the agent works a generated cluster of N pods in the same process (the
memory benchmark's third case); ``--pods`` without ``--demo`` is a usage error."""

from __future__ import annotations

from pathlib import Path

from tests.fakes.cli import run_cli


def test_demo_with_pods_lists_a_generated_cluster(tmp_path: Path) -> None:
    task = "查看所有命名空间下 Pod 的状态"
    done = run_cli(tmp_path, "ask", "--demo", "--offline", "--pods", "120", task)
    assert done.returncode == 0, done.stderr
    assert "a generated cluster of 120 pods" in done.stdout + done.stderr
    assert "of 120 pods healthy" in done.stdout  # the health check saw every generated pod
    assert "Traceback" not in done.stderr


def test_pods_without_demo_is_a_usage_error(tmp_path: Path) -> None:
    done = run_cli(tmp_path, "ask", "--offline", "--pods", "120", "x")
    assert done.returncode == 2
    assert "--pods generates a sandbox cluster: use it with --demo" in done.stderr
    bad = run_cli(tmp_path, "ask", "--demo", "--pods", "many", "x")
    assert bad.returncode == 2 and "not a number of pods: 'many'" in bad.stderr
    assert "Traceback" not in done.stderr + bad.stderr
