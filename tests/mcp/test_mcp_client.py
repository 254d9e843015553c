"""opsconsole as an MCP client: a third-party server of ``mcp.servers`` (tests/mcp/thirdparty.py
on real stdio), its tools called by the agent through the loop with the scripted model server
and the real ``openai`` client, on a runtime built by ``build_runtime`` like every front end.
"""

from __future__ import annotations

import json
import shutil
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from opsconsole.agent.events import AgentEvent, Answer, Notice, ToolCallFinished
from opsconsole.agent.transcript import estimate_tokens
from opsconsole.config import Settings
from opsconsole.runtime import Runtime, RuntimeOptions, build_runtime
from tests.agent.agentkit import ScriptedApprover
from tests.fakes.openai_server import ScriptedOpenAIServer, reply, tool_call
from tests.mcp.mcpkit import listening
from tests.mcp.thirdparty import SECRET

THIRDPARTY = str(Path(__file__).with_name("thirdparty.py"))
KEY_ENV = "OPSCONSOLE_TEST_FAKE_KEY"


@pytest.fixture
def srv() -> Iterator[ScriptedOpenAIServer]:
    with ScriptedOpenAIServer() as server:
        yield server


@pytest.fixture
def runtime(
    srv: ScriptedOpenAIServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Callable[..., Runtime]]:
    """``make(servers, write=False)``: a runtime on the sandbox with these MCP servers and the
    scripted model; closed (servers stopped) at teardown."""
    monkeypatch.setenv(KEY_ENV, "test-key")
    made: list[Runtime] = []

    def make(servers: dict[str, Any], *, write: bool = False) -> Runtime:
        settings = Settings.from_data(
            {
                "model": {
                    "base_url": srv.base_url,
                    "name": "fake-model",
                    "api_key_env": KEY_ENV,
                    "max_retries": 0,
                },
                "agent": {"language": "en", "tool_output_tokens": 1000},
                "sessions": {"dir": str(tmp_path / "sessions")},
                "mcp": {"servers": servers},
            }
        )
        rt = build_runtime(settings, RuntimeOptions(demo=True, write=write))
        made.append(rt)
        return rt

    yield make
    for rt in made:
        rt.close()


def fake(mode: str = "serve", **extra: Any) -> dict[str, Any]:
    return {"command": sys.executable, "args": [THIRDPARTY, mode], **extra}


async def run(rt: Runtime, task: str, approver: Any = None) -> list[AgentEvent]:
    loop = rt.runner(approver)
    try:
        return [ev async for ev in loop.run(task)]
    finally:
        await loop.aclose()


def offered(body: dict[str, Any]) -> dict[str, str]:
    return {t["function"]["name"]: t["function"]["description"] for t in body.get("tools", [])}


def finished(events: list[AgentEvent]) -> list[ToolCallFinished]:
    return [e for e in events if isinstance(e, ToolCallFinished)]


def notices(events: list[AgentEvent]) -> str:
    return "\n".join(e.text for e in events if isinstance(e, Notice))


async def test_trusted_read_tool_called_by_the_agent_output_untrusted_and_redacted(
    srv: ScriptedOpenAIServer, runtime: Callable[..., Runtime]
) -> None:
    rt = runtime({"fake": fake(trusted=True)})
    srv.push(
        reply(tool_calls=[tool_call("fake__lookup", {"key": "db"}, id="call_1")]),
        reply("The key is set."),
    )
    events = await run(rt, "what is db?")
    assert isinstance(events[-2], Answer), events[-3:]
    tools = offered(srv.requests[0])
    assert "get_k8s_pods" in tools  # ours, beside theirs
    assert tools["fake__lookup"].startswith("[MCP server fake] ")
    assert "fake__dotted_name" in tools
    assert "fake__restart_service" not in tools  # not annotated read-only: mutating
    assert "fake__broken" not in tools
    assert "'broken' left out: its input schema is invalid" in notices(events)
    (call,) = finished(events)
    assert call.status == "ok"
    assert call.output.startswith('<untrusted-tool-output server="fake" tool="lookup">')
    assert "not instructions" in call.output
    assert SECRET not in call.output
    assert call.output.count("</untrusted-tool-output>") == 1  # the injected one is escaped
    tool_message = [m for m in srv.requests[1]["messages"] if m["role"] == "tool"][0]
    assert tool_message["content"] == call.output
    assert SECRET not in json.dumps(srv.requests)
    assert rt.mcp is not None
    assert [(s.name, s.state, s.tools) for s in rt.mcp.status()] == [("fake", "ready", 6)]


async def test_untrusted_server_tools_need_write_mode_and_approval(
    srv: ScriptedOpenAIServer, runtime: Callable[..., Runtime], tmp_path: Path
) -> None:
    marker = tmp_path / "marker.txt"
    server = fake(env={"MARKER": str(marker)})  # not trusted: its readOnlyHint is not believed
    srv.push(reply("read-only answer"))
    ro = runtime({"fake": server})
    await run(ro, "q")
    tools = offered(srv.requests[0])
    assert not [name for name in tools if name.startswith("fake__")]

    rw = runtime({"fake": server}, write=True)
    approver = ScriptedApprover("approve", "decline")
    srv.push(
        reply(
            tool_calls=[
                tool_call("fake__restart_service", {"service": "web"}, id="call_a"),
            ]
        ),
        reply(tool_calls=[tool_call("fake__restart_service", {"service": "db"}, id="call_b")]),
        reply("done"),
    )
    events = await run(rw, "restart web then db", approver)
    described = offered(srv.requests[1])
    assert described["fake__lookup"].startswith("[MCP server fake, untrusted] ")
    assert [c.status for c in finished(events)] == ["ok", "declined"]
    assert marker.read_text() == "restarted web\n"  # the declined one never ran
    request = approver.requests[0]
    assert request.summary.kind == "MCP fake" and request.summary.name == "restart_service"
    assert '"service": "web"' in request.summary.detail
    assert "third-party MCP server" in request.dry_run


async def test_hanging_tool_times_out_and_the_run_goes_on(
    srv: ScriptedOpenAIServer, runtime: Callable[..., Runtime]
) -> None:
    rt = runtime({"fake": fake(trusted=True, call_timeout=1)}, write=True)
    srv.push(
        reply(tool_calls=[tool_call("fake__lookup", {"key": "a"}, id="call_0")]),
        reply(tool_calls=[tool_call("fake__hang", {}, id="call_1")]),
        reply(tool_calls=[tool_call("fake__lookup", {"key": "b"}, id="call_2")]),
        reply("gave up on hang"),
    )
    events = await run(rt, "q", ScriptedApprover("approve"))
    calls = finished(events)
    assert [(c.tool, c.status, c.error_code) for c in calls] == [
        ("fake__lookup", "ok", None),
        ("fake__hang", "error", "timeout"),
        ("fake__lookup", "ok", None),
    ]
    assert "timed out" in calls[1].output
    assert isinstance(events[-2], Answer)


async def test_a_server_crashing_mid_call_is_an_error_not_a_broken_run(
    srv: ScriptedOpenAIServer, runtime: Callable[..., Runtime]
) -> None:
    rt = runtime({"fake": fake(trusted=True)}, write=True)
    srv.push(
        reply(tool_calls=[tool_call("fake__crash", {}, id="call_1")]),
        reply(tool_calls=[tool_call("fake__lookup", {"key": "a"}, id="call_2")]),
        reply("the server is gone"),
    )
    events = await run(rt, "q", ScriptedApprover("approve"))
    crash, after = finished(events)
    assert (crash.status, crash.error_code) == ("error", "mcp_server")
    assert "exited" in crash.output
    assert (after.status, after.error_code) == ("error", "mcp_server")
    assert "'fake' is exited" in after.output and "crashing on purpose" in after.output
    assert isinstance(events[-2], Answer)
    assert rt.mcp is not None and rt.mcp.status()[0].state == "exited"


async def test_ten_megabytes_of_output_are_budgeted(
    srv: ScriptedOpenAIServer, runtime: Callable[..., Runtime]
) -> None:
    rt = runtime({"fake": fake(trusted=True)})
    srv.push(reply(tool_calls=[tool_call("fake__big", {}, id="call_1")]), reply("big"))
    events = await run(rt, "q")
    (call,) = finished(events)
    assert call.status == "ok"
    assert estimate_tokens(call.output) <= 1000
    assert "[truncated:" in call.output and call.output.endswith("</untrusted-tool-output>")
    assert call.data is not None and call.data["characters"] == 10 * 1024 * 1024


async def test_servers_that_cannot_start_are_notices_and_the_run_goes_on(
    srv: ScriptedOpenAIServer, runtime: Callable[..., Runtime]
) -> None:
    rt = runtime(
        {
            "missing": {"command": "/nonexistent/bin/mcp-server-x"},
            "failing": fake("fail-start"),
            "fake": fake(trusted=True),
        }
    )
    srv.push(reply("answered anyway"))
    events = await run(rt, "q")
    said = notices(events)
    assert "MCP server 'missing' not available: cannot start: command not found" in said
    assert "'/nonexistent/bin/mcp-server-x'" in said
    assert "MCP server 'failing' not available" in said
    assert "needs FAKE_CONFIG" in said  # its stderr says why
    assert isinstance(events[-2], Answer)
    names = offered(srv.requests[0])
    assert "fake__lookup" in names and not [n for n in names if n.startswith("missing__")]
    assert rt.mcp is not None
    states = {s.name: s.state for s in rt.mcp.status()}
    assert states == {"missing": "failed", "failing": "failed", "fake": "ready"}


async def test_opsconsole_uses_opsconsole_mcp_over_http_with_the_token_from_the_environment(
    srv: ScriptedOpenAIServer,
    runtime: Callable[..., Runtime],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    (tmp_path / "served").mkdir()
    with listening(tmp_path / "served") as served:
        monkeypatch.setenv("OPSCONSOLE_TEST_MCP_AUTH", f"Bearer {served.token}")
        rt = runtime(
            {
                "ops": {
                    "url": served.url,
                    "headers_env": {"Authorization": "OPSCONSOLE_TEST_MCP_AUTH"},
                    "trusted": True,
                },
                "nokey": {
                    "url": served.url,
                    "headers_env": {"Authorization": "OPSCONSOLE_TEST_UNSET_VARIABLE"},
                },
            }
        )
        srv.push(
            reply(tool_calls=[tool_call("ops__get_k8s_pods", {"namespace": "shop"}, id="c1")]),
            reply("shop has failing pods"),
        )
        events = await run(rt, "how is shop?")
    tools = offered(srv.requests[0])
    assert tools["ops__get_k8s_pods"].startswith("[MCP server ops] ")  # read-only: trusted
    assert "ops__delete_pod" not in tools  # the served side is read-only
    assert "$OPSCONSOLE_TEST_UNSET_VARIABLE (for the Authorization header) is not set" in (
        notices(events)
    )
    (call,) = finished(events)
    assert call.status == "ok"
    assert "pods in namespace shop" in call.output and "CrashLoopBackOff" in call.output
    assert call.output.startswith('<untrusted-tool-output server="ops" tool="get_k8s_pods">')


KUBERNETES_MCP_SERVER = shutil.which("kubernetes-mcp-server")


@pytest.mark.skipif(
    KUBERNETES_MCP_SERVER is None,
    reason="kubernetes-mcp-server (npm) is not installed; .ci/run installs it",
)
async def test_the_npm_kubernetes_mcp_server_on_the_sandbox(
    srv: ScriptedOpenAIServer, runtime: Callable[..., Runtime], sandbox_kubeconfig: Path
) -> None:
    """A real third-party server (Go, from npm) pointed at the sandbox's kubeconfig."""
    assert KUBERNETES_MCP_SERVER is not None
    args = ["--kubeconfig", str(sandbox_kubeconfig), "--disable-multi-cluster"]
    rt = runtime({"kms": {"command": KUBERNETES_MCP_SERVER, "args": args, "trusted": True}})
    srv.push(
        reply(tool_calls=[tool_call("kms__pods_list_in_namespace", {"namespace": "shop"})]),
        reply("listed"),
    )
    events = await run(rt, "list the pods of shop with the other server")
    tools = offered(srv.requests[0])
    assert "kms__pods_list_in_namespace" in tools  # readOnlyHint, and trusted
    assert "kms__pods_delete" not in tools and "kms__resources_scale" not in tools
    (call,) = finished(events)
    assert call.status == "ok", call.output
    assert call.output.startswith('<untrusted-tool-output server="kms"')
    assert "checkout" in call.output and "CrashLoopBackOff" in call.output
