"""OpenAI-compatible routes: chat clients and the openai package work unchanged.

The last user message is answered with retrieval; earlier turns go to the
model as (bounded) conversation history.  Answers carry a "Sources" footer
and, as an extra field, the numbered sources.
"""
from __future__ import annotations

import json
import time
import uuid
from typing import AsyncIterator

from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse

from .api import json_body, require_key, services, top_k_field
from .errors import ApiError

MODEL_ID = "rag"


def split_messages(body: dict) -> tuple[str, list[dict]]:
    """The question (last user message) and the turns before it."""
    messages = body.get("messages")
    if not isinstance(messages, list) or not messages:
        raise ApiError(422, "`messages` must be a non-empty list of {role, content} objects")
    turns = [{"role": m.get("role"), "content": text_of(m.get("content"))} for m in messages if isinstance(m, dict)]
    users = [i for i, m in enumerate(turns) if m["role"] == "user"]
    if not users or not (turns[users[-1]]["content"] or "").strip():
        raise ApiError(422, "`messages` needs a user message with text content")
    last = users[-1]
    return turns[last]["content"], [m for m in turns[:last] if m["content"] is not None]


def text_of(content) -> str | None:
    """A message's text: a string, or the text parts of a list of content parts."""
    if isinstance(content, str):
        return content
    if not isinstance(content, list):
        return None
    texts = [part["text"] for part in content
             if isinstance(part, dict) and part.get("type") == "text" and isinstance(part.get("text"), str)]
    return "\n".join(texts) if texts else None


def footer(sources: list[dict], cited: list[int]) -> str:
    """A "Sources" list naming the cited documents (all sources if none was cited)."""
    chosen = [s for s in sources if s["number"] in cited] or sources
    if not chosen:
        return ""
    lines = [f"[{s['number']}] {s['document_name']}" + (f", page {s['page']}" if s["page"] else "") for s in chosen]
    return "\n\nSources:\n" + "\n".join(lines)


def _envelope(kind: str, completion_id: str, model: str) -> dict:
    return {"id": completion_id, "object": kind, "created": int(time.time()), "model": model}


async def chat_completions(request: Request) -> Response:
    require_key(request, read=True)
    s = services(request)
    body = await json_body(request)
    question, history = split_messages(body)
    top_k = top_k_field(body, s.settings.TOP_K)
    model, completion_id = str(body.get("model") or MODEL_ID), f"chatcmpl-{uuid.uuid4().hex[:24]}"
    if body.get("stream"):
        chunks = _chunks(s.answerer.stream(question, top_k, history), completion_id, model)
        return StreamingResponse(chunks, media_type="text/event-stream",
                                 headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"})
    answer = await s.answerer.answer(question, top_k, history)
    message = {"role": "assistant", "content": answer.text + footer(answer.sources, answer.cited)}
    return JSONResponse(_envelope("chat.completion", completion_id, model) | {
        "choices": [{"index": 0, "message": message, "finish_reason": "stop"}],
        "usage": {"prompt_tokens": 0, "completion_tokens": 0, "total_tokens": 0},
        "sources": answer.sources, "mode": answer.mode})


def _chunk(completion_id: str, model: str, delta: dict, finish: str | None = None, **extra) -> str:
    chunk = _envelope("chat.completion.chunk", completion_id, model) | {
        "choices": [{"index": 0, "delta": delta, "finish_reason": finish}]} | extra
    return f"data: {json.dumps(chunk)}\n\n"


async def _chunks(events: AsyncIterator[tuple[str, dict]], completion_id: str, model: str) -> AsyncIterator[str]:
    yield _chunk(completion_id, model, {"role": "assistant", "content": ""})
    async for name, data in events:
        if name == "delta":
            yield _chunk(completion_id, model, {"content": data["text"]})
        elif name == "sources":
            yield _chunk(completion_id, model, {"content": footer(data["sources"], data["cited"])})
            sources, mode = data["sources"], data["mode"]
        elif name == "done":
            yield _chunk(completion_id, model, {}, "stop", sources=sources, mode=mode)
        elif name == "error":
            yield f"data: {json.dumps({'error': {'message': data['error'], 'code': data['status']}})}\n\n"
    yield "data: [DONE]\n\n"


async def models(request: Request) -> JSONResponse:
    require_key(request, read=True)
    return JSONResponse({"object": "list", "data": [
        {"id": MODEL_ID, "object": "model", "created": 0, "owned_by": "rag-answer-server"}]})
