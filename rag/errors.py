"""Errors as the API shows them: one JSON shape, {"error": ..., "status": ...}, made in one place."""
from __future__ import annotations

import logging

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse

log = logging.getLogger("rag")


class ApiError(Exception):
    """A request that cannot be served, with the status and the reason to tell the client."""

    def __init__(self, status: int, message: str, headers: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.status, self.message, self.headers = status, message, headers or {}


def error_response(status: int, message: str, headers: dict[str, str] | None = None) -> JSONResponse:
    """The one error shape every route answers with."""
    return JSONResponse({"error": message, "status": status}, status_code=status, headers=headers)


async def _api_error(request: Request, exc: ApiError) -> JSONResponse:
    return error_response(exc.status, exc.message, exc.headers)


async def _http_error(request: Request, exc: HTTPException) -> JSONResponse:
    return error_response(exc.status_code, str(exc.detail), dict(exc.headers or {}))


async def _status_error(request: Request, exc: Exception) -> JSONResponse:
    """Errors from ingest/, store/ and the LLM layer carry their own HTTP status."""
    status = getattr(exc, "status", 500)
    if status >= 500 and not hasattr(exc, "provider"):
        log.exception("request failed: %s", exc)
    return error_response(status, str(exc))


async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
    log.exception("unexpected error on %s %s", request.method, request.url.path)
    return error_response(500, f"internal error ({type(exc).__name__}); the server logged the details")


def install_error_handlers(app) -> None:
    from ingest.errors import IngestError
    from store.errors import StoreError

    from .llm_errors import LLMError  # not .llm: httpx loads only when an LLM is called

    app.add_exception_handler(ApiError, _api_error)
    app.add_exception_handler(HTTPException, _http_error)
    for kind in (IngestError, StoreError, LLMError):
        app.add_exception_handler(kind, _status_error)
    app.add_exception_handler(Exception, _unexpected)
