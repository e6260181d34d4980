"""Answers with citations: retrieve passages, then ask the LLM or quote the documents.

The model sees numbered sources; markers in its answer that name no source
are dropped; every source returned is one that was sent.  With no provider
configured, or (``ANSWER_FALLBACK``) when every provider fails, the answer is
extractive: the passages' most relevant sentences, each with its [n].
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import AsyncIterator, Sequence

from starlette.concurrency import run_in_threadpool

from .citations import clean_citations, number_sources
from .errors import ApiError
from .extractive import extractive_answer
from .library import Library, Passage
from .llm import LLMClient, LLMError
from .prompting import PROMPT_DIR, build_messages, load_prompts
from .providers import providers_from_settings
from .settings import Settings

NOTHING_FOUND = "No passage in the documents matches this question."


@dataclass
class Answer:
    text: str
    mode: str  # "llm" or "extractive"
    sources: list[dict]
    cited: list[int] = field(default_factory=list)
    provider: str | None = None
    fallback_reason: str | None = None

    def public(self) -> dict:
        body = {"answer": self.text, "mode": self.mode, "sources": self.sources, "cited": self.cited}
        if self.provider:
            body["provider"] = self.provider
        if self.fallback_reason:
            body["fallback_reason"] = self.fallback_reason
        return body


def numbered(passages: Sequence[Passage]) -> list[dict]:
    """Sources as returned: the passages, numbered as the answer cites them."""
    return [{"number": n} | p.public() for n, p in enumerate(passages, start=1)]


def extractive(question: str, passages: Sequence[Passage], reason: str | None = None) -> Answer:
    if not passages:
        return Answer(NOTHING_FOUND, "extractive", [], fallback_reason=reason)
    found = extractive_answer(question, [p.text for p in passages])
    return Answer(found.text or NOTHING_FOUND, "extractive", numbered(passages), found.cited, fallback_reason=reason)


class StreamedCitations:
    """Streamed text with markers naming no source dropped, as clean_citations drops them.

    A possible marker (and the spaces before it) is held back until it closes, so
    the deltas shown add up to the cleaned text.
    """

    _OPEN = re.compile(r"[ \t]*(?:\[[\d\s,;\-\u2013]{0,80})?$")

    def __init__(self, n_sources: int) -> None:
        self.n_sources, self.pending = n_sources, ""

    def feed(self, delta: str) -> str:
        text = self.pending + delta
        cut = self._OPEN.search(text).start()
        self.pending = text[cut:]
        return clean_citations(text[:cut], self.n_sources)[0]

    def flush(self) -> str:
        text, self.pending = self.pending, ""
        return clean_citations(text, self.n_sources)[0]


class Answerer:
    """Retrieval plus generation; holds the LLM client (if any) and the prompts."""

    def __init__(self, library: Library, settings: Settings, client: LLMClient | None, prompts) -> None:
        self.library, self.settings, self.client, self.prompts = library, settings, client, prompts
        self._http = None

    @classmethod
    def from_settings(cls, settings: Settings, library: Library, http=None) -> "Answerer":
        providers = providers_from_settings(settings)
        prompts = load_prompts(settings.PROMPT_DIR or PROMPT_DIR)
        if not providers:
            return cls(library, settings, None, prompts)
        import httpx

        owned = http is None
        http = http or httpx.AsyncClient()
        answerer = cls(library, settings, LLMClient(providers, http, deadline=settings.LLM_TIMEOUT), prompts)
        answerer._http = http if owned else None
        return answerer

    @property
    def mode(self) -> str:
        return "llm" if self.client else "extractive"

    def stats(self) -> dict:
        return self.client.stats.as_dict() if self.client else {"by_provider": {}}

    async def retrieve(self, question: str, top_k: int) -> list[Passage]:
        return await run_in_threadpool(self.library.search, question, top_k)

    async def answer(self, question: str, top_k: int, history: Sequence[dict] = ()) -> Answer:
        passages = await self.retrieve(question, top_k)
        if self.client is None:
            return await run_in_threadpool(extractive, question, passages)
        sources = number_sources([{"text": p.text, "title": p.document_name, "page": p.page} for p in passages])
        try:
            completion = await self.client.complete(build_messages(self.prompts, question, sources, history))
        except LLMError as exc:
            return await self._fallback(question, passages, exc)
        text, cited = clean_citations(completion.text, len(sources))
        return Answer(text.strip(), "llm", numbered(passages), cited, provider=completion.provider)

    async def _fallback(self, question: str, passages: list[Passage], exc: LLMError) -> Answer:
        if not self.settings.ANSWER_FALLBACK:
            raise ApiError(exc.status, str(exc))
        return await run_in_threadpool(extractive, question, passages, str(exc))

    async def stream(self, question: str, top_k: int, history: Sequence[dict] = ()) -> AsyncIterator[tuple[str, dict]]:
        """Events: ("delta", {"text"})..., ("sources", {...}), ("done", {...}) or ("error", {...})."""
        passages = await self.retrieve(question, top_k)
        if self.client is None:
            async for event in _replay(await run_in_threadpool(extractive, question, passages)):
                yield event
            return
        sources = number_sources([{"text": p.text, "title": p.document_name, "page": p.page} for p in passages])
        messages = build_messages(self.prompts, question, sources, history)
        async for event in self._stream_llm(question, passages, messages, len(sources)):
            yield event

    async def _stream_llm(self, question, passages, messages, n_sources) -> AsyncIterator[tuple[str, dict]]:
        parts: list[str] = []
        shown = StreamedCitations(n_sources)
        try:
            async with self.client.stream(messages) as stream:
                async for delta in stream:
                    parts.append(delta)
                    if text := shown.feed(delta):
                        yield "delta", {"text": text}
                provider = stream.provider
        except LLMError as exc:
            if parts or not self.settings.ANSWER_FALLBACK:
                if text := shown.flush():
                    yield "delta", {"text": text}
                yield "error", {"error": str(exc), "status": exc.status}
                return
            async for event in _replay(await run_in_threadpool(extractive, question, passages, str(exc))):
                yield event
            return
        if text := shown.flush():
            yield "delta", {"text": text}
        text, cited = clean_citations("".join(parts), n_sources)
        async for event in _finish(Answer(text.strip(), "llm", numbered(passages), cited, provider=provider)):
            yield event

    async def aclose(self) -> None:
        if self._http is not None:
            await self._http.aclose()


async def _replay(answer: Answer) -> AsyncIterator[tuple[str, dict]]:
    """An answer already complete, sent as the stream of a live one (sentence by sentence)."""
    for piece in _pieces(answer.text):
        yield "delta", {"text": piece}
    async for event in _finish(answer):
        yield event


async def _finish(answer: Answer) -> AsyncIterator[tuple[str, dict]]:
    extra = {"fallback_reason": answer.fallback_reason} if answer.fallback_reason else {}
    yield "sources", {"mode": answer.mode, "sources": answer.sources, "cited": answer.cited} | extra
    yield "done", {"mode": answer.mode, "answer": answer.text, "cited": answer.cited} | extra


def _pieces(text: str) -> list[str]:
    words = text.split(" ")
    return [" ".join(words[i : i + 8]) + (" " if i + 8 < len(words) else "") for i in range(0, len(words), 8)]
