"""Request validation of the scripted OpenAI-compatible server: what OpenAI and DeepSeek
answer 400 to (tool-message pairing, roles, content types, arguments as strings, tool names,
the reasoning_content passback rule of DeepSeek's thinking mode)."""

from __future__ import annotations

import re
from typing import Any

TOOL_NAME_RE = re.compile(r"^[a-zA-Z0-9_-]{1,64}$")
ROLES = {"system", "user", "assistant", "tool", "developer"}


def _content_ok(content: Any, *, allow_null: bool) -> bool:
    if content is None:
        return allow_null
    if isinstance(content, str):
        return True
    if isinstance(content, list):
        if not content:
            return False
        return all(
            isinstance(p, dict) and p.get("type") == "text" and isinstance(p.get("text"), str)
            for p in content
        )
    return False


def validate_chat_request(
    body: Any,
    *,
    require_reasoning_passback: bool = False,
    reject_reasoning_content: bool = False,
    strict_alternation: bool = False,
) -> str | None:
    """The first reason a real OpenAI-compatible API would answer 400, or None."""
    if not isinstance(body, dict):
        return "request body must be a JSON object"
    if not isinstance(body.get("model"), str) or not body["model"]:
        return "you must provide a model parameter"
    messages = body.get("messages")
    if not isinstance(messages, list) or not messages:
        return "Invalid 'messages': empty array. Expected an array with minimum length 1"
    if "stream_options" in body and not body.get("stream"):
        return "The 'stream_options' parameter is only allowed when 'stream' is enabled."
    tools = body.get("tools")
    if tools is not None:
        if not isinstance(tools, list) or not tools:
            return "Invalid 'tools': empty array. Expected an array with minimum length 1"
        seen: set[str] = set()
        for i, t in enumerate(tools):
            fn = t.get("function") if isinstance(t, dict) else None
            if not isinstance(t, dict) or t.get("type") != "function" or not isinstance(fn, dict):
                return f"Invalid 'tools[{i}]': expected a function tool"
            name = fn.get("name")
            if not isinstance(name, str) or not TOOL_NAME_RE.match(name):
                return (
                    f"Invalid 'tools[{i}].function.name': string does not match pattern. "
                    "Expected a string that matches the pattern '^[a-zA-Z0-9_-]+$'."
                )
            if name in seen:
                return f"Invalid 'tools': duplicate function name '{name}'"
            seen.add(name)
            params = fn.get("parameters")
            if params is not None and (
                not isinstance(params, dict) or params.get("type") != "object"
            ):
                return (
                    f"Invalid schema for function '{name}': "
                    "schema must be a JSON Schema of 'type: \"object\"'"
                )

    pending: dict[str, bool] = {}  # tool_call_ids of the last assistant message not yet answered
    prev_role: str | None = None
    for i, m in enumerate(messages):
        where = f"messages[{i}]"
        if not isinstance(m, dict):
            return f"Invalid '{where}': expected an object"
        role = m.get("role")
        if role not in ROLES:
            return (
                f"Invalid value: '{role}'. Supported values are: "
                "'system', 'assistant', 'user', 'tool', and 'developer'."
            )
        if pending and role != "tool":
            missing = ", ".join(k for k, done in pending.items() if not done)
            return (
                "An assistant message with 'tool_calls' must be followed by tool messages "
                f"responding to each 'tool_call_id'. The following tool_call_ids did not have "
                f"response messages: {missing} (insufficient tool messages following tool_calls "
                "message)"
            )
        if "reasoning_content" in m and reject_reasoning_content:
            return f"Invalid '{where}': unknown field 'reasoning_content' for this model"
        if role in ("system", "developer", "user"):
            if not _content_ok(m.get("content"), allow_null=False):
                return f"Invalid '{where}.content': expected a string or an array of text parts"
        elif role == "assistant":
            tcs = m.get("tool_calls")
            content = m.get("content")
            if isinstance(content, list):
                return f"Invalid '{where}.content': expected a string or null, got an array"
            if content is not None and not isinstance(content, str):
                return f"Invalid '{where}.content': expected a string"
            if tcs is not None:
                if not isinstance(tcs, list) or not tcs:
                    return (
                        f"Invalid '{where}.tool_calls': empty array. "
                        "Expected an array with minimum length 1"
                    )
                ids: dict[str, bool] = {}
                for j, tc in enumerate(tcs):
                    w = f"{where}.tool_calls[{j}]"
                    if (
                        not isinstance(tc, dict)
                        or not isinstance(tc.get("id"), str)
                        or not tc["id"]
                    ):
                        return f"Invalid '{w}.id': expected a non-empty string"
                    if tc.get("type") != "function":
                        return f"Invalid '{w}.type': expected 'function'"
                    fn = tc.get("function")
                    if not isinstance(fn, dict) or not isinstance(fn.get("name"), str):
                        return f"Invalid '{w}.function': expected an object with a name"
                    if not isinstance(fn.get("arguments"), str):
                        got = type(fn.get("arguments")).__name__
                        return f"Invalid '{w}.function.arguments': expected a string, got {got}"
                    if tc["id"] in ids:
                        return f"Invalid '{w}.id': duplicate tool_call_id {tc['id']}"
                    ids[tc["id"]] = False
                if require_reasoning_passback and not m.get("reasoning_content"):
                    return (
                        f"Missing `reasoning_content` field in the assistant message at {where}. "
                        "For more information, please refer to the thinking-mode tool-call docs."
                    )
                pending = ids
            elif content is None:
                return f"Invalid '{where}': an assistant message needs 'content' or 'tool_calls'"
        elif role == "tool":
            tcid = m.get("tool_call_id")
            if not isinstance(tcid, str) or tcid not in pending or pending[tcid]:
                return (
                    f"Invalid parameter: messages with role 'tool' must be a response to a "
                    f"preceding message with 'tool_calls' ({where}, tool_call_id={tcid!r})."
                )
            if not _content_ok(m.get("content"), allow_null=False):
                return f"Invalid '{where}.content': expected a string"
            pending[tcid] = True
            if all(pending.values()):
                pending = {}
        if strict_alternation and role in ("user", "assistant") and role == prev_role:
            return (
                "deepseek-reasoner does not support successive user or assistant messages "
                f"({where} repeats role '{role}')"
            )
        if role != "tool":
            prev_role = role
        else:
            prev_role = "assistant"
    if pending:
        missing = ", ".join(k for k, done in pending.items() if not done)
        return (
            "An assistant message with 'tool_calls' must be followed by tool messages responding "
            f"to each 'tool_call_id'. The following tool_call_ids did not have response "
            f"messages: {missing} (insufficient tool messages following tool_calls message)"
        )
    return None


def context_chars(messages: list[dict[str, Any]]) -> int:
    total = 0
    for m in messages:
        c = m.get("content")
        if isinstance(c, str):
            total += len(c)
        elif isinstance(c, list):
            total += sum(len(p.get("text", "")) for p in c if isinstance(p, dict))
        for tc in m.get("tool_calls") or ():
            total += len(str(tc.get("function", {}).get("arguments", "")))
    return total
