"""Which OpenAI-compatible chat providers to use, read from the environment.

Order of preference (the client fails over in this order):

1. ``LLM_BASE_URL`` (+ ``LLM_API_KEY``, ``LLM_MODEL``): any OpenAI-compatible endpoint.
2. ``OPENROUTER_API_KEY``: https://openrouter.ai/api/v1
3. ``GROQ_API_KEY``: https://api.groq.com/openai/v1

Model per provider: ``OPENROUTER_MODEL`` / ``GROQ_MODEL`` if set, else ``LLM_MODEL``,
else the provider's default. No provider at all means extractive mode.
"""
from __future__ import annotations

import types
from collections.abc import Mapping
from dataclasses import dataclass, field

OPENROUTER_URL = "https://openrouter.ai/api/v1"
OPENROUTER_MODEL = "meta-llama/llama-3.3-70b-instruct"
GROQ_URL = "https://api.groq.com/openai/v1"
GROQ_MODEL = "llama-3.3-70b-versatile"
APP_REFERER = "http://localhost"
APP_TITLE = "rag-answer-server"


class ConfigError(ValueError):
    """The environment names an LLM provider but leaves it unusable."""


@dataclass(frozen=True)
class Provider:
    """One chat-completions endpoint. The API key is kept out of repr()."""

    name: str
    base_url: str
    api_key: str = field(repr=False)
    model: str
    headers: Mapping[str, str] = field(default_factory=dict, hash=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "base_url", self.base_url.rstrip("/"))
        object.__setattr__(self, "headers", types.MappingProxyType(dict(self.headers)))

    @property
    def chat_url(self) -> str:
        return f"{self.base_url}/chat/completions"

    def request_headers(self) -> dict[str, str]:
        """Headers for a request: authorization (when a key is set) and extras."""
        auth = {"Authorization": f"Bearer {self.api_key}"} if self.api_key else {}
        return {**auth, **self.headers}


def providers_from_env(env: Mapping[str, str]) -> list[Provider]:
    """The configured providers, most preferred first; [] means extractive mode."""
    found = (_custom(env), _openrouter(env), _groq(env))
    return [provider for provider in found if provider is not None]


def _get(env: Mapping[str, str], name: str) -> str:
    return env.get(name, "").strip()


def _model(env: Mapping[str, str], own: str, default: str) -> str:
    return _get(env, own) or _get(env, "LLM_MODEL") or default


def _custom(env: Mapping[str, str]) -> Provider | None:
    base_url, model = _get(env, "LLM_BASE_URL"), _get(env, "LLM_MODEL")
    if not base_url:
        if _get(env, "LLM_API_KEY"):
            raise ConfigError(
                "LLM_API_KEY is set but LLM_BASE_URL is empty; set LLM_BASE_URL to the "
                "endpoint's base URL (for example https://api.openai.com/v1)"
            )
        return None
    if not base_url.startswith(("http://", "https://")):
        raise ConfigError(f"LLM_BASE_URL={base_url!r} is not an http(s) URL; use e.g. http://127.0.0.1:8080/v1")
    if not model:
        raise ConfigError(f"LLM_BASE_URL={base_url!r} is set but LLM_MODEL is empty; set LLM_MODEL to its model name")
    return Provider("custom", base_url, _get(env, "LLM_API_KEY"), model)


def _openrouter(env: Mapping[str, str]) -> Provider | None:
    key = _get(env, "OPENROUTER_API_KEY")
    if not key:
        return None
    title = _get(env, "OPENROUTER_APP_TITLE") or APP_TITLE
    headers = {
        "HTTP-Referer": _get(env, "OPENROUTER_APP_URL") or APP_REFERER,
        "X-OpenRouter-Title": title,
        "X-Title": title,
    }
    return Provider("openrouter", OPENROUTER_URL, key, _model(env, "OPENROUTER_MODEL", OPENROUTER_MODEL), headers)


def _groq(env: Mapping[str, str]) -> Provider | None:
    key = _get(env, "GROQ_API_KEY")
    if not key:
        return None
    return Provider("groq", GROQ_URL, key, _model(env, "GROQ_MODEL", GROQ_MODEL))


def providers_from_settings(settings) -> list[Provider]:
    """The providers a Settings object configures (its LLM_* / OPENROUTER_* / GROQ_* fields)."""
    names = ("LLM_BASE_URL", "LLM_API_KEY", "LLM_MODEL", "OPENROUTER_API_KEY", "GROQ_API_KEY", "OPENROUTER_MODEL",
             "GROQ_MODEL", "OPENROUTER_APP_URL", "OPENROUTER_APP_TITLE")
    return providers_from_env({name: getattr(settings, name) for name in names if getattr(settings, name)})
