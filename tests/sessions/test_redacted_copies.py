"""The redacted copies a user meets are whole (issue 11 items 5 and 6, S8).

- ``opsconsole ask`` reads a pod log holding a PEM private key: the model gets it redacted,
  the session file records the same text (the recorder redacts it a second time: nothing after
  the key may be lost, the closing ``</untrusted-log>`` kept), and ``ask --resume`` sends that
  uncut, redacted copy again.
- The log pane's snapshot, written by the real recorder, is redacted as one text: no base64
  body line of a key, no password that is a secret only next to the line above it.

The cluster is the sandbox's ``leaky`` scenario (pod ``app/legacy-auth-0`` dumps a fake RSA
key, a DSN password, a ``secret: |`` block and ``--admin-password`` + value at start-up); the
model is the scripted OpenAI-compatible server, which records every request body.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

from opsconsole.sandbox.scenario import load_scenario
from opsconsole.sessions.reader import read_session
from opsconsole.sessions.recorder import SessionRecorder
from tests.fakes.cli import run_cli
from tests.fakes.openai_server import ScriptedOpenAIServer, reply, tool_call

CONTEXT = "opsconsole-sandbox"
POD = "legacy-auth-0"

_START = load_scenario("leaky")["logs"]["legacy-auth"]["start"]
#: the key's base64 body lines, as the pod logs them
KEY_BODY = [line for line in _START if re.fullmatch(r"[A-Za-z0-9+/=]{64}", line)]
#: values that are secrets in context (the DSN's password, a block scalar, a flag's value)
PASSWORDS = ["S4ndboxFakeDbPw", "sandbox-fake-session-secret-4242", "sandbox-fake-admin-pw-77"]


def _leaks(text: str) -> list[str]:
    return [s for s in KEY_BODY + PASSWORDS if s in text]


def _model_env(model: ScriptedOpenAIServer) -> dict[str, str]:
    return {
        "OPSCONSOLE_MODEL__BASE_URL": model.base_url,
        "OPSCONSOLE_MODEL__API_KEY_ENV": "OPSC_FAKE_KEY",
        "OPSC_FAKE_KEY": "test-key-redacted-copies",
    }


def _tool_message(messages: list[dict[str, Any]], call_id: str) -> str:
    (content,) = [m["content"] for m in messages if m.get("tool_call_id") == call_id]
    assert isinstance(content, str)
    return content


def test_scenario_logs_what_the_tests_look_for() -> None:
    assert len(KEY_BODY) == 8 and all(len(line) == 64 for line in KEY_BODY)


def test_ask_records_the_whole_redacted_log_and_resume_sends_it(
    tmp_path: Path, fresh_sandbox: Callable[..., Any]
) -> None:
    server = fresh_sandbox("leaky", speed=0.05)
    kubeconfig = str(server.write_kubeconfig(tmp_path / "kubeconfig"))
    cluster = ["--kubeconfig", kubeconfig, "--context", CONTEXT]
    with ScriptedOpenAIServer() as model:
        model.push(
            reply(tool_calls=[tool_call("get_pod_logs", {"namespace": "app", "pod_name": POD})]),
            reply("legacy-auth printed its signing key at start-up; rotate it."),
        )
        env = _model_env(model)
        first = run_cli(tmp_path, "ask", *cluster, "what does legacy-auth log?", env_extra=env)
        assert first.returncode == 0, first.stderr
        assert model.rejections == []
        call_id = model.requests[1]["messages"][-2]["tool_calls"][0]["id"]
        sent = _tool_message(model.requests[1]["messages"], call_id)

        # what the model got: redacted, and everything after the key is there
        assert _leaks(sent) == []
        assert (
            "-----BEGIN RSA PRIVATE KEY-----\n[REDACTED]\n-----END RSA PRIVATE KEY-----\n" in sent
        )
        after_key = sent.split("-----END RSA PRIVATE KEY-----", 1)[1]
        assert "postgres://auth:[REDACTED]@postgres.app.svc:5432/auth" in after_key
        assert "listening on :8443 (tls)" in after_key
        assert sent.rstrip().endswith("</untrusted-log>")
        assert _leaks(first.stdout + first.stderr) == []

        # the session file: the same text, not cut, and no secret anywhere in its bytes
        (path,) = (tmp_path / "data" / "sessions").glob("*.jsonl")
        raw = path.read_text(encoding="utf-8")
        assert _leaks(raw) == []
        recorded = _tool_message(read_session(path).messages, call_id)
        assert recorded == sent, (len(recorded), len(sent))

        # --resume sends that copy again, whole
        model.push(reply("Rotate the key and move it into a Secret."))
        again = run_cli(
            tmp_path, "ask", *cluster, "--resume", "last", "what should I do?", env_extra=env
        )
        assert again.returncode == 0, again.stderr
        assert model.rejections == []
        resent = _tool_message(model.requests[-1]["messages"], call_id)
    assert resent == sent
    assert _leaks(path.read_text(encoding="utf-8")) == []


def test_log_snapshot_is_redacted_as_one_text(tmp_path: Path) -> None:
    """The recorder's snapshot of the log pane (as the console's bridge calls it): the key's
    body lines and the passwords that are secrets only next to the line above are gone, and
    the snapshot keeps one line per pane line, so replay can refill the pane."""
    lines = [line.replace("{ts}", "2026-11-25T10:00:00.000Z") for line in _START]
    lines += [f"2026-11-25T10:00:{i:02d}.000Z INFO GET /healthz 200 3ms" for i in range(30)]
    windows = {
        "whole": lines,
        "cut before BEGIN": lines[4:],  # the pane's last-200-lines window cut the key's top
        "cut before END": lines[:8],  # or its end
    }
    for name, window in windows.items():
        rec = SessionRecorder.create(tmp_path / name, model="fake-model")
        rec.snapshot_logs(window, pod=POD, namespace="app", container="legacy-auth")
        rec.close()
        raw = rec.path.read_text(encoding="utf-8")
        body_shown = [b for b in KEY_BODY if b in "\n".join(window)]
        assert body_shown, name
        assert _leaks(raw) == [], name
        (snap,) = [e for e in read_session(rec.path).snapshots if e.get("kind") == "logs"]
        assert len(snap["lines"]) == len(window), name
        kept = [a == b for a, b in zip(snap["lines"], window, strict=True)]
        assert kept.count(False) == sum(1 for line in window if _leaks(line)), name
