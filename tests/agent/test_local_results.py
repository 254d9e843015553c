"""What stays local of a conversation: how each call ended (status, error code, data) and the
session's context and namespace reach a client that runs in the process, never a model API.

Through the real loop: once with the OpenAI-compatible client against the scripted server
(its requests are inspected), once with a local client that records what it is given.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

from opsconsole.agent.loop import AgentLoop
from opsconsole.agent.model import ModelStreamItem, ModelTurn, ToolCallRequest, Usage
from opsconsole.agent.tools import Tool, ToolError, ToolRegistry, ToolResult
from opsconsole.agent.transcript import LOCAL
from tests.agent.agentkit import POD_SCHEMA, make_loop, make_settings
from tests.fakes.openai_server import reply, tool_call

SECRET_DATA = {"items": [{"name": "pod-0", "token": "kept-local-only"}]}


def _tools() -> list[Tool]:
    def pods(args: dict[str, Any]) -> ToolResult:
        return ToolResult(content="pod-0 Running", data=SECRET_DATA)

    def broken(args: dict[str, Any]) -> ToolResult:
        line = "forbidden: pods is forbidden"
        return ToolResult(content=line, is_error=True, error=ToolError("forbidden", line))

    return [
        Tool("get_k8s_pods", "pods", POD_SCHEMA, pods, read_only=True),
        Tool("broken", "always forbidden", POD_SCHEMA, broken, read_only=True),
    ]


def _calls() -> list[Any]:
    return [
        tool_call("get_k8s_pods", {"namespace": "x"}, id="c1"),
        tool_call("broken", {"namespace": "x"}, id="c2"),
    ]


async def test_a_model_api_never_gets_what_stays_local(srv) -> None:  # noqa: ANN001
    srv.push(reply(tool_calls=_calls()), reply("done"))
    loop = make_loop(srv, _tools(), context="ctx-a", namespace="shop")
    [ev async for ev in loop.run("list pods")]
    second = srv.requests[1]
    assert all(LOCAL not in m for m in second["messages"])
    assert "kept-local-only" not in str(second)
    tool_messages = [m for m in second["messages"] if m["role"] == "tool"]
    assert [m["content"] for m in tool_messages] == [
        "pod-0 Running",
        "forbidden: pods is forbidden",
    ]
    # the conversation still knows how each call ended
    assert loop.conversation.result("c1") == {"status": "ok", "data": SECRET_DATA}
    assert loop.conversation.result("c2") == {
        "status": "error",
        "error": {"code": "forbidden", "message": "forbidden: pods is forbidden"},
    }


class LocalClient:
    """A client that runs in the process (``offline``): records the messages it is given."""

    label = "local"
    offline = True

    def __init__(self) -> None:
        self.seen: list[list[dict[str, Any]]] = []

    async def run_turn(
        self, messages: list[dict[str, Any]], tools: list[dict[str, Any]]
    ) -> AsyncIterator[ModelStreamItem]:
        self.seen.append(messages)
        usage = Usage(prompt_tokens=0, completion_tokens=0)
        if len(self.seen) == 1:
            calls = [
                ToolCallRequest("c1", "get_k8s_pods", '{"namespace": "x"}'),
                ToolCallRequest("c2", "broken", '{"namespace": "x"}'),
                ToolCallRequest("c3", "no_such_tool", "{}"),
            ]
            yield ModelTurn(tool_calls=calls, finish_reason="tool_calls", usage=usage)
        else:
            yield ModelTurn(content="done", usage=usage)


async def test_a_local_client_gets_each_calls_outcome_and_the_session(srv) -> None:  # noqa: ANN001
    client = LocalClient()
    loop = AgentLoop(
        client,
        ToolRegistry(_tools()),
        settings=make_settings(srv.base_url),
        context="ctx-a",
        namespace="shop",
    )
    [ev async for ev in loop.run("list pods")]
    messages = client.seen[1]
    assert messages[0][LOCAL] == {"context": "ctx-a", "namespace": "shop"}
    local = {m["tool_call_id"]: m[LOCAL] for m in messages if m["role"] == "tool"}
    assert local["c1"] == {"status": "ok", "data": SECRET_DATA}
    assert local["c2"]["error"]["code"] == "forbidden"
    assert local["c3"]["status"] == "error" and local["c3"]["error"]["code"] == "unknown_tool"
    # the stored transcript stays plain OpenAI messages
    assert all(LOCAL not in m for m in loop.conversation.messages)
