"""The Starlette application: long-lived services on ``app.state``, routes from rag.api."""
from __future__ import annotations

import contextlib
import logging
import threading
import time

from starlette.applications import Starlette
from starlette.middleware import Middleware

from .errors import ApiError, install_error_handlers
from .metrics import Metrics, MetricsMiddleware
from .settings import Settings

log = logging.getLogger("rag")
VERSION = "0.1.0"


class Services:
    """What the app holds for its lifetime, opened once, on first need."""

    def __init__(self, settings: Settings, library=None, http_client=None) -> None:
        self.settings = settings
        self.started = time.time()
        self._library = library
        self._owns_library = library is None
        self._http = http_client
        self._lock = threading.Lock()
        self._answerer = None
        self._mode: str | None = None
        self.metrics = Metrics()

    @property
    def library(self):
        if self._library is None:
            with self._lock:
                if self._library is None:
                    self._library = _open_library(self.settings)
        return self._library

    def configured(self) -> bool:
        """Whether any LLM setting or a prompt directory is set (else there is nothing to check)."""
        names = ("LLM_BASE_URL", "LLM_API_KEY", "LLM_MODEL", "OPENROUTER_API_KEY", "GROQ_API_KEY", "PROMPT_DIR")
        return any(getattr(self.settings, name) for name in names)

    def check_config(self) -> None:
        """Stop the start on a bad LLM setting or prompt template, without loading the LLM client."""
        from .prompting import PROMPT_DIR, load_prompts
        from .providers import providers_from_settings

        self._mode = "llm" if providers_from_settings(self.settings) else "extractive"
        load_prompts(self.settings.PROMPT_DIR or PROMPT_DIR)

    @property
    def mode(self) -> str:
        """"llm" when a provider is configured, else "extractive"."""
        if self._mode is None:
            self.check_config()
        return self._mode

    @property
    def answerer(self):
        if self._answerer is None:
            from .answering import Answerer

            self._answerer = Answerer.from_settings(self.settings, self.library, self._http)
        return self._answerer

    def ingest_files(self, files) -> tuple[list, list]:
        """Ingest uploaded files one by one: (added, [(name, error)]); all refused raises the first error."""
        from ingest import IngestError

        added, refused = [], []
        for upload in files:
            try:
                added += self.library.add_file(upload.path, upload.name)
            except IngestError as exc:
                refused.append((upload.name, exc))
        if len(refused) > 1 and not added:  # every file refused: say why for each
            reasons = "; ".join(str(exc) for _, exc in refused)
            raise ApiError(refused[0][1].status, f"none of the {len(refused)} files was added: {reasons}")
        if refused and not added:
            raise refused[0][1]
        self._commit()
        return added, refused

    def delete_document(self, uid: str) -> bool:
        deleted = self.library.delete(uid)
        if deleted:
            self._commit()
        return deleted

    def _commit(self) -> None:
        """Fold changes into the index and save it, here in the worker thread, not on a request."""
        self.library.refresh()
        self.library.save()

    async def close(self) -> None:
        if self._answerer is not None:
            await self._answerer.aclose()
        if self._library is not None:
            self._library.save()
            if self._owns_library:  # fold the WAL into the database: a read-only copy sees everything
                self._library.store.close()
                self._library = None  # reopened if the app starts again


def _open_library(settings: Settings):
    from store import open_store

    from .library import Library

    return Library(open_store(settings.DATA_DIR, read_only=settings.READ_ONLY or None), settings)


def build_app(settings: Settings, *, library=None, http_client=None) -> Starlette:
    """The app for ``settings``; ``library`` and ``http_client`` may be injected (tests)."""
    from .api import routes

    services = Services(settings, library, http_client)

    @contextlib.asynccontextmanager
    async def lifespan(app):
        services.library  # open the store and load the index before the first request
        from .uploads import sweep_stale_uploads

        sweep_stale_uploads()  # what a killed server left in the temporary directory
        if services.configured():
            services.check_config()  # a bad LLM setting or prompt template stops the start, not every /health
        yield
        await services.close()

    middleware = [Middleware(MetricsMiddleware, metrics=services.metrics)]
    app = Starlette(routes=routes(), lifespan=lifespan, middleware=middleware)
    app.state.services, app.state.version = services, VERSION
    install_error_handlers(app)
    return app
