"""Incremental Server-Sent Events decoding for OpenAI-style chat-completion streams.

Framing follows the SSE spec: lines end in LF, CRLF or CR (possibly split across
network chunks), a blank line ends an event, ``data:`` lines of one event are joined
with newlines, lines starting with ``:`` are comments (OpenRouter sends
``: OPENROUTER PROCESSING`` as a keep-alive) and other fields are ignored.
Unlike the spec, an event still open when the stream ends is dispatched, so a
final ``data: [DONE]`` without its blank line is not lost.
"""
from __future__ import annotations

import json
import re
from collections.abc import AsyncIterable, AsyncIterator
from typing import Any

DONE = "[DONE]"
_LINE_BREAK = re.compile(r"\r\n|\r|\n")


class SSEError(ValueError):
    """The stream is not well-formed: undecodable data, or cut off early."""


class TruncatedStream(SSEError):
    """The stream ended before ``data: [DONE]``."""


class ErrorEvent(Exception):
    """The provider reported an error inside the stream: ``data: {"error": ...}``."""

    def __init__(self, error: Any) -> None:
        self.error = error
        super().__init__(f"provider error inside the stream: {describe_error(error)}")


def describe_error(error: Any) -> str:
    """A one-line description of an OpenAI-style error object (dict or string)."""
    if not isinstance(error, dict):
        return str(error)[:300]
    message = str(error.get("message") or error.get("type") or json.dumps(error))[:300]
    code = error.get("code")
    return f"{message} (code {code})" if code is not None else message


class SSEParser:
    """Feed decoded text as it arrives; get back the data of each complete event."""

    def __init__(self) -> None:
        self._buffer = ""
        self._data: list[str] = []

    def feed(self, text: str) -> list[str]:
        lines, self._buffer = _split_lines(self._buffer + text)
        return [data for data in map(self._line, lines) if data is not None]

    def close(self) -> list[str]:
        """End of stream: flush an unterminated last line and any open event."""
        rest, self._buffer = self._buffer.rstrip("\r"), ""
        events = self.feed(rest + "\n") if rest else []
        last = self._dispatch()
        return events + ([last] if last is not None else [])

    def _line(self, line: str) -> str | None:
        if not line:
            return self._dispatch()
        name, _, value = line.partition(":")
        if name == "data":
            self._data.append(value[1:] if value.startswith(" ") else value)
        return None

    def _dispatch(self) -> str | None:
        if not self._data:
            return None
        data, self._data = "\n".join(self._data), []
        return data


def _split_lines(buffer: str) -> tuple[list[str], str]:
    """Complete lines, and the unfinished rest; a trailing CR waits for a possible LF."""
    held = "\r" if buffer.endswith("\r") else ""
    lines = _LINE_BREAK.split(buffer[: len(buffer) - len(held)])
    rest = lines.pop()
    return lines, rest + held


def decode_chunk(data: str) -> dict[str, Any]:
    """One event's JSON object; raises ErrorEvent when it carries an error."""
    try:
        chunk = json.loads(data)
    except json.JSONDecodeError:
        raise SSEError(f"stream event is not JSON: {data[:120]!r}") from None
    if not isinstance(chunk, dict):
        raise SSEError(f"stream event is not a JSON object: {data[:120]!r}")
    if chunk.get("error"):
        raise ErrorEvent(chunk["error"])
    return chunk


async def iter_chunks(texts: AsyncIterable[str]) -> AsyncIterator[dict[str, Any]]:
    """Parsed JSON chunks up to ``[DONE]``; TruncatedStream if the stream stops first."""
    async for data in _events(texts):
        if data.strip() == DONE:
            return
        yield decode_chunk(data)
    raise TruncatedStream(f"stream ended before 'data: {DONE}' (connection closed early)")


async def iter_deltas(texts: AsyncIterable[str]) -> AsyncIterator[str]:
    """The non-empty ``choices[0].delta.content`` texts of a chat-completions stream.

    A stream that ends without ``[DONE]`` is accepted once a choice has finished.
    """
    finished = False
    try:
        async for chunk in iter_chunks(texts):
            choice = _first(chunk.get("choices"))
            finished = finished or bool(choice.get("finish_reason"))
            content = _first([choice.get("delta")]).get("content")
            if isinstance(content, str) and content:
                yield content
    except TruncatedStream:
        if not finished:
            raise


def _first(items: Any) -> dict[str, Any]:
    """``items[0]`` when that is a JSON object, else {}."""
    first = items[0] if isinstance(items, list) and items else {}
    return first if isinstance(first, dict) else {}


async def _events(texts: AsyncIterable[str]) -> AsyncIterator[str]:
    parser = SSEParser()
    async for text in texts:
        for data in parser.feed(text):
            yield data
    for data in parser.close():
        yield data
