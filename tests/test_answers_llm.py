"""/ask with a real (fake) OpenAI-compatible provider behind it: citations, retries, failover, fallback.

The provider is tests/fake_provider.py, a uvicorn server on 127.0.0.1; the app runs
in-process (TestClient) and reaches it over real HTTP. A second provider is the
app's own OpenRouter configuration (OPENROUTER_API_KEY), its requests redirected
to another fake endpoint by the injected httpx client: nothing else can point
OpenRouter or Groq at a local URL (rag/providers.py fixes their base URLs).
"""
from __future__ import annotations

import json
import re
import time

import httpx
import pytest
from hypothesis import given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st
from starlette.testclient import TestClient

from rag.answering import StreamedCitations
from rag.citations import clean_citations
from rag.library import Library
from rag.providers import OPENROUTER_URL
from rag.settings import Settings
from server import create_app
from store import SQLiteStore
from tests.fake_provider import MODEL, Reply, fake_provider  # noqa: F401  (fixture)

TIMEOUT = 1.0  # LLM_TIMEOUT for these tests: every answer within it, retries and failover included
QUESTION = {"question": "Who are the crazy ones?", "top_k": 2}
BANANAS = "Bananas are long yellow fruit. Banana plants grow in the tropics and crazy monkeys love them."


@pytest.fixture(scope="module")
def library(pdf_dir, tmp_path_factory):
    settings = Settings(DATA_DIR="unused")
    lib = Library(SQLiteStore.memory(), settings)
    lib.add_file(pdf_dir / "crazyones.pdf", "crazyones.pdf")
    text = tmp_path_factory.mktemp("docs") / "bananas.txt"
    text.write_text(BANANAS)
    lib.add_file(text, "bananas.txt")
    lib.refresh()
    return lib


class Redirect(httpx.AsyncBaseTransport):
    """Sends requests for one base URL to another (a fake provider), over real HTTP."""

    def __init__(self, routes: dict[str, str]) -> None:
        self.routes, self.inner = routes, httpx.AsyncHTTPTransport()

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        url = str(request.url)
        for prefix, target in self.routes.items():
            if url.startswith(prefix):
                request.url = httpx.URL(target + url[len(prefix):])
                request.headers["host"] = request.url.netloc.decode()
        return await self.inner.handle_async_request(request)

    async def aclose(self) -> None:
        await self.inner.aclose()


@pytest.fixture
def app_for(library):
    """make(fake, **settings) -> a running TestClient for an app answering with ``fake``."""
    opened: list[tuple[TestClient, httpx.AsyncClient | None]] = []

    def make(fake, *, second=None, **overrides) -> TestClient:
        values = {"LLM_BASE_URL": fake.url, "LLM_MODEL": MODEL, "LLM_API_KEY": "sk-fake", "LLM_TIMEOUT": TIMEOUT}
        http = None
        if second is not None:  # OpenRouter, redirected to the fake endpoint ``second``
            values |= {"OPENROUTER_API_KEY": "or-fake", "OPENROUTER_APP_TITLE": "rag tests"}
            http = httpx.AsyncClient(transport=Redirect({OPENROUTER_URL: second.url}))
        settings = Settings(DATA_DIR="unused", **(values | overrides))
        client = TestClient(create_app(settings, library=library, http_client=http))
        client.__enter__()
        opened.append((client, http))
        return client

    yield make
    for client, http in opened:
        if http is not None:
            client.portal.call(http.aclose)
        client.__exit__(None, None, None)


def sse_events(text: str) -> list[tuple[str, dict]]:
    events = []
    for frame in filter(str.strip, text.split("\n\n")):
        fields = dict(line.split(": ", 1) for line in frame.splitlines())
        events.append((fields["event"], json.loads(fields["data"])))
    return events


def timed(call):
    started = time.monotonic()
    response = call()
    return response, time.monotonic() - started


def still_serving(client: TestClient) -> None:
    assert client.get("/health").json()["status"] == "ok"
    assert client.post("/search", json={"query": "crazy"}).json()["results"]


def assert_sent(sources: list[dict], prompt: str) -> None:
    """Every source returned reached the model, numbered as returned."""
    for source in sources:
        assert source["text"].strip() in prompt
        assert f"[{source['number']}] {source['document_name']}" in prompt


# --- answers ----------------------------------------------------------------------------------

def test_llm_answer_keeps_only_citations_of_sent_sources(fake_provider, app_for):
    fake_provider.script(Reply.answer("They are the misfits and rebels [1]. Monkeys love bananas [2]. "
                                      "See also [7], [0] and [1, 9]."))
    client = app_for(fake_provider)
    assert client.get("/health").json()["mode"] == "llm"
    response = client.post("/ask", json=QUESTION)
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["mode"] == "llm" and body["provider"] == "custom" and "fallback_reason" not in body
    assert [s["document_name"] for s in body["sources"]] == ["crazyones.pdf", "bananas.txt"]
    assert body["cited"] == [1, 2]
    assert body["answer"] == "They are the misfits and rebels [1]. Monkeys love bananas [2]. See also, and [1]."
    (request,) = fake_provider.chat_requests
    assert request.headers["authorization"] == "Bearer sk-fake"
    assert request.json["model"] == MODEL and request.json["stream"] is False
    assert request.json["messages"][0]["role"] == "system"
    assert request.json["messages"][-1]["role"] == "user" and "Who are the crazy ones?" in request.prompt
    assert_sent(body["sources"], request.prompt)
    assert "misfits" in request.prompt  # the retrieved passage itself


def test_llm_answer_streams_with_clean_citations(fake_provider, app_for):
    fake_provider.script(Reply.answer("They are the misfits [1][8] who change things [2]. Nothing else [3]."))
    client = app_for(fake_provider)
    response = client.post("/ask", json=QUESTION | {"stream": True})
    assert response.status_code == 200
    events = sse_events(response.text)
    names = [n for n, _ in events]
    assert names[-2:] == ["sources", "done"] and set(names[:-2]) == {"delta"} and len(names) > 4
    sources, done = events[-2][1], events[-1][1]
    assert sources["mode"] == done["mode"] == "llm"
    assert done["answer"] == "They are the misfits [1] who change things [2]. Nothing else."
    assert done["cited"] == sources["cited"] == [1, 2]
    streamed = "".join(d["text"] for n, d in events if n == "delta")
    assert streamed == done["answer"]  # no marker naming no source is ever shown
    (request,) = fake_provider.chat_requests
    assert request.json["stream"] is True
    assert_sent(sources["sources"], request.prompt)


def test_no_passage_means_no_source_and_no_citation(fake_provider, app_for):
    fake_provider.script(Reply.answer("Lima is the capital [1]."))
    body = app_for(fake_provider).post("/ask", json={"question": "What is the capital of Peru?"}).json()
    assert body == {"answer": "Lima is the capital.", "mode": "llm", "sources": [], "cited": [], "provider": "custom"}
    assert "no sources were found" in fake_provider.chat_requests[0].prompt


# --- retries ----------------------------------------------------------------------------------

def test_429_waits_for_retry_after_then_answers(fake_provider, app_for):
    fake_provider.script(Reply.status(429, retry_after="1"))
    client = app_for(fake_provider, LLM_TIMEOUT=5)
    response, elapsed = timed(lambda: client.post("/ask", json=QUESTION))
    assert response.json()["mode"] == "llm"
    assert len(fake_provider.chat_requests) == 2
    assert 0.95 <= elapsed < 4  # Retry-After: 1 honoured (the own backoff would be 0.5 s)


@pytest.mark.parametrize("reply", [Reply.status(500), Reply.status(503), Reply.status(408), Reply.error_body(502)])
def test_transient_failure_is_retried(fake_provider, app_for, reply):
    fake_provider.script(reply)
    body = app_for(fake_provider).post("/ask", json=QUESTION).json()
    assert body["mode"] == "llm" and len(fake_provider.chat_requests) == 2


@pytest.mark.parametrize("code", [401, 402, 403])
def test_refusals_are_not_retried(fake_provider, app_for, code):
    fake_provider.script(then=Reply.status(code))
    body = app_for(fake_provider).post("/ask", json=QUESTION).json()
    assert body["mode"] == "extractive" and f"HTTP {code}" in body["fallback_reason"]
    assert len(fake_provider.chat_requests) == 1


# --- failures: clear errors, or the extractive answer -------------------------------------------

FAILURES = [  # reply, the status without fallback, phrases the error must contain
    pytest.param(Reply.status(500, retry_after="0"), 503, ["'custom'", "HTTP 500", "fake failure 500"], id="500"),
    pytest.param(Reply.status(429, retry_after="0"), 503, ["'custom'", "HTTP 429"], id="429"),
    pytest.param(Reply.status(401), 502, ["'custom'", "HTTP 401", "API key"], id="401"),
    pytest.param(Reply.status(402), 502, ["HTTP 402", "credits"], id="402"),
    pytest.param(Reply.garbage(), 502, ["'custom'", "not JSON", "Bad gateway, oh no"], id="garbage"),
    pytest.param(Reply.error_body(400), 502, ["'custom'", "upstream model failed"], id="error-in-200"),
    pytest.param(Reply.stall(30), 504, ["'custom'", "deadline"], id="stall"),
]


@pytest.mark.parametrize("reply, status, phrases", FAILURES)
def test_failure_without_fallback_is_a_clear_gateway_error(fake_provider, app_for, reply, status, phrases):
    fake_provider.script(then=reply)
    client = app_for(fake_provider, ANSWER_FALLBACK=False)
    response, elapsed = timed(lambda: client.post("/ask", json=QUESTION))
    assert elapsed < TIMEOUT + 2
    assert response.status_code == status, response.text
    body = response.json()
    assert set(body) == {"error", "status"} and body["status"] == status
    for phrase in phrases:
        assert phrase in body["error"], body["error"]
    still_serving(client)


@pytest.mark.parametrize("reply, status, phrases", FAILURES)
def test_failure_with_fallback_is_the_extractive_answer_marked_so(fake_provider, app_for, reply, status, phrases):
    fake_provider.script(then=reply)
    client = app_for(fake_provider)
    response, elapsed = timed(lambda: client.post("/ask", json=QUESTION))
    assert elapsed < TIMEOUT + 2
    assert response.status_code == 200
    body = response.json()
    assert body["mode"] == "extractive" and "provider" not in body
    for phrase in phrases:
        assert phrase in body["fallback_reason"], body["fallback_reason"]
    assert body["sources"][0]["document_name"] == "crazyones.pdf" and body["cited"]
    assert "crazy" in body["answer"].lower()
    still_serving(client)


def test_llm_failures_are_counted_in_metrics(fake_provider, app_for):
    fake_provider.script(then=Reply.status(500))
    client = app_for(fake_provider, LLM_TIMEOUT=5)  # room for the backoff: 0.5 s, then 1 s
    client.post("/ask", json=QUESTION)
    text = client.get("/metrics").text
    assert 'llm_calls_total{provider="custom"} 3' in text.splitlines()  # one try and two retries
    assert 'llm_failures_total{provider="custom"} 3' in text.splitlines()
    fake_provider.script()
    client.post("/ask", json=QUESTION)
    text = client.get("/metrics").text
    assert 'llm_calls_total{provider="custom"} 4' in text.splitlines()
    assert 'llm_failures_total{provider="custom"} 3' in text.splitlines()


# --- streaming failures -----------------------------------------------------------------------

def test_error_inside_the_stream_after_text_is_an_error_event(fake_provider, app_for):
    fake_provider.script(Reply.error_body(500, before="The crazy ones are"))
    client = app_for(fake_provider)
    events = sse_events(client.post("/ask", json=QUESTION | {"stream": True}).text)
    assert [n for n, _ in events][-1] == "error" and "done" not in [n for n, _ in events]
    assert "".join(d["text"] for n, d in events if n == "delta") == "The crazy ones are"
    error = events[-1][1]
    assert error["status"] in (502, 503) and "'custom'" in error["error"] and "upstream model failed" in error["error"]
    still_serving(client)


def test_error_inside_the_stream_before_text_falls_back(fake_provider, app_for):
    fake_provider.script(then=Reply.error_body(400))
    events = sse_events(app_for(fake_provider).post("/ask", json=QUESTION | {"stream": True}).text)
    names = [n for n, _ in events]
    assert names[-2:] == ["sources", "done"] and "error" not in names
    assert events[-1][1]["mode"] == "extractive" and "upstream model failed" in events[-1][1]["fallback_reason"]
    assert events[-2][1]["fallback_reason"] == events[-1][1]["fallback_reason"]


def test_stream_error_without_fallback_is_an_error_event(fake_provider, app_for):
    fake_provider.script(then=Reply.status(401))
    events = sse_events(app_for(fake_provider, ANSWER_FALLBACK=False).post("/ask", json=QUESTION | {"stream": True}).text)
    assert [n for n, _ in events] == ["error"]
    assert events[0][1]["status"] == 502 and "HTTP 401" in events[0][1]["error"]


def test_stream_stalling_after_text_ends_with_a_timeout_event(fake_provider, app_for):
    fake_provider.script(Reply.stall(30, before="They are"))
    client = app_for(fake_provider)
    response, elapsed = timed(lambda: client.post("/ask", json=QUESTION | {"stream": True}))
    assert elapsed < TIMEOUT + 2
    events = sse_events(response.text)
    assert events[-1][0] == "error" and events[-1][1]["status"] == 504 and "deadline" in events[-1][1]["error"]
    assert "".join(d["text"] for n, d in events if n == "delta") == "They are"
    still_serving(client)


def test_stream_stalling_before_text_falls_back_in_time(fake_provider, app_for):
    fake_provider.script(then=Reply.stall(30))
    client = app_for(fake_provider)
    response, elapsed = timed(lambda: client.post("/ask", json=QUESTION | {"stream": True}))
    assert elapsed < TIMEOUT + 2
    done = sse_events(response.text)[-1]
    assert done[0] == "done" and done[1]["mode"] == "extractive" and "deadline" in done[1]["fallback_reason"]


def test_stream_retries_before_the_first_text(fake_provider, app_for):
    fake_provider.script(Reply.status(503), Reply.error_body(502), then=Reply.answer("Misfits [1]."))
    events = sse_events(app_for(fake_provider, LLM_TIMEOUT=5).post("/ask", json=QUESTION | {"stream": True}).text)
    assert events[-1] == ("done", {"mode": "llm", "answer": "Misfits [1].", "cited": [1]})
    assert len(fake_provider.chat_requests) == 3


# --- failover to a second provider ---------------------------------------------------------------

def test_failover_to_the_second_provider(fake_provider, app_for):
    second = fake_provider.endpoint("b")
    fake_provider.script(then=Reply.status(500, retry_after="0"))
    second.script(Reply.answer("From the second provider [1]."))
    body = app_for(fake_provider, second=second, LLM_TIMEOUT=5).post("/ask", json=QUESTION).json()
    assert body["mode"] == "llm" and body["provider"] == "openrouter"
    assert body["answer"] == "From the second provider [1]."
    assert len(fake_provider.chat_requests) == 3  # retried on the first, then failed over
    (request,) = second.chat_requests
    assert request.headers["authorization"] == "Bearer or-fake"
    assert request.headers["x-title"] == "rag tests" and request.headers["http-referer"]
    assert request.json["model"] == MODEL  # LLM_MODEL is the default model for OpenRouter too
    assert_sent(body["sources"], request.prompt)


def test_refused_key_fails_over_at_once(fake_provider, app_for):
    second = fake_provider.endpoint("b")
    fake_provider.script(then=Reply.status(401))
    client = app_for(fake_provider, second=second)
    response, elapsed = timed(lambda: client.post("/ask", json=QUESTION | {"stream": True}))
    events = sse_events(response.text)
    assert events[-1][0] == "done" and events[-1][1]["mode"] == "llm"
    assert "".join(d["text"] for n, d in events if n == "delta").startswith("Echo: ")
    assert len(fake_provider.chat_requests) == 1 and len(second.chat_requests) == 1
    assert elapsed < 1.5  # no backoff for a refused key
    text = client.get("/metrics").text.splitlines()
    assert 'llm_failures_total{provider="custom"} 1' in text and 'llm_calls_total{provider="openrouter"} 1' in text


def test_both_providers_failing_names_both(fake_provider, app_for):
    second = fake_provider.endpoint("b")
    fake_provider.script(then=Reply.status(401))
    second.script(then=Reply.status(503, retry_after="0"))
    client = app_for(fake_provider, second=second, ANSWER_FALLBACK=False)
    response, elapsed = timed(lambda: client.post("/ask", json=QUESTION))
    assert elapsed < TIMEOUT + 2
    assert response.status_code == 503
    error = response.json()["error"]
    assert re.search(r"'openrouter' failed: HTTP 503.*before that, custom: HTTP 401", error), error
    still_serving(client)


def test_both_providers_failing_falls_back(fake_provider, app_for):
    second = fake_provider.endpoint("b")
    fake_provider.script(then=Reply.garbage())
    second.script(then=Reply.stall(30))
    client = app_for(fake_provider, second=second)
    response, elapsed = timed(lambda: client.post("/ask", json=QUESTION))
    assert elapsed < TIMEOUT + 2
    body = response.json()
    assert body["mode"] == "extractive"
    assert "'openrouter'" in body["fallback_reason"] and "custom: response is not JSON" in body["fallback_reason"]


# --- the streamed citation filter ----------------------------------------------------------------

PIECES = st.sampled_from(["[", "]", "1", "2", "7", "12", ",", ";", "-", "\u2013", " ", "\t", "\n", "a", "b.", "[1]",
                          " [3]", "[2, 9]", "[1-3]", "[ 4 ]", "[x]", "[]"])


@hypothesis_settings(max_examples=300, deadline=None)
@given(st.lists(PIECES, max_size=40), st.lists(st.integers(0, 200), max_size=8), st.integers(0, 4))
def test_streamed_deltas_add_up_to_the_cleaned_answer(pieces, cuts, n_sources):
    text = "".join(pieces)
    bounds = sorted({min(c, len(text)) for c in cuts} | {0, len(text)})
    deltas = [text[a:b] for a, b in zip(bounds, bounds[1:])]
    filtered = StreamedCitations(n_sources)
    shown = "".join(filtered.feed(d) for d in deltas) + filtered.flush()
    assert shown == clean_citations(text, n_sources)[0]
