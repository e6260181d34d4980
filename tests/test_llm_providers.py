"""Provider configuration from the environment, and Retry-After parsing."""
from __future__ import annotations

import email.utils

import pytest

from rag.llm import parse_retry_after
from rag.providers import (
    GROQ_MODEL,
    GROQ_URL,
    OPENROUTER_MODEL,
    OPENROUTER_URL,
    ConfigError,
    Provider,
    providers_from_env,
)

ALL = {
    "LLM_BASE_URL": "http://127.0.0.1:8080/v1/", "LLM_API_KEY": "sk-local", "LLM_MODEL": "local-model",
    "OPENROUTER_API_KEY": "sk-or-secret", "GROQ_API_KEY": "gsk-secret",
}


def test_no_keys_means_no_providers():
    assert providers_from_env({}) == []
    assert providers_from_env({"OPENROUTER_API_KEY": "  ", "PATH": "/bin"}) == []


def test_explicit_endpoint_then_openrouter_then_groq():
    custom, openrouter, groq = providers_from_env(ALL)
    assert (custom.name, custom.base_url, custom.model) == ("custom", "http://127.0.0.1:8080/v1", "local-model")
    assert custom.chat_url == "http://127.0.0.1:8080/v1/chat/completions"
    assert (openrouter.name, openrouter.base_url, openrouter.api_key) == ("openrouter", OPENROUTER_URL, "sk-or-secret")
    assert (groq.name, groq.base_url, groq.api_key) == ("groq", GROQ_URL, "gsk-secret")


def test_hosted_providers_have_default_models():
    openrouter, groq = providers_from_env({"OPENROUTER_API_KEY": "a", "GROQ_API_KEY": "b"})
    assert (openrouter.model, groq.model) == (OPENROUTER_MODEL, GROQ_MODEL)
    assert OPENROUTER_URL == "https://openrouter.ai/api/v1"
    assert GROQ_URL == "https://api.groq.com/openai/v1"


def test_llm_model_overrides_defaults_and_provider_models_override_it():
    env = {"OPENROUTER_API_KEY": "a", "GROQ_API_KEY": "b", "LLM_MODEL": "shared", "GROQ_MODEL": "groq-own"}
    assert [p.model for p in providers_from_env(env)] == ["shared", "groq-own"]


def test_openrouter_sends_attribution_headers():
    (openrouter,) = providers_from_env({"OPENROUTER_API_KEY": "k", "OPENROUTER_APP_TITLE": "My RAG"})
    headers = openrouter.request_headers()
    assert headers["Authorization"] == "Bearer k"
    assert headers["HTTP-Referer"].startswith("http")
    assert headers["X-OpenRouter-Title"] == headers["X-Title"] == "My RAG"


def test_a_keyless_local_endpoint_sends_no_authorization():
    (local,) = providers_from_env({"LLM_BASE_URL": "http://127.0.0.1:11434/v1", "LLM_MODEL": "llama3.2"})
    assert "Authorization" not in local.request_headers()


@pytest.mark.parametrize(("env", "needle"), [
    ({"LLM_BASE_URL": "http://127.0.0.1:1/v1"}, "LLM_MODEL"),
    ({"LLM_API_KEY": "sk"}, "LLM_BASE_URL"),
    ({"LLM_BASE_URL": "127.0.0.1:1/v1", "LLM_MODEL": "m"}, "'127.0.0.1:1/v1'"),
])
def test_half_configured_endpoint_is_a_clear_error(env, needle):
    with pytest.raises(ConfigError, match=needle):
        providers_from_env(env)


def test_the_key_stays_out_of_repr_and_providers_are_hashable():
    provider = Provider("x", "http://h/v1", "sk-very-secret", "m", {"A": "b"})
    assert "sk-very-secret" not in repr(provider)
    assert hash(provider) == hash(Provider("x", "http://h/v1", "sk-very-secret", "m", {"A": "c"}))
    with pytest.raises(TypeError):
        provider.headers["A"] = "changed"  # type: ignore[index]


def test_retry_after_in_seconds_or_as_an_http_date():
    assert parse_retry_after("3") == 3.0
    assert parse_retry_after("1.5") == 1.5
    assert parse_retry_after("-4") == 0.0
    now = 1_700_000_000.0
    assert parse_retry_after(email.utils.formatdate(now + 30, usegmt=True), now=now) == pytest.approx(30)
    assert parse_retry_after(email.utils.formatdate(now - 30, usegmt=True), now=now) == 0.0
    assert [parse_retry_after(v) for v in (None, "", "soon")] == [None, None, None]
