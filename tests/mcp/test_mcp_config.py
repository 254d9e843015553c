"""``mcp.servers`` in the config file: every problem named, secrets never echoed; and
``opsconsole mcp`` without a cluster is a clear error, not a traceback."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from opsconsole.config import load_settings
from opsconsole.errors import ConfigError
from tests.mcp.mcpkit import clean_env, command, server_env


def _load(tmp_path: Path, text: str):
    path = tmp_path / "config.yaml"
    path.write_text(text)
    return load_settings(path, environ={}, explicit=True)


def test_servers_load_with_their_defaults(tmp_path: Path) -> None:
    settings = _load(
        tmp_path,
        "mcp:\n  servers:\n    gh: {command: npx, args: [-y, x], pass_env: [GITHUB_TOKEN]}\n"
        "    web: {url: 'http://127.0.0.1:1/mcp', headers_env: {Authorization: WEB_AUTH}}\n",
    )
    gh, web = settings.mcp.servers["gh"], settings.mcp.servers["web"]
    assert (gh.command, gh.args, gh.trusted, gh.call_timeout) == ("npx", ["-y", "x"], False, 60.0)
    assert web.headers_env == {"Authorization": "WEB_AUTH"} and web.command is None


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("mcp:\n  servers:\n    a: {command: x, timout: 3}\n", "did you mean mcp.servers.a."),
        ("mcp:\n  servers:\n    a: {command: x, url: 'http://h'}\n", "give either command"),
        ("mcp:\n  servers:\n    a: {args: [x]}\n", "give either command"),
        ("mcp:\n  servers:\n    a.b: {command: x}\n", "use letters, digits and '-'"),
        ("mcp:\n  servers:\n    a: {command: x, trusted: maybe}\n", "mcp.servers.a.trusted"),
    ],
)
def test_a_wrong_server_entry_is_named(tmp_path: Path, text: str, expected: str) -> None:
    with pytest.raises(ConfigError) as caught:
        _load(tmp_path, text)
    assert expected in str(caught.value)


def test_a_secret_pasted_as_a_variable_name_is_not_echoed(tmp_path: Path) -> None:
    secret = "ghp_" + "Zx9Yw8Vu7Ts6Rq5Po4Nm3Lk2Ji1Hg0FeDcBa98"
    with pytest.raises(ConfigError) as caught:
        _load(
            tmp_path,
            f"mcp:\n  servers:\n    a: {{url: 'http://h', headers_env: {{X: {secret}}}}}\n",
        )
    assert "may be a secret" in str(caught.value)
    assert secret not in str(caught.value)


def test_opsconsole_mcp_without_a_cluster_is_a_clear_error(tmp_path: Path) -> None:
    env = {**clean_env(), **server_env(tmp_path), "KUBECONFIG": str(tmp_path / "none")}
    done = subprocess.run(
        command(), capture_output=True, text=True, env=env, stdin=subprocess.DEVNULL, timeout=120
    )
    assert done.returncode == 2
    assert "no kubeconfig found" in done.stderr and "Traceback" not in done.stderr
    assert done.stdout == ""  # stdout is the protocol's: nothing else is written there
