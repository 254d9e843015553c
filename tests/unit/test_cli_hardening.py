"""Bad input at the command line (the trust issue, item 13 and item 8), as a user meets it:
``opsconsole`` run as a subprocess with private dirs, the scripted model server on loopback."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from opsconsole.config import load_settings
from tests.fakes.cli import cli_env, run_cli
from tests.fakes.openai_server import ScriptedOpenAIServer, error, reply

FAKE_KEY_ENV = "OPSC_HARDENING_KEY"
FAKE_KEY = "sk-test-6f1c2a9d8e7b4c3a2f1e0d9c8b7a6f5e"


def _model_env(srv: ScriptedOpenAIServer) -> dict[str, str]:
    return {
        "OPSCONSOLE_MODEL__BASE_URL": srv.base_url,
        "OPSCONSOLE_MODEL__API_KEY_ENV": FAKE_KEY_ENV,
        "OPSCONSOLE_MODEL__MAX_RETRIES": "0",
        FAKE_KEY_ENV: FAKE_KEY,
    }


def test_ask_into_a_closed_pipe_exits_quietly(tmp_path: Path) -> None:
    proc = subprocess.Popen(
        [sys.executable, "-m", "opsconsole", "ask", "--demo", "--offline", "哪些 Pod 不健康"],
        env=cli_env(tmp_path),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        stdin=subprocess.DEVNULL,
    )
    assert proc.stdout is not None and proc.stderr is not None
    proc.stdout.readline()
    proc.stdout.readline()
    proc.stdout.close()  # `| head -2`
    err = proc.stderr.read().decode()
    code = proc.wait(timeout=120)
    assert "BrokenPipe" not in err and "unexpected error" not in err, err
    assert code == 141
    assert not list((tmp_path / "state").glob("crash/*")), "a crash file was written"


def test_console_on_a_pipe_refuses_and_names_ask(tmp_path: Path) -> None:
    out = subprocess.run(
        [sys.executable, "-m", "opsconsole", "--demo"],
        env=cli_env(tmp_path),
        capture_output=True,
        text=True,
        stdin=subprocess.DEVNULL,
        timeout=60,
    )
    assert out.returncode == 2
    assert "needs a terminal" in out.stderr and "opsconsole ask" in out.stderr
    assert "Traceback" not in out.stderr


def test_a_latin1_config_file_is_a_config_error(tmp_path: Path) -> None:
    (tmp_path / "cfg").mkdir()
    (tmp_path / "cfg" / "config.yaml").write_bytes("ui: {theme: caf\xe9}\n".encode("latin-1"))
    out = run_cli(tmp_path, "config", "check")
    assert out.returncode == 2
    assert "not UTF-8" in out.stderr and "config.yaml" in out.stderr
    assert "UnicodeDecodeError" not in out.stderr and "unexpected" not in out.stderr


def test_string_settings_from_the_environment_stay_strings() -> None:
    s = load_settings(
        "/nonexistent/config.yaml",
        environ={
            "OPSCONSOLE_KUBERNETES__CONTEXT": "1234",
            "OPSCONSOLE_KUBERNETES__NAMESPACE": "on",
            "OPSCONSOLE_AGENT__MAX_STEPS": "30",
            "OPSCONSOLE_MODEL__STREAM": "false",
        },
    )
    assert s.kubernetes.context == "1234" and s.kubernetes.namespace == "on"
    assert s.agent.max_steps == 30 and s.model.stream is False


def test_a_key_pasted_into_api_key_env_is_refused_without_echo(tmp_path: Path) -> None:
    (tmp_path / "cfg").mkdir()
    (tmp_path / "cfg" / "config.yaml").write_text(f"model: {{api_key_env: {FAKE_KEY}}}\n")
    for args in (("config", "check"), ("ask", "--demo", "--offline", "hi")):
        out = run_cli(tmp_path, *args)
        assert out.returncode == 2, out.stderr
        assert "model.api_key_env" in out.stderr
        assert FAKE_KEY not in out.stderr + out.stdout
        assert FAKE_KEY[:12] not in out.stderr + out.stdout


def test_a_401_that_echoes_the_key_never_prints_it(tmp_path: Path) -> None:
    with ScriptedOpenAIServer() as srv:
        srv.push(error(401, f"Incorrect API key provided: {FAKE_KEY}", type="authentication"))
        out = run_cli(tmp_path, "ask", "--demo", "hello", env_extra=_model_env(srv))
    assert out.returncode == 1
    assert FAKE_KEY not in out.stderr + out.stdout
    assert "[REDACTED]" in out.stderr + out.stdout


def test_config_check_reports_every_problem_at_once(tmp_path: Path) -> None:
    (tmp_path / "cfg").mkdir()
    (tmp_path / "cfg" / "config.yaml").write_text(
        "model: {stream: maybe, max_retries: 99, timeout: {connect: -1, read: x}}\n"
        "agent: {max_steps: 0, language: fr, spend_cap_usd: -2, tool_timeout: zero}\n"
        "kubernetes: {request_timeout: -5, namespac: x}\n"
        "ui: {theme: opsconsole-drak, keymap: {pods.logz: L}, log_max_lines: 5}\n"
    )
    out = run_cli(tmp_path, "config", "check")
    assert out.returncode == 2
    for key in (
        "model.stream",
        "model.max_retries",
        "model.timeout.connect",
        "model.timeout.read",
        "agent.max_steps",
        "agent.language",
        "agent.spend_cap_usd",
        "agent.tool_timeout",
        "kubernetes.request_timeout",
        "kubernetes.namespac",
        "ui.log_max_lines",
        "ui.theme",
        "ui.keymap.pods.logz",
    ):
        assert key in out.stderr, key


ESCAPES = "\x1b]52;c;ZWNobyBwd25lZA==\x07 \x1b[2J \x1b]0;pwned\x07 \x1b[1A \x9b2J \r"


def test_ask_prints_no_terminal_escapes_from_the_model(tmp_path: Path) -> None:
    for extra in ((), ("--json",)):
        with ScriptedOpenAIServer() as srv:
            srv.push(reply(f"the answer {ESCAPES} end"))
            out = run_cli(tmp_path, "ask", "--demo", *extra, "hello", env_extra=_model_env(srv))
        assert out.returncode == 0, out.stderr
        for bad in ("\x1b", "\x07", "\x9b", "\r"):
            assert bad not in out.stdout and bad not in out.stderr, (extra, repr(bad))
        if extra:
            answers = [json.loads(line) for line in out.stdout.splitlines() if line.strip()]
            texts = [a.get("text", "") for a in answers if a.get("type") == "answer"]
            assert texts and "\x1b]52" in texts[0]  # the data itself survives, escaped
        else:
            assert "\\x1b]52;c;" in out.stdout  # shown, not sent


def test_an_html_200_from_the_model_endpoint_is_a_clear_error(tmp_path: Path) -> None:
    import http.server
    import threading

    class WebPage(http.server.BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802 - http.server's name
            self.rfile.read(int(self.headers.get("Content-Length", 0)))
            body = b"<html><body><h1>Welcome to nginx!</h1></body></html>"
            self.send_response(200)
            self.send_header("Content-Type", "text/html")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), WebPage)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        for stream in ("true", "false"):
            out = run_cli(
                tmp_path,
                "ask",
                "--demo",
                "hello",
                env_extra={
                    "OPSCONSOLE_MODEL__BASE_URL": f"http://127.0.0.1:{server.server_port}/v1",
                    "OPSCONSOLE_MODEL__API_KEY_ENV": FAKE_KEY_ENV,
                    "OPSCONSOLE_MODEL__STREAM": stream,
                    FAKE_KEY_ENV: FAKE_KEY,
                },
            )
            assert out.returncode == 1, (stream, out.stderr)
            assert "web page (HTML)" in out.stderr and "model.base_url" in out.stderr, stream
            assert "AttributeError" not in out.stderr and "Traceback" not in out.stderr
    finally:
        server.shutdown()
