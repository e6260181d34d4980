"""LLMClient against a real local fake provider: answers, streams, retries, failover, timeouts."""
from __future__ import annotations

import socket
import time

import httpx
import pytest

from rag.citations import number_sources
from rag.llm import LLMClient, LLMError, ProviderError, ProviderTimeout, ProviderUnavailable
from rag.prompting import build_messages, load_prompts
from rag.providers import Provider
from tests.fake_provider import MODEL, FakeEndpoint, Reply, fake_provider  # noqa: F401  (fixture)

pytestmark = pytest.mark.anyio
QUESTION = [{"role": "user", "content": "What colour is the sky?"}]


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture
async def http():
    async with httpx.AsyncClient() as client:
        yield client


def provider(endpoint: FakeEndpoint) -> Provider:
    return Provider(endpoint.name, endpoint.url, "test-key", MODEL, {"X-Title": "tests"})


def make_client(http: httpx.AsyncClient, *endpoints: FakeEndpoint, **options) -> LLMClient:
    settings = {"retries": 2, "backoff": 0.01, "max_backoff": 2.0, "timeout": httpx.Timeout(2.0), "deadline": 10.0}
    return LLMClient([provider(e) for e in endpoints], http, **{**settings, **options})


async def collect(stream) -> list[str]:
    return [delta async for delta in stream]


async def test_complete_returns_the_answer_and_who_gave_it(fake_provider, http):
    answer = await make_client(http, fake_provider).complete(QUESTION, max_tokens=50, temperature=0.1)
    assert (answer.text, answer.provider, answer.model) == ("Echo: What colour is the sky?", "a", MODEL)
    sent = fake_provider.chat_requests[-1]
    assert sent.json == {"model": MODEL, "messages": QUESTION, "stream": False, "max_tokens": 50, "temperature": 0.1}
    assert sent.headers["authorization"] == "Bearer test-key"
    assert sent.headers["x-title"] == "tests"


async def test_the_retrieved_passage_and_instructions_reach_the_provider(fake_provider, http):
    sources = number_sources([{"text": "The sky is blue because of Rayleigh scattering.", "title": "sky.pdf"}])
    messages = build_messages(load_prompts(), "Why is the sky blue?", sources)
    await make_client(http, fake_provider).complete(messages)
    prompt = fake_provider.chat_requests[-1].prompt
    assert "[1] sky.pdf\nThe sky is blue because of Rayleigh scattering." in prompt
    assert "Why is the sky blue?" in prompt
    assert "only the numbered sources" in prompt


async def test_stream_yields_deltas_and_skips_comment_lines(fake_provider, http):
    stream = make_client(http, fake_provider).stream(QUESTION)
    deltas = await collect(stream)
    assert len(deltas) > 1
    assert "".join(deltas) == "Echo: What colour is the sky?"
    assert (stream.provider, stream.model) == ("a", MODEL)
    assert fake_provider.chat_requests[-1].json["stream"] is True


async def test_stream_can_be_abandoned_early(fake_provider, http):
    async with make_client(http, fake_provider).stream(QUESTION) as stream:
        assert await anext(stream) == "Echo: "
    assert (await make_client(http, fake_provider).complete(QUESTION)).provider == "a"


async def test_429_waits_for_retry_after_then_succeeds(fake_provider, http):
    fake_provider.script(Reply.status(429, retry_after="1"))
    client = make_client(http, fake_provider)
    started = time.monotonic()
    answer = await client.complete(QUESTION)
    assert time.monotonic() - started >= 0.9, "Retry-After: 1 was not honoured"
    assert answer.provider == "a"
    assert len(fake_provider.chat_requests) == 2
    assert client.stats.as_dict() == {"calls": 2, "failures": 1, "by_provider": {"a": {"calls": 2, "failures": 1}}}


async def test_retry_after_is_capped_by_max_backoff(fake_provider, http):
    fake_provider.script(Reply.status(503, retry_after="120"))
    started = time.monotonic()
    await make_client(http, fake_provider, max_backoff=0.2).complete(QUESTION)
    assert time.monotonic() - started < 2


async def test_500_is_retried_until_success(fake_provider, http):
    fake_provider.fail_times(2, status=500)
    answer = await make_client(http, fake_provider).complete(QUESTION)
    assert answer.text.startswith("Echo:")
    assert len(fake_provider.chat_requests) == 3


async def test_persistent_500_gives_503_after_the_retries(fake_provider, http):
    fake_provider.script(then=Reply.status(500))
    with pytest.raises(ProviderUnavailable) as caught:
        await make_client(http, fake_provider, retries=2).complete(QUESTION)
    assert caught.value.status == 503
    assert caught.value.provider == "a"
    assert "HTTP 500" in caught.value.reason
    assert "fake failure 500" in str(caught.value)
    assert len(fake_provider.chat_requests) == 3


@pytest.mark.parametrize("code", [400, 401, 402, 403, 404])
async def test_client_errors_are_not_retried_and_fail_over(fake_provider, http, code):
    second = fake_provider.endpoint("b")
    fake_provider.script(then=Reply.status(code))
    client = make_client(http, fake_provider, second)
    answer = await client.complete(QUESTION)
    assert answer.provider == "b"
    assert len(fake_provider.chat_requests) == 1
    assert len(second.chat_requests) == 1
    assert client.stats.by_provider["a"].failures == 1
    assert client.stats.failures == 1


async def test_401_alone_is_a_502_that_says_to_check_the_key(fake_provider, http):
    fake_provider.script(then=Reply.status(401))
    with pytest.raises(ProviderError) as caught:
        await make_client(http, fake_provider).complete(QUESTION)
    assert caught.value.status == 502
    assert "HTTP 401" in str(caught.value)
    assert "API key" in str(caught.value)


async def test_non_json_body_is_a_502(fake_provider, http):
    fake_provider.script(then=Reply.garbage())
    with pytest.raises(ProviderError) as caught:
        await make_client(http, fake_provider).complete(QUESTION)
    assert caught.value.status == 502
    assert "not JSON" in caught.value.reason
    assert "<html>" in caught.value.reason
    assert len(fake_provider.chat_requests) == 1


async def test_error_object_in_a_200_body_is_noticed(fake_provider, http):
    fake_provider.script(then=Reply.error_body(code=400))
    with pytest.raises(ProviderError) as caught:
        await make_client(http, fake_provider).complete(QUESTION)
    assert caught.value.status == 502
    assert "upstream model failed" in caught.value.reason


async def test_retryable_error_object_in_a_200_body_is_retried(fake_provider, http):
    fake_provider.script(Reply.error_body(code=502))
    answer = await make_client(http, fake_provider).complete(QUESTION)
    assert answer.provider == "a"
    assert len(fake_provider.chat_requests) == 2


async def test_error_in_stream_before_any_text_fails_over(fake_provider, http):
    second = fake_provider.endpoint("b")
    fake_provider.script(then=Reply.error_body(code=400))
    stream = make_client(http, fake_provider, second).stream(QUESTION)
    assert "".join(await collect(stream)) == "Echo: What colour is the sky?"
    assert stream.provider == "b"


async def test_error_in_stream_after_text_is_raised(fake_provider, http):
    second = fake_provider.endpoint("b")
    fake_provider.script(then=Reply.error_body(code=502, before="partial answer"))
    stream = make_client(http, fake_provider, second).stream(QUESTION)
    received = [await anext(stream), await anext(stream)]
    with pytest.raises(LLMError) as caught:
        await anext(stream)
    assert "".join(received) == "partial answer"
    assert "upstream model failed" in str(caught.value)
    assert caught.value.provider == "a"
    assert second.chat_requests == []


async def test_stall_in_mid_stream_ends_with_504_within_the_read_timeout(fake_provider, http):
    fake_provider.script(then=Reply.stall(seconds=5, before="so far"))
    stream = make_client(http, fake_provider, timeout=httpx.Timeout(0.3)).stream(QUESTION)
    assert await anext(stream) == "so "
    assert await anext(stream) == "far"
    started = time.monotonic()
    with pytest.raises(ProviderTimeout) as caught:
        await anext(stream)
    assert time.monotonic() - started < 1.0
    assert caught.value.status == 504
    assert "read timeout" in caught.value.reason


async def test_stall_before_the_answer_ends_with_504(fake_provider, http):
    fake_provider.script(then=Reply.stall(seconds=5))
    started = time.monotonic()
    with pytest.raises(ProviderTimeout) as caught:
        await make_client(http, fake_provider, timeout=httpx.Timeout(0.3)).complete(QUESTION)
    assert time.monotonic() - started < 1.0
    assert caught.value.status == 504
    assert len(fake_provider.chat_requests) == 1, "a read timeout is not retried"


@pytest.mark.parametrize("streaming", [False, True])
async def test_the_overall_deadline_bounds_a_request(fake_provider, http, streaming):
    second = fake_provider.endpoint("b")
    fake_provider.script(then=Reply.stall(seconds=5, before="slow"))
    client = make_client(http, fake_provider, second, timeout=httpx.Timeout(4.0), deadline=0.5)
    started = time.monotonic()
    with pytest.raises(ProviderTimeout) as caught:
        await (collect(client.stream(QUESTION)) if streaming else client.complete(QUESTION))
    assert time.monotonic() - started < 1.5
    assert "deadline" in caught.value.reason
    assert second.chat_requests == []


async def test_when_all_providers_fail_the_error_names_each(fake_provider, http):
    second = fake_provider.endpoint("b")
    fake_provider.script(then=Reply.status(401))
    second.script(then=Reply.status(503))
    with pytest.raises(LLMError) as caught:
        await make_client(http, fake_provider, second, retries=1).complete(QUESTION)
    error = caught.value
    assert (type(error), error.status, error.provider) == (ProviderUnavailable, 503, "b")
    assert "HTTP 503" in error.reason
    assert [e.provider for e in error.earlier] == ["a"]
    assert "'b' failed: HTTP 503" in str(error)
    assert "a: HTTP 401" in str(error)


async def test_connection_refused_is_retried_then_fails_over(fake_provider, http):
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    dead = Provider("dead", f"http://127.0.0.1:{port}/v1", "k", MODEL)
    client = LLMClient([dead, provider(fake_provider)], http, retries=2, backoff=0.01, timeout=2.0)
    answer = await client.complete(QUESTION)
    assert answer.provider == "a"
    assert vars(client.stats.by_provider["dead"]) == {"calls": 3, "failures": 3}


async def test_an_empty_provider_list_is_refused(http):
    with pytest.raises(ValueError, match="extractive"):
        LLMClient([], http)


async def test_the_fake_provider_lists_its_model(fake_provider, http):
    response = await http.get(f"{fake_provider.url}/models")
    assert response.json()["data"][0]["id"] == MODEL
    assert fake_provider.requests[-1].path == "/a/v1/models"


async def test_the_fake_speaks_the_protocol_the_openai_sdk_expects(fake_provider, http):
    openai = pytest.importorskip("openai")
    sdk = openai.AsyncOpenAI(base_url=fake_provider.url, api_key="k", http_client=http, max_retries=0)
    answer = await sdk.chat.completions.create(model=MODEL, messages=QUESTION)
    assert answer.choices[0].message.content == "Echo: What colour is the sky?"
    stream = await sdk.chat.completions.create(model=MODEL, messages=QUESTION, stream=True)
    assert "".join([c.choices[0].delta.content or "" async for c in stream]) == answer.choices[0].message.content
