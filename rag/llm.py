"""Chat completions from OpenAI-compatible providers: retries, failover, timeouts.

    client = LLMClient(providers_from_env(os.environ), http)   # http: the app's httpx.AsyncClient
    answer = await client.complete(messages)                   # Completion(text, provider, model)

    async with client.stream(messages) as stream:             # TextStream of text deltas
        async for delta in stream:
            ...                                                # stream.provider / .model are set

Failures retried on the same provider (with exponential backoff, or the server's
Retry-After, capped at ``max_backoff``): HTTP 408, 429 and 5xx, errors carrying such a
code in a 200 body, and connection failures. Anything else (400/401/402/403/404,
garbage, error objects, read timeouts) fails over to the next provider at once. A
stream fails over only until its first text delta; after that a failure is raised.
Every request ends within ``deadline`` seconds.
"""
from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any, TypeVar

import httpx

from rag.llm_errors import (Completion, LLMError, LLMStats, ProviderError, ProviderStats, ProviderTimeout,
                            ProviderUnavailable, parse_retry_after)
from rag.providers import Provider
from rag.sse import ErrorEvent, SSEError, describe_error, iter_deltas

__all__ = ["Completion", "LLMClient", "LLMError", "LLMStats", "ProviderError", "ProviderStats", "ProviderTimeout",
           "ProviderUnavailable", "TextStream", "parse_retry_after"]

T = TypeVar("T")
Messages = Sequence[Mapping[str, str]]
DEFAULT_TIMEOUT = httpx.Timeout(20.0, connect=5.0)
_HINTS = MappingProxyType({
    400: "the provider rejected the request; check the model name and parameters",
    401: "check the provider's API key",
    402: "the account is out of credits; add credits or use another provider",
    403: "the key may not use this model, or the input was flagged",
    404: "check the base URL and the model name",
})


class LLMClient:
    """Ask the providers in order, over one shared httpx.AsyncClient."""

    def __init__(self, providers: Sequence[Provider], http: httpx.AsyncClient, *, retries: int = 2,
                 backoff: float = 0.5, max_backoff: float = 8.0,
                 timeout: httpx.Timeout | float = DEFAULT_TIMEOUT, deadline: float = 40.0) -> None:
        if not providers:
            raise ValueError("LLMClient needs at least one provider; with none configured "
                             "(no LLM_BASE_URL, OPENROUTER_API_KEY or GROQ_API_KEY) use extractive mode")
        self.providers, self.http = tuple(providers), http
        self.retries, self.backoff, self.max_backoff = retries, backoff, max_backoff
        self.timeout = timeout if isinstance(timeout, httpx.Timeout) else httpx.Timeout(timeout)
        self.deadline = deadline
        self.stats = LLMStats({provider.name: ProviderStats() for provider in self.providers})

    async def complete(self, messages: Messages, *, max_tokens: int | None = None,
                       temperature: float | None = None) -> Completion:
        """The whole answer from the first provider that gives one."""
        body = _body(messages, max_tokens, temperature, stream=False)
        deadline = asyncio.get_running_loop().time() + self.deadline
        return await self._failover(lambda p: self._complete_once(p, body), deadline)

    def stream(self, messages: Messages, *, max_tokens: int | None = None,
               temperature: float | None = None) -> TextStream:
        """Text deltas as they arrive; see TextStream."""
        body = _body(messages, max_tokens, temperature, stream=True)
        return TextStream(self, body)

    async def _failover(self, attempt: Callable[[Provider], Awaitable[T]], deadline: float) -> T:
        failures: list[LLMError] = []
        for provider in self.providers:
            try:
                return await self._with_retries(provider, attempt, deadline)
            except LLMError as exc:
                failures.append(exc)
                if asyncio.get_running_loop().time() >= deadline:
                    break
        last = failures[-1]
        raise type(last)(last.provider, last.reason, earlier=failures[:-1]) from last

    async def _with_retries(self, provider: Provider, attempt: Callable[[Provider], Awaitable[T]],
                            deadline: float) -> T:
        tries = 0
        while True:
            self.stats.called(provider.name)
            try:
                return await self._within(deadline, provider, attempt(provider))
            except LLMError as exc:
                self.stats.failed(provider.name)
                delay = self._delay(exc, tries)
                left = deadline - asyncio.get_running_loop().time()
                if not isinstance(exc, ProviderUnavailable) or tries >= self.retries or delay >= left:
                    raise
            await asyncio.sleep(delay)
            tries += 1

    def _delay(self, exc: LLMError, tries: int) -> float:
        wanted = exc.retry_after if exc.retry_after is not None else self.backoff * 2**tries
        return min(self.max_backoff, wanted)

    async def _within(self, deadline: float, provider: Provider, work: Awaitable[T]) -> T:
        try:
            async with asyncio.timeout_at(deadline):
                return await work
        except TimeoutError:
            reason = f"no complete answer within the {self.deadline:g} s request deadline"
            raise ProviderTimeout(provider.name, reason) from None

    async def _complete_once(self, provider: Provider, body: dict[str, Any]) -> Completion:
        request = self._request(provider, body)
        try:
            response = await self.http.send(request)
        except httpx.TransportError as exc:
            raise _transport_error(provider, exc, self.timeout) from exc
        _check_status(provider, response)
        return _parse_completion(provider, response)

    async def _open_stream(self, provider: Provider, body: dict[str, Any]) -> _Opened:
        request = self._request(provider, body)
        try:
            response = await self.http.send(request, stream=True)
        except httpx.TransportError as exc:
            raise _transport_error(provider, exc, self.timeout) from exc
        try:
            if not response.is_success:
                await response.aread()
                _check_status(provider, response)
            deltas = _deltas(provider, response, self.timeout)
            first = await anext(deltas, None)
        except BaseException:
            await response.aclose()
            raise
        if first is None:
            await response.aclose()
            raise ProviderError(provider.name, "the stream ended without any text")
        return _Opened(provider, response, deltas, first)

    def _request(self, provider: Provider, body: dict[str, Any]) -> httpx.Request:
        body = {"model": provider.model, **body}
        return self.http.build_request("POST", provider.chat_url, json=body,
                                       headers=provider.request_headers(), timeout=self.timeout)


@dataclass
class _Opened:
    provider: Provider
    response: httpx.Response
    deltas: AsyncIterator[str]
    first: str


class TextStream:
    """Async iterator of text deltas. ``provider``/``model`` are set after the first one.

    Failover happens before the first delta only. Close it (``async with`` or
    ``aclose()``) when abandoning it early so that the connection is released.
    """

    def __init__(self, client: LLMClient, body: dict[str, Any]) -> None:
        self._client, self._body = client, body
        self._opened: _Opened | None = None
        self._deadline = 0.0
        self.provider: str | None = None
        self.model: str | None = None

    def __aiter__(self) -> TextStream:
        return self

    async def __anext__(self) -> str:
        if self._opened is None:
            return await self._open()
        provider = self._opened.provider
        try:
            return await self._client._within(self._deadline, provider, anext(self._opened.deltas))
        except BaseException as exc:
            if isinstance(exc, LLMError):
                self._client.stats.failed(provider.name)
            await self.aclose()
            raise

    async def _open(self) -> str:
        self._deadline = asyncio.get_running_loop().time() + self._client.deadline
        opened = await self._client._failover(lambda p: self._client._open_stream(p, self._body), self._deadline)
        self._opened, self.provider, self.model = opened, opened.provider.name, opened.provider.model
        return opened.first

    async def aclose(self) -> None:
        if self._opened is not None:
            await self._opened.deltas.aclose()  # type: ignore[attr-defined]
            await self._opened.response.aclose()

    async def __aenter__(self) -> TextStream:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()


def _body(messages: Messages, max_tokens: int | None, temperature: float | None, *, stream: bool) -> dict[str, Any]:
    body: dict[str, Any] = {"messages": [dict(m) for m in messages], "stream": stream}
    if max_tokens is not None:
        body["max_tokens"] = max_tokens
    if temperature is not None:
        body["temperature"] = temperature
    return body


def _transport_error(provider: Provider, exc: httpx.TransportError, timeout: httpx.Timeout) -> LLMError:
    where = f"{provider.chat_url}: {type(exc).__name__}"
    if isinstance(exc, httpx.ConnectTimeout):
        return ProviderUnavailable(provider.name, f"no connection within {timeout.connect} s to {where}")
    if isinstance(exc, httpx.TimeoutException):
        return ProviderTimeout(provider.name, f"no data for {timeout.read} s (read timeout) from {where}")
    return ProviderUnavailable(provider.name, f"connection failed to {where} {exc}".rstrip())


def _retryable(code: object) -> bool:
    return isinstance(code, int) and (code in (408, 429) or 500 <= code <= 599)


def _check_status(provider: Provider, response: httpx.Response) -> None:
    if response.is_success:
        return
    code = response.status_code
    hint = _HINTS.get(code, "")
    reason = f"HTTP {code} from {provider.chat_url}: {_error_text(response)}" + (f"; {hint}" if hint else "")
    if not _retryable(code):
        raise ProviderError(provider.name, reason)
    retry_after = parse_retry_after(response.headers.get("retry-after"))
    raise ProviderUnavailable(provider.name, reason, retry_after=retry_after)


def _error_text(response: httpx.Response) -> str:
    try:
        return describe_error(response.json().get("error") or response.text)
    except (ValueError, AttributeError):
        return repr(response.text[:200])


def _error_object(provider: Provider, error: Any, where: str) -> LLMError:
    code = error.get("code") if isinstance(error, dict) else None
    kind = ProviderUnavailable if _retryable(code) else ProviderError
    return kind(provider.name, f"error {where}: {describe_error(error)}")


def _parse_completion(provider: Provider, response: httpx.Response) -> Completion:
    try:
        data = response.json()
    except ValueError:
        raise ProviderError(provider.name, f"response is not JSON: {response.text[:120]!r}") from None
    if isinstance(data, dict) and data.get("error"):
        raise _error_object(provider, data["error"], "in a 200 response")
    try:
        text = data["choices"][0]["message"]["content"]
    except (KeyError, IndexError, TypeError):
        text = None
    if not isinstance(text, str) or not text.strip():
        raise ProviderError(provider.name, f"no answer text in choices[0].message.content: {response.text[:120]!r}")
    model = data.get("model")
    return Completion(text, provider.name, model if isinstance(model, str) and model else provider.model)


async def _deltas(provider: Provider, response: httpx.Response, timeout: httpx.Timeout) -> AsyncIterator[str]:
    """Non-empty content deltas of a streamed response, errors mapped to LLMError."""
    if "text/event-stream" not in response.headers.get("content-type", ""):
        await response.aread()
        yield _parse_completion(provider, response).text
        return
    try:
        async for delta in iter_deltas(response.aiter_text()):
            yield delta
    except ErrorEvent as exc:
        raise _error_object(provider, exc.error, "inside the stream") from exc
    except SSEError as exc:
        raise ProviderError(provider.name, f"bad stream: {exc}") from exc
    except httpx.TransportError as exc:
        raise _transport_error(provider, exc, timeout) from exc
