"""``opsconsole ask --resume``: a follow-up continues a recorded session in the same file."""

from __future__ import annotations

import subprocess
from pathlib import Path

from opsconsole.sessions.index import summarize
from opsconsole.sessions.reader import read_session
from tests.fakes.cli import cli_env, run_cli


def _ask(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return run_cli(tmp_path, "ask", "--demo", "--offline", *args)


def test_resume_last_appends_a_second_run(tmp_path: Path) -> None:
    first = _ask(tmp_path, "哪些 Pod 不健康")
    assert first.returncode == 0, first.stderr
    second = _ask(tmp_path, "--resume", "last", "show the nodes")
    assert second.returncode == 0, second.stderr
    assert "resuming session" in second.stdout
    files = list((tmp_path / "data" / "sessions").glob("*.jsonl"))
    assert len(files) == 1
    session = read_session(files[0])
    users = [m["content"] for m in session.messages if m["role"] == "user"]
    assert users == ["哪些 Pod 不健康", "show the nodes"]
    summary = summarize(session)
    assert summary.runs == 2 and summary.outcome == "answered"


def test_resume_unknown_session_is_a_clear_error(tmp_path: Path) -> None:
    out = _ask(tmp_path, "--resume", "no-such-session", "hello")
    assert out.returncode in (1, 2)
    assert "Traceback" not in out.stderr
    assert "no-such-session" in out.stderr


def test_ask_killed_mid_run_leaves_a_transcript_that_resume_sends(tmp_path: Path) -> None:
    """kill -9 during a headless run: the messages of the steps already taken are on disk, so
    ``ask --resume`` sends them (the dangling tool call answered as interrupted), not only the
    new question."""
    import signal
    import sys
    import time

    from tests.fakes.openai_server import Hang, ScriptedOpenAIServer, reply, tool_call

    with ScriptedOpenAIServer() as model:
        model.push(
            reply(tool_calls=[tool_call("get_k8s_pods", {"namespace": "shop"}, id="c1")]),
            reply(tool_calls=[tool_call("get_events", {"namespace": "shop"}, id="c2")]),
            Hang(300),  # the third request never answers: the run is killed there
        )
        model_env = {
            "OPSCONSOLE_MODEL__BASE_URL": model.base_url,
            "OPSCONSOLE_MODEL__API_KEY_ENV": "OPSC_FAKE_KEY",
            "OPSC_FAKE_KEY": "test-key",
        }
        env = cli_env(tmp_path, model_env)
        proc = subprocess.Popen(
            [sys.executable, "-m", "opsconsole", "ask", "--demo", "what is wrong in shop?"],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            deadline = time.monotonic() + 120
            while len(model.requests) < 3 and time.monotonic() < deadline:
                assert proc.poll() is None, "ask ended before the third request"
                time.sleep(0.05)
            assert len(model.requests) == 3, "the third request never came"
        finally:
            proc.send_signal(signal.SIGKILL)
            proc.wait(timeout=30)

        model.push(reply("the shop namespace has a crash-looping checkout."))
        again = run_cli(
            tmp_path,
            "ask",
            "--demo",
            "--resume",
            "last",
            "and what should I do?",
            env_extra=model_env,
        )
        assert again.returncode == 0, again.stderr
        sent = model.requests[-1]["messages"]
    users = [m["content"] for m in sent if m["role"] == "user"]
    assert users == ["what is wrong in shop?", "and what should I do?"]
    tool_ids = [m.get("tool_call_id") for m in sent if m["role"] == "tool"]
    assert tool_ids[:2] == ["c1", "c2"]
    answered = {m.get("tool_call_id"): m["content"] for m in sent if m["role"] == "tool"}
    assert "NAME" in answered["c1"] or "pod" in answered["c1"].lower()


def test_resume_through_a_symlink_is_refused_and_the_target_untouched(tmp_path: Path) -> None:
    first = _ask(tmp_path, "show the nodes")
    assert first.returncode == 0, first.stderr
    (real,) = list((tmp_path / "data" / "sessions").glob("*.jsonl"))
    outside = tmp_path / "elsewhere.jsonl"
    outside.write_bytes(real.read_bytes())
    outside.chmod(0o644)
    link = tmp_path / "link.jsonl"
    link.symlink_to(outside)
    before = outside.read_bytes()
    out = _ask(tmp_path, "--resume", str(link), "and the pods?")
    assert out.returncode in (1, 2) and "symbolic link" in out.stderr
    assert "Traceback" not in out.stderr
    assert outside.read_bytes() == before and (outside.stat().st_mode & 0o777) == 0o644


def test_resume_makes_a_loose_session_file_private_again(tmp_path: Path) -> None:
    first = _ask(tmp_path, "show the nodes")
    assert first.returncode == 0, first.stderr
    (real,) = list((tmp_path / "data" / "sessions").glob("*.jsonl"))
    real.chmod(0o644)
    again = _ask(tmp_path, "--resume", "last", "and the pods?")
    assert again.returncode == 0, again.stderr
    assert (real.stat().st_mode & 0o777) == 0o600


def test_resume_gives_the_offline_planner_back_what_the_calls_returned(tmp_path: Path) -> None:
    """The recorded calls' data (kept in the session's events) comes back with the transcript:
    after "which pods are unhealthy", a resumed follow-up about one of them goes straight to
    that pod, as it would have in the same conversation, instead of scanning again."""
    first = _ask(tmp_path, "哪些 Pod 不健康")
    assert first.returncode == 0, first.stderr
    second = _ask(tmp_path, "--resume", "last", "为什么 image-resizer 一直重启")
    assert second.returncode == 0, second.stderr
    actions = [ln for ln in second.stdout.splitlines() if ln.startswith("Action: ")]
    assert actions and actions[0].startswith("Action: describe_pod("), second.stdout
    assert "image-resizer-" in actions[0]
