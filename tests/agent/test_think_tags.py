"""Local reasoning models (DeepSeek-R1, QwQ, Qwen3 on Ollama or vLLM without a reasoning parser)
write ``<think>…</think>`` into the content: it becomes the step's reasoning, never the answer,
and is not sent back as content — streamed (tags split across deltas) and non-streamed."""

from __future__ import annotations

import pytest

from opsconsole.agent.events import Answer, ReasoningDelta, TextDelta, Thought
from opsconsole.agent.think import split_think
from tests.agent.agentkit import Calls, collect, make_loop, make_settings, make_tools, of
from tests.fakes.openai_server import ScriptedOpenAIServer, reply, tool_call


@pytest.mark.parametrize("stream", [True, False])
async def test_think_block_is_reasoning_not_answer(stream: bool) -> None:
    with ScriptedOpenAIServer() as srv:
        srv.push(
            reply(
                "<think>\nThe user asks about pods: list them first.\n</think>\n\n",
                tool_calls=[tool_call("get_k8s_pods", {"namespace": "default"})],
                chunk_size=5,  # the tags arrive split across deltas
            ),
            reply(
                "<think>All Running; say so.</think>\n\nAll 3 pods are Running. "
                "(A literal <think> later in an answer stays.)",
                chunk_size=3,
            ),
        )
        settings = make_settings(srv.base_url, model={"stream": stream})
        loop = make_loop(srv, make_tools(Calls()), settings=settings)
        events = await collect(loop, "how are the pods?")
        assert srv.rejections == []
        answer = of(events, Answer)[0].text
        assert answer == "All 3 pods are Running. (A literal <think> later in an answer stays.)"
        thought = of(events, Thought)[0]
        assert "list them first" in thought.reasoning and "<think>" not in thought.text
        if stream:  # nothing of the block was shown as answer text while it streamed
            shown = "".join(e.text for e in of(events, TextDelta))
            assert "list them first" not in shown and "say so" not in shown
            live = "".join(e.text for e in of(events, ReasoningDelta))
            assert "list them first" in live
        second = srv.requests[1]["messages"]
        assistant = [m for m in second if m["role"] == "assistant"][0]
        assert "<think>" not in (assistant.get("content") or "")


def test_split_think_only_at_the_start() -> None:
    assert split_think("<think>a</think>\n\nb") == ("a", "b")
    assert split_think("  <think>a</think>b") == ("a", "b")
    assert split_think("b <think>a</think>") == ("", "b <think>a</think>")
    assert split_think("<think>never closed") == ("never closed", "")
    assert split_think("plain answer") == ("", "plain answer")
