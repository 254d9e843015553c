"""``opsconsole ask`` end to end: the sandbox (--demo), the real k8s tools, the real openai
client against the scripted server; exit codes, text and --json output."""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from opsconsole import ask
from opsconsole.config import Settings
from tests.fakes.openai_server import ScriptedOpenAIServer, error, reply, tool_call

ROOT = Path(__file__).resolve().parents[2]
KEY_ENV = "OPSCONSOLE_TEST_ASK_KEY"


def _args(task: str, **kw: Any) -> argparse.Namespace:
    base = {
        "task": task, "demo": True, "json": False, "model": None, "base_url": None,
        "context": None, "namespace": None, "offline": False, "kubeconfig": None,
        "write": False, "config": None,
    }  # fmt: skip
    base.update(kw)
    return argparse.Namespace(**base)


def _settings(base_url: str, **agent: Any) -> Settings:
    return Settings.from_data(
        {
            "model": {
                "base_url": base_url,
                "name": "fake-model",
                "api_key_env": KEY_ENV,
                "timeout": {"connect": 5, "read": 10, "total": 20},
            },
            "agent": {"language": "en", **agent},
            "sessions": {"record": False},
        }
    )


@pytest.fixture
def key(monkeypatch):
    monkeypatch.setenv(KEY_ENV, "test-key")


def test_ask_prints_thought_action_observation_answer(srv, key, capsys):
    srv.push(
        reply(
            "Listing the shop pods.",
            tool_calls=[
                tool_call("get_k8s_pods", {"namespace": "shop"}),
                tool_call("delete_pod", {"namespace": "shop", "pod_name": "redis-0"}),
            ],
        ),
        reply("checkout is in ImagePullBackOff."),
    )
    code = ask.run(_args("what is wrong in shop?"), _settings(srv.base_url, write_mode=True))
    out, err = capsys.readouterr()
    assert code == 0, err
    assert "built-in sandbox cluster" in out
    assert "Thought: Listing the shop pods." in out
    assert 'Action: get_k8s_pods(namespace="shop")' in out
    assert "Observation [ok]" in out and "checkout" in out
    assert "Answer:\ncheckout is in ImagePullBackOff." in out
    # S6: headless never executes a mutating call, even in write mode
    assert "Observation [refused]" in out and "headless" in out
    assert "\033[" not in out  # not a terminal: no colour
    assert srv.rejections == []
    tool_msgs = [m for m in srv.requests[1]["messages"] if m["role"] == "tool"]
    assert json.loads(tool_msgs[1]["content"])["status"] == "refused"


def test_ask_json_prints_one_event_per_line(srv, key, capsys):
    srv.push(
        reply(
            tool_calls=[
                tool_call("get_pod_logs", {"namespace": "shop", "pod_name": "redis-0", "lines": 5})
            ]
        ),
        reply("redis is fine."),
    )
    code = ask.run(_args("redis logs?", json=True), _settings(srv.base_url))
    out, _ = capsys.readouterr()
    assert code == 0
    events = [json.loads(line) for line in out.splitlines()]
    types = [e["type"] for e in events]
    assert types[0] == "notice" and "sandbox" in events[0]["text"]
    assert types[-2:] == ["answer", "run_finished"]
    assert {"run_started", "thought", "tool_call_started", "tool_call_finished"} <= set(types)
    obs = next(e for e in events if e["type"] == "tool_call_finished")
    # S7: a pod log reaches the model inside the untrusted wrapper of the real tool
    assert "<untrusted-log" in obs["output"]
    sent = [m for m in srv.requests[1]["messages"] if m["role"] == "tool"][0]["content"]
    assert "<untrusted-log" in sent and "</untrusted-log>" in sent


def test_ask_model_failure_exits_1_with_a_hint(srv, key, capsys):
    srv.push(error(402, "Insufficient Balance"))
    code = ask.run(_args("anything"), _settings(srv.base_url))
    out, err = capsys.readouterr()
    assert code == 1
    assert "insufficient balance" in err.lower() and "top up" in err
    assert "Traceback" not in out + err


def test_ask_without_a_cluster_is_a_clear_usage_error(tmp_path, key, capsys):
    missing = tmp_path / "nope" / "kubeconfig"
    code = ask.run(
        _args("pods?", demo=False, kubeconfig=str(missing)), _settings("http://127.0.0.1:9/v1")
    )
    out, err = capsys.readouterr()
    assert code == 2
    assert "no kubeconfig found" in err and "--demo" in err
    assert "Traceback" not in out + err


def test_ask_without_a_key_uses_the_offline_planner(monkeypatch, capsys):
    monkeypatch.delenv(KEY_ENV, raising=False)
    code = ask.run(
        _args("查看 default 命名空间下所有 Pod 的状态"), _settings("http://127.0.0.1:9/v1")
    )
    out, err = capsys.readouterr()
    assert "offline planner" in out
    assert "Action: get_k8s_pods" in out
    assert code == 0, err


def test_ask_empty_task_is_usage_error(capsys):
    assert ask.run(_args("   "), Settings()) == 2


def test_python_m_opsconsole_ask_demo_json(tmp_path):
    with ScriptedOpenAIServer() as srv:
        srv.push(
            reply(tool_calls=[tool_call("get_k8s_pods", {"namespace": "default"})]),
            reply("default has one healthy pod."),
        )
        env = {
            **os.environ,
            KEY_ENV: "test-key",
            "OPSCONSOLE_MODEL__API_KEY_ENV": KEY_ENV,
            "OPSCONSOLE_CONFIG_DIR": str(tmp_path / "cfg"),
            "OPSCONSOLE_DATA_DIR": str(tmp_path / "data"),
            "OPSCONSOLE_STATE_DIR": str(tmp_path / "state"),
            "NO_COLOR": "1",
        }
        proc = subprocess.run(
            [
                sys.executable,
                "-m",
                "opsconsole",
                "ask",
                "--demo",
                "--json",
                "--base-url",
                srv.base_url,
                "--model",
                "fake-model",
                "pods in default?",
            ],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert proc.returncode == 0, proc.stderr
        events = [json.loads(line) for line in proc.stdout.splitlines()]
        assert events[-1]["type"] == "run_finished"
        assert any(e["type"] == "answer" and "healthy" in e["text"] for e in events)
        assert srv.requests[0]["model"] == "fake-model"
        assert srv.log[0].authorization == "Bearer test-key"
        assert srv.rejections == []


def test_python_m_opsconsole_ask_with_a_bad_config_exits_2(tmp_path):
    bad = tmp_path / "config.yaml"
    bad.write_text("model:\n  nmae: deepseek-chat\nagent:\n  max_steps: zero\n")
    env = {
        **os.environ,
        "OPSCONSOLE_CONFIG_DIR": str(tmp_path / "cfg"),
        "OPSCONSOLE_DATA_DIR": str(tmp_path / "data"),
    }
    proc = subprocess.run(
        [sys.executable, "-m", "opsconsole", "ask", "--config", str(bad), "--demo", "pods?"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 2
    assert "model.nmae: unknown key" in proc.stderr
    assert "agent.max_steps" in proc.stderr
    assert "Traceback" not in proc.stderr
