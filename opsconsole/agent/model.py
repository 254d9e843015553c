"""Model clients: the protocol the loop talks to, and the OpenAI-compatible implementation.

The loop calls :meth:`ModelClient.run_turn` once per step. It yields streaming pieces
(:class:`TextChunk`, :class:`ReasoningChunk`, :class:`RetryNotice`) and, last, exactly one
:class:`ModelTurn` holding the assembled assistant message. Retries happen inside the client
and are announced with :class:`RetryNotice` so the UI can show the wait. Failures raise
subclasses of :class:`opsconsole.errors.ModelError`.
"""

from __future__ import annotations

import asyncio
import email.utils
import random
import time
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

from opsconsole.agent.think import ThinkSplitter, split_think
from opsconsole.errors import (
    ModelAuthError,
    ModelBadRequest,
    ModelBalanceError,
    ModelContextLength,
    ModelError,
    ModelRateLimited,
    ModelStreamInterrupted,
    ModelTimeout,
    ModelUnavailable,
)

if TYPE_CHECKING:  # pragma: no cover
    from opsconsole.config import ModelSettings


@dataclass(frozen=True)
class ToolCallRequest:
    """One tool call as the model sent it; ``arguments`` is the raw JSON string."""

    id: str
    name: str
    arguments: str


@dataclass(frozen=True)
class Usage:
    prompt_tokens: int = 0
    completion_tokens: int = 0
    #: prompt tokens served from the provider's prompt cache, and not; None: the provider's
    #: usage did not say (unknown, never taken as zero: RELIABILITY A21)
    cache_hit_tokens: int | None = None
    cache_miss_tokens: int | None = None


@dataclass(frozen=True)
class ModelTurn:
    content: str = ""
    reasoning: str = ""
    tool_calls: list[ToolCallRequest] = field(default_factory=list)
    finish_reason: str | None = "stop"
    usage: Usage | None = None


@dataclass(frozen=True)
class TextChunk:
    text: str


@dataclass(frozen=True)
class ReasoningChunk:
    text: str


@dataclass(frozen=True)
class RetryNotice:
    attempt: int
    max_attempts: int
    wait: float
    reason: str


ModelStreamItem = TextChunk | ReasoningChunk | RetryNotice | ModelTurn

#: opens every answer of an offline client (no model involved), so nobody takes it for a
#: model's: the offline planner's and the offline team's
OFFLINE_HEADER = "〔离线规划器 / offline planner〕"


@runtime_checkable
class ModelClient(Protocol):
    #: shown in the UI and recorded in sessions, e.g. "deepseek-chat" or "offline planner"
    label: str
    #: True for the built-in offline planner (no network)
    offline: bool

    def run_turn(
        self, messages: list[dict[str, Any]], tools: list[dict[str, Any]]
    ) -> AsyncIterator[ModelStreamItem]:
        """Send one request; yield stream pieces, then exactly one ModelTurn."""
        ...


# --- the OpenAI-compatible client ---------------------------------------------------------

#: substrings (lower-cased) by which providers announce a context-length overflow (A4)
CONTEXT_LENGTH_MARKERS = (
    "maximum context length",
    "context length",
    "context_length_exceeded",
    "context window",
    "too many tokens",
    "prompt is too long",
)


class StreamInterrupted(ModelStreamInterrupted):
    """The stream broke after part of the reply arrived (A7) or was cut by the length limit
    while tool-call arguments were still open (A8). The partial reply is never executed."""

    def __init__(
        self,
        message: str,
        *,
        partial_content: str = "",
        partial_reasoning: str = "",
        partial_tool_calls: int = 0,
        hint: str | None = "retry the question",
    ) -> None:
        super().__init__(message, hint=hint)
        self.partial_content = partial_content
        self.partial_reasoning = partial_reasoning
        self.partial_tool_calls = partial_tool_calls


def is_context_length_message(message: str) -> bool:
    low = message.lower()
    return any(marker in low for marker in CONTEXT_LENGTH_MARKERS)


def parse_retry_after(headers: Any) -> float | None:
    """Seconds from ``retry-after-ms`` / ``Retry-After`` (seconds or an HTTP date)."""
    if headers is None:
        return None
    try:
        ms = headers.get("retry-after-ms")
        if ms is not None:
            return max(0.0, float(ms) / 1000.0)
    except (TypeError, ValueError):
        pass
    raw = headers.get("retry-after")
    if raw is None:
        return None
    try:
        return max(0.0, float(raw))
    except (TypeError, ValueError):
        pass
    try:
        when = email.utils.parsedate_to_datetime(str(raw))
    except (TypeError, ValueError, IndexError):
        return None
    if when is None:
        return None
    return max(0.0, when.timestamp() - time.time())


class _RetryableFailure(Exception):
    """Internal: a failed attempt that may be retried after ``wait`` seconds (None = backoff)."""

    def __init__(self, error: ModelError, wait: float | None = None) -> None:
        super().__init__(str(error))
        self.error = error
        self.wait = wait


class _ToolCallBuffer:
    __slots__ = ("id", "name", "arguments")

    def __init__(self) -> None:
        self.id = ""
        self.name = ""
        self.arguments: list[str] = []


def _extra(obj: Any, name: str) -> Any:
    """A provider-specific field (e.g. DeepSeek's ``reasoning_content``) of an SDK object."""
    value = getattr(obj, name, None)
    if value is None:
        extra = getattr(obj, "model_extra", None)
        if extra:
            value = extra.get(name)
    return value


def new_call_id() -> str:
    """A tool-call id in OpenAI's shape, for a call the server sent without one (or twice)."""
    return "call_" + uuid.uuid4().hex[:24]


class ModelNotChatAPI(ModelError):
    """The endpoint answered, but not as the Chat Completions API does (a web page, a proxy's
    login form): a wrong ``model.base_url``, not worth retrying."""


def _check_chat_api(raw: Any) -> None:
    """Refuse an HTML answer (status 200 from a web server or a proxy) before parsing it."""
    kind = str(raw.headers.get("content-type") or "").lower()
    if "html" in kind:
        url = str(getattr(getattr(raw, "http_request", None), "url", "") or "the endpoint")
        raise ModelNotChatAPI(
            f"the endpoint at {url} answered with a web page (HTML), not the Chat Completions API",
            hint="check model.base_url (an OpenAI-compatible API usually ends in /v1; "
            "DeepSeek's is https://api.deepseek.com)",
        )


class OpenAIModelClient:
    """:class:`ModelClient` over any OpenAI-compatible chat-completions endpoint.

    The SDK's own retries are disabled (``max_retries=0``); this class retries with the policy
    of RELIABILITY A1-A8 and announces every wait with a :class:`RetryNotice` before sleeping,
    so the UI can show it and a cancel during the wait aborts at once. Explicit timeouts come
    from ``settings.timeout`` (connect/read per socket operation, ``total`` per attempt).

    ``backoff_base``/``backoff_max`` shape the exponential backoff for 5xx and timeouts;
    ``max_retry_after`` caps how long a server's Retry-After may make us wait.
    """

    offline = False

    def __init__(
        self,
        settings: ModelSettings,
        *,
        api_key: str | None = None,
        backoff_base: float = 1.0,
        backoff_max: float = 20.0,
        max_retry_after: float = 120.0,
    ) -> None:
        self.settings = settings
        self.label = settings.name
        self._api_key = api_key if api_key is not None else settings.api_key()
        self.backoff_base = backoff_base
        self.backoff_max = backoff_max
        self.max_retry_after = max_retry_after
        self._client: Any = None
        #: ask for usage in streams; turned off for servers that refuse the parameter
        self._stream_options = True

    # -- plumbing ---------------------------------------------------------------------

    def _sdk(self) -> Any:
        if self._client is None:
            import openai

            t = self.settings.timeout
            self._client = openai.AsyncOpenAI(
                api_key=self._api_key or "not-needed",
                base_url=self.settings.base_url,
                max_retries=0,
                timeout=openai.Timeout(
                    connect=t.connect, read=t.read, write=t.read, pool=t.connect
                ),
            )
        return self._client

    async def aclose(self) -> None:
        if self._client is not None:
            client, self._client = self._client, None
            await client.close()

    def _request_kwargs(
        self, messages: list[dict[str, Any]], tools: list[dict[str, Any]], stream: bool
    ) -> dict[str, Any]:
        kwargs: dict[str, Any] = {"model": self.settings.name, "messages": messages}
        if tools:
            kwargs["tools"] = tools
        if self.settings.temperature is not None:
            kwargs["temperature"] = self.settings.temperature
        if stream:
            kwargs["stream"] = True
            if self._stream_options:
                kwargs["stream_options"] = {"include_usage": True}
        return kwargs

    def backoff(self, attempt: int) -> float:
        """Exponential backoff with full jitter in [50%, 100%] of the step (attempt >= 1)."""
        step = min(self.backoff_max, self.backoff_base * (2.0 ** (attempt - 1)))
        return step * (0.5 + random.random() / 2.0)

    def _classify(self, exc: BaseException) -> ModelError | _RetryableFailure:
        """Map an SDK/transport exception to our error types (retryable ones wrapped)."""
        import openai

        key_env = self.settings.api_key_env
        if isinstance(exc, openai.APITimeoutError):
            return _RetryableFailure(
                ModelTimeout(
                    f"the model API at {self.settings.base_url} timed out",
                    hint="the provider may be overloaded; check model.timeout in the config",
                )
            )
        if isinstance(exc, openai.APIConnectionError):
            return _RetryableFailure(
                ModelUnavailable(
                    f"cannot reach the model API at {self.settings.base_url}",
                    hint="check the network and model.base_url",
                )
            )
        if isinstance(exc, openai.APIStatusError):
            status = exc.status_code
            message = _error_message(exc)
            if status == 401:
                return ModelAuthError(
                    f"the model API rejected the API key (401): {message}",
                    hint=f"check the API key (env {key_env})",
                )
            if status == 402:
                return ModelBalanceError(
                    f"insufficient balance (402): {message}",
                    hint=f"top up the balance of your {self.settings.provider} account",
                )
            if status == 403:
                return ModelAuthError(
                    f"the model API refused the request (403): {message}",
                    hint=f"check the API key (env {key_env}) and its permissions",
                )
            if status == 404:
                return ModelBadRequest(
                    f"model or endpoint not found (404): {message}",
                    hint="check model.name and model.base_url",
                )
            if status in (400, 413, 422) and is_context_length_message(message):
                return ModelContextLength(f"the conversation is too long for the model: {message}")
            if status == 429:
                wait = parse_retry_after(exc.response.headers)
                return _RetryableFailure(
                    ModelRateLimited(
                        f"rate limited by the model API (429): {message}",
                        hint="wait a moment, or lower the request rate",
                    ),
                    wait,
                )
            if status in (408, 409) or status >= 500:
                return _RetryableFailure(
                    ModelUnavailable(f"the model API failed ({status}): {message}"),
                    parse_retry_after(exc.response.headers),
                )
            return ModelBadRequest(f"the model API rejected the request ({status}): {message}")
        if isinstance(exc, ModelError):
            return _RetryableFailure(exc) if exc.retryable else exc
        return ModelError(f"model call failed: {type(exc).__name__}: {exc}")

    # -- the protocol -----------------------------------------------------------------

    async def run_turn(
        self, messages: list[dict[str, Any]], tools: list[dict[str, Any]]
    ) -> AsyncIterator[ModelStreamItem]:
        max_attempts = self.settings.max_retries + 1
        attempt = 0
        while True:
            attempt += 1
            progressed = False
            try:
                if self.settings.stream:
                    async for item in self._stream_once(messages, tools):
                        progressed = True
                        yield item
                else:
                    yield await self._complete_once(messages, tools)
                return
            except (
                StreamInterrupted,
                ModelContextLength,
                ModelAuthError,
                ModelBalanceError,
                ModelNotChatAPI,
            ):
                raise
            except (asyncio.CancelledError, GeneratorExit):
                raise
            except Exception as exc:  # noqa: BLE001 - classified below
                failure = self._classify(exc)
                if (
                    isinstance(failure, ModelBadRequest)
                    and "stream_options" in failure.message
                    and self._stream_options
                    and not progressed
                ):
                    # an older server that refuses stream_options: retry once without it
                    self._stream_options = False
                    attempt -= 1
                    continue
                if isinstance(failure, ModelError):
                    raise failure from None
                if progressed:
                    raise StreamInterrupted(
                        f"the model stream broke: {failure.error.message}"
                    ) from None
                if attempt >= max_attempts:
                    raise failure.error from None
                wait = failure.wait
                if wait is not None and wait > self.max_retry_after:
                    raise failure.error.__class__(
                        f"{failure.error.message} (server asks to wait {wait:.0f}s)",
                        hint=failure.error.hint,
                    ) from None
                if wait is None:
                    wait = self.backoff(attempt)
                yield RetryNotice(
                    attempt=attempt,
                    max_attempts=max_attempts,
                    wait=wait,
                    reason=failure.error.message,
                )
                await asyncio.sleep(wait)

    async def _complete_once(
        self, messages: list[dict[str, Any]], tools: list[dict[str, Any]]
    ) -> ModelTurn:
        client = self._sdk()
        try:
            async with asyncio.timeout(self.settings.timeout.total):
                raw = await client.chat.completions.with_raw_response.create(
                    **self._request_kwargs(messages, tools, stream=False)
                )
                _check_chat_api(raw)
                resp = raw.parse()
                if not hasattr(resp, "choices"):  # text or JSON that is no chat completion
                    raise ModelNotChatAPI(
                        f"the endpoint at {raw.http_request.url} did not answer as the Chat "
                        "Completions API (no choices in the reply)",
                        hint="check model.base_url and model.name",
                    )
        except TimeoutError:
            raise ModelTimeout(
                f"no answer from the model API within {self.settings.timeout.total:.0f}s"
            ) from None
        if not resp.choices:
            return ModelTurn(content="", finish_reason="stop", usage=_usage(resp.usage))
        choice = resp.choices[0]
        msg = choice.message
        calls = [
            ToolCallRequest(
                id=tc.id or new_call_id(),
                name=tc.function.name or "",
                arguments=tc.function.arguments or "",
            )
            for tc in (msg.tool_calls or [])
            if getattr(tc, "function", None) is not None
        ]
        reasoning = _extra(msg, "reasoning_content") or _extra(msg, "reasoning") or ""
        thought, content = split_think(msg.content or "")  # <think>…</think> of local models
        return ModelTurn(
            content=content,
            reasoning=str(reasoning) or thought.strip(),
            tool_calls=calls,
            finish_reason=choice.finish_reason,
            usage=_usage(resp.usage),
        )

    async def _stream_once(
        self, messages: list[dict[str, Any]], tools: list[dict[str, Any]]
    ) -> AsyncIterator[ModelStreamItem]:
        client = self._sdk()
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.settings.timeout.total
        try:
            async with asyncio.timeout_at(deadline):
                raw = await client.chat.completions.with_raw_response.create(
                    **self._request_kwargs(messages, tools, stream=True)
                )
                _check_chat_api(raw)
                stream = raw.parse()
        except TimeoutError:
            raise ModelTimeout(
                f"no answer from the model API within {self.settings.timeout.total:.0f}s"
            ) from None
        content = _Pieces()
        reasoning = _Pieces()
        think = ThinkSplitter()  # <think>…</think> in the content of local reasoning models
        calls: dict[int, _ToolCallBuffer] = {}
        finish_reason: str | None = None
        usage: Usage | None = None
        #: something of the reply arrived (text, reasoning, a tool call): a break after this
        #: point is an interrupted reply (A7), before it a plain retryable failure
        got_any = False
        iterator = stream.__aiter__()
        try:
            while True:
                try:
                    async with asyncio.timeout_at(deadline):
                        chunk = await iterator.__anext__()
                except StopAsyncIteration:
                    break
                except TimeoutError:
                    if got_any:
                        raise StreamInterrupted(
                            "the model stream exceeded the request deadline "
                            f"({self.settings.timeout.total:.0f}s)",
                            partial_content=content.text(),
                            partial_reasoning=reasoning.text(),
                            partial_tool_calls=len(calls),
                        ) from None
                    raise ModelTimeout(
                        f"no answer from the model API within {self.settings.timeout.total:.0f}s"
                    ) from None
                except Exception as exc:
                    if not got_any:
                        raise
                    cause = exc.__cause__ or exc
                    raise StreamInterrupted(
                        f"the connection to the model API dropped mid-reply "
                        f"({type(cause).__name__})",
                        partial_content=content.text(),
                        partial_reasoning=reasoning.text(),
                        partial_tool_calls=len(calls),
                    ) from None
                if getattr(chunk, "usage", None) is not None:
                    usage = _usage(chunk.usage)
                for choice in chunk.choices or ():
                    if choice.index not in (0, None):
                        continue
                    delta = choice.delta
                    if delta is not None:
                        r = _extra(delta, "reasoning_content") or _extra(delta, "reasoning")
                        if r:
                            got_any = True
                            reasoning.append(r)
                            yield ReasoningChunk(r)
                        if delta.content:
                            got_any = True
                            r_part, c_part = think.feed(delta.content)
                            if r_part:
                                reasoning.append(r_part)
                                yield ReasoningChunk(r_part)
                            if c_part:
                                content.append(c_part)
                                yield TextChunk(c_part)
                        for pos, tc in enumerate(delta.tool_calls or ()):
                            got_any = True
                            idx = tc.index if tc.index is not None else pos
                            buf = calls.get(idx)
                            if buf is None:
                                buf = calls[idx] = _ToolCallBuffer()
                            if tc.id:
                                buf.id = tc.id
                            fn = tc.function
                            if fn is not None:
                                if fn.name:
                                    buf.name = fn.name if not buf.name else buf.name
                                if fn.arguments:
                                    buf.arguments.append(fn.arguments)
                    if choice.finish_reason:
                        finish_reason = choice.finish_reason
        finally:
            try:
                await stream.close()
            except Exception:  # noqa: BLE001 - closing a broken stream may fail again
                pass
        r_part, c_part = think.flush()
        if r_part:
            reasoning.append(r_part)
            yield ReasoningChunk(r_part)
        if c_part:
            content.append(c_part)
            yield TextChunk(c_part)
        tool_calls = [
            ToolCallRequest(
                id=buf.id or new_call_id(), name=buf.name, arguments="".join(buf.arguments)
            )
            for _, buf in sorted(calls.items())
        ]
        if finish_reason == "length" and tool_calls:
            raise StreamInterrupted(
                "the model hit its output length limit while writing tool-call arguments",
                partial_content=content.text(),
                partial_reasoning=reasoning.text(),
                partial_tool_calls=len(tool_calls),
                hint="retry, or ask for a smaller step",
            )
        if finish_reason is None:
            # The body ended without a finish_reason. The SDK ends its iterator at [DONE] and
            # at the end of the body alike, so the finish_reason (in the last choice chunk of
            # every OpenAI-compatible server) is what says the reply is complete; a missing
            # [DONE] after it is harmless. Without it the reply is cut (A7): never an answer,
            # its tool calls never run. Before anything arrived it is a plain retryable
            # failure (nothing was shown yet).
            if not got_any:
                raise ModelUnavailable("the model stream ended before any reply arrived")
            raise StreamInterrupted(
                "the model stream ended before the reply was complete (no finish_reason)",
                partial_content=content.text(),
                partial_reasoning=reasoning.text(),
                partial_tool_calls=len(tool_calls),
            )
        yield ModelTurn(
            content=content.text(),
            reasoning=reasoning.text(),
            tool_calls=tool_calls,
            finish_reason=finish_reason,
            usage=usage,
        )


class _Pieces:
    """Streamed text pieces, joined in blocks as they arrive: the text of a 5 MB reply that
    came in 80,000 pieces is then one copy of a few blocks, not a join of 80,000 pieces
    between the last token and the answer."""

    BLOCK = 1024

    def __init__(self) -> None:
        self._blocks: list[str] = []
        self._tail: list[str] = []

    def append(self, piece: str) -> None:
        self._tail.append(piece)
        if len(self._tail) >= self.BLOCK:
            self._blocks.append("".join(self._tail))
            self._tail.clear()

    def text(self) -> str:
        return "".join([*self._blocks, *self._tail])


def _usage(raw: Any) -> Usage | None:
    """Our Usage from the SDK's: DeepSeek's ``prompt_cache_hit_tokens`` /
    ``prompt_cache_miss_tokens`` (extra fields) or OpenAI's
    ``prompt_tokens_details.cached_tokens``; neither leaves the cache split unknown."""
    if raw is None:
        return None
    prompt = _count(getattr(raw, "prompt_tokens", None)) or 0
    hit = _count(_extra(raw, "prompt_cache_hit_tokens"))
    miss = _count(_extra(raw, "prompt_cache_miss_tokens"))
    if hit is None and miss is None:
        details = _extra(raw, "prompt_tokens_details")
        cached = details.get("cached_tokens") if isinstance(details, dict) else None
        if details is not None and not isinstance(details, dict):
            cached = getattr(details, "cached_tokens", None)
        hit = _count(cached)
        if hit is not None:
            miss = max(0, prompt - hit)
    return Usage(
        prompt_tokens=prompt,
        completion_tokens=_count(getattr(raw, "completion_tokens", None)) or 0,
        cache_hit_tokens=hit,
        cache_miss_tokens=miss,
    )


def _count(value: Any) -> int | None:
    """A token count from a usage field (None when absent or not a number)."""
    if value is None or isinstance(value, bool):
        return None
    try:
        return max(0, int(value))
    except (TypeError, ValueError):
        return None


def _error_message(exc: Any) -> str:
    body = getattr(exc, "body", None)
    if isinstance(body, dict):
        inner = body.get("error", body)
        if isinstance(inner, dict) and inner.get("message"):
            return str(inner["message"])
        if isinstance(body.get("message"), str):
            return body["message"]
    return str(getattr(exc, "message", "") or exc)
