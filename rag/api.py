"""The HTTP API's routes: each handler parses, delegates and shapes JSON."""
from __future__ import annotations

import hmac
import json
import time
from pathlib import Path
from typing import AsyncIterator

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import FileResponse, JSONResponse, PlainTextResponse, Response, StreamingResponse
from starlette.routing import Route

from .errors import ApiError
from .progress import rss_mb

STATIC = Path(__file__).resolve().parents[1] / "static"
MAX_TOP_K = 50
MAX_QUERY_CHARS = 10_000  # a question, not a document: longer ones cost seconds of scoring
MAX_JSON_BYTES = 1024 * 1024  # questions, queries and chat histories are far smaller


def services(request: Request):
    return request.app.state.services


def require_key(request: Request, *, read: bool = False) -> None:
    """With API_KEY set, protected routes (and reads, if PROTECT_READS) need the bearer key."""
    settings = services(request).settings
    if not settings.API_KEY or (read and not settings.PROTECT_READS):
        return
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not hmac.compare_digest(token.strip().encode(), settings.API_KEY.encode()):
        raise ApiError(401, "missing or wrong API key: send `Authorization: Bearer <API_KEY>`",
                       {"WWW-Authenticate": "Bearer"})


async def json_body(request: Request) -> dict:
    """The request's JSON object, read up to MAX_JSON_BYTES (larger bodies get 413 unread)."""
    too_large = ApiError(413, f"the request body is larger than {MAX_JSON_BYTES // 1024} KB")
    length = request.headers.get("content-length", "")
    if length.isdigit() and int(length) > MAX_JSON_BYTES:
        raise too_large
    raw = bytearray()
    async for chunk in request.stream():
        raw += chunk
        if len(raw) > MAX_JSON_BYTES:
            raise too_large
    try:
        body = json.loads(raw)
    except (ValueError, UnicodeDecodeError, RecursionError):
        raise ApiError(400, "the request body must be JSON, e.g. {\"query\": \"...\"}") from None
    if not isinstance(body, dict):
        raise ApiError(400, "the request body must be a JSON object")
    return body


def text_field(body: dict, name: str) -> str:
    value = body.get(name)
    if not isinstance(value, str) or not value.strip():
        raise ApiError(422, f"`{name}` must be a non-empty string")
    if len(value) > MAX_QUERY_CHARS:
        raise ApiError(422, f"`{name}` is {len(value)} characters; ask in at most {MAX_QUERY_CHARS}")
    return value


def int_param(request: Request, name: str, default: int, low: int, high: int) -> int:
    """A whole-number query parameter of at least ``low``, capped at ``high``."""
    raw = request.query_params.get(name)
    if raw is None:
        return default
    if raw.isdecimal() and len(raw) > 18:
        raise ApiError(422, f"`{name}` is far too large a number; it is capped at {high}")
    value = int(raw) if raw.isdecimal() else -1
    if value < low:
        raise ApiError(422, f"`{name}` must be a whole number of at least {low}, got {raw[:40]!r}")
    return min(value, high)


def top_k_field(body: dict, default: int) -> int:
    value = body.get("top_k", default)
    if not isinstance(value, int) or isinstance(value, bool) or not 1 <= value <= MAX_TOP_K:
        raise ApiError(422, f"`top_k` must be a whole number from 1 to {MAX_TOP_K}, got {value!r}")
    return value


async def home(request: Request) -> Response:
    return FileResponse(STATIC / "index.html", media_type="text/html")


async def health(request: Request) -> JSONResponse:
    s = services(request)
    stats = await run_in_threadpool(s.library.stats)
    return JSONResponse({"status": "ok", "version": request.app.state.version, "memory_mb": round(rss_mb(), 1),
                         **stats, "uptime_s": round(time.time() - s.started, 1), "mode": s.mode,
                         "read_only": s.library.read_only})


def guard_memory(request: Request) -> None:
    """Near MEMORY_LIMIT_MB, refuse new uploads (search and ask go on)."""
    limit = services(request).settings.MEMORY_LIMIT_MB
    if rss_mb() > limit:
        raise ApiError(503, f"the server is near its memory limit (MEMORY_LIMIT_MB={limit:g}); retry shortly",
                       {"Retry-After": "30"})


async def upload(request: Request) -> JSONResponse:
    require_key(request)
    s = services(request)
    if s.library.read_only:
        raise ApiError(403, "this deployment is read-only: documents are added at deploy time with "
                            "`python server.py ingest`, not uploaded")
    guard_memory(request)
    from .uploads import receive_files, remove_files  # python-multipart loads with the first upload

    files = await receive_files(request.headers, request.stream(), limit_mb=s.settings.MAX_UPLOAD_MB)
    try:
        added, refused = await run_in_threadpool(s.ingest_files, files)
    finally:
        remove_files(files)
    body = {"documents": [a.public() for a in added]}
    if refused:
        body["errors"] = [{"name": name, "error": str(exc), "status": exc.status} for name, exc in refused]
    return JSONResponse(body, status_code=200 if all(a.duplicate for a in added) else 201)


async def list_documents(request: Request) -> JSONResponse:
    require_key(request, read=True)
    limit, offset = int_param(request, "limit", 100, 1, 1000), int_param(request, "offset", 0, 0, 2**62)
    documents = await run_in_threadpool(services(request).library.store.documents, limit, offset)
    return JSONResponse({"documents": [d.public() for d in documents]})


async def get_document(request: Request) -> JSONResponse:
    require_key(request, read=True)
    document = await run_in_threadpool(services(request).library.store.document, request.path_params["id"])
    if document is None:
        raise ApiError(404, f"no document with id {request.path_params['id']!r}")
    return JSONResponse(document.public())


async def delete_document(request: Request) -> JSONResponse:
    require_key(request)
    uid = request.path_params["id"]
    if not await run_in_threadpool(services(request).delete_document, uid):
        raise ApiError(404, f"no document with id {uid!r}")
    return JSONResponse({"deleted": uid})


async def search(request: Request) -> JSONResponse:
    require_key(request, read=True)
    s = services(request)
    body = await json_body(request)
    query, top_k = text_field(body, "query"), top_k_field(body, 10)
    passages = await run_in_threadpool(s.library.search, query, top_k)
    return JSONResponse({"results": [p.public() for p in passages]})


def sse(events: AsyncIterator[tuple[str, dict]]) -> StreamingResponse:
    """Server-Sent Events, one JSON object per event."""
    async def frames() -> AsyncIterator[str]:
        async for name, data in events:
            yield f"event: {name}\ndata: {json.dumps(data)}\n\n"

    return StreamingResponse(frames(), media_type="text/event-stream",
                             headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"})


async def ask(request: Request) -> Response:
    require_key(request, read=True)
    s = services(request)
    body = await json_body(request)
    question, top_k = text_field(body, "question"), top_k_field(body, s.settings.TOP_K)
    if body.get("stream"):
        return sse(s.answerer.stream(question, top_k))
    answer = await s.answerer.answer(question, top_k)
    return JSONResponse(answer.public())


async def metrics(request: Request) -> PlainTextResponse:
    require_key(request)
    s = services(request)
    stats = await run_in_threadpool(s.library.stats)
    gauges = {"process_resident_memory_bytes": int(rss_mb() * 1024 * 1024), "index_documents": stats["documents"],
              "index_chunks": stats["chunks"], "index_vocabulary_terms": stats["vocabulary"]}
    text = s.metrics.render(gauges, s.answerer.stats())
    return PlainTextResponse(text, media_type="text/plain; version=0.0.4")


def routes() -> list[Route]:
    from .openai_api import chat_completions, models

    return [
        Route("/", home), Route("/health", health),
        Route("/documents", upload, methods=["POST"]), Route("/documents", list_documents, methods=["GET"]),
        Route("/documents/{id}", get_document, methods=["GET"]),
        Route("/documents/{id}", delete_document, methods=["DELETE"]),
        Route("/search", search, methods=["POST"]), Route("/ask", ask, methods=["POST"]),
        Route("/v1/chat/completions", chat_completions, methods=["POST"]), Route("/v1/models", models),
        Route("/metrics", metrics),
    ]
