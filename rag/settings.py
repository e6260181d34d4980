"""Settings: one frozen object, read from the environment once.

Every field names its environment variable, its default and a line of help;
``settings_table()`` renders them as the README's table.
"""
from __future__ import annotations

import os
from dataclasses import dataclass, field, fields
from typing import Mapping


class SettingsError(ValueError):
    """An environment variable with a value that cannot be used."""


def _setting(default, help: str):
    return field(default=default, metadata={"help": help})


@dataclass(frozen=True)
class Settings:
    HOST: str = _setting("127.0.0.1", "Address `python server.py` listens on (0.0.0.0 to serve a network).")
    PORT: int = _setting(8000, "Port `python server.py` listens on.")
    DATA_DIR: str = _setting("./data", "Where the SQLite store and the index live; read-only directories serve read-only.")
    LLM_BASE_URL: str = _setting("", "Any OpenAI-compatible endpoint, e.g. http://localhost:11434/v1 (tried first).")
    LLM_API_KEY: str = _setting("", "Key for LLM_BASE_URL (optional for local servers).")
    LLM_MODEL: str = _setting("", "Model for LLM_BASE_URL; also the default model name for the other providers.")
    OPENROUTER_API_KEY: str = _setting("", "OpenRouter key: enables LLM answers through OpenRouter.")
    GROQ_API_KEY: str = _setting("", "Groq key: enables LLM answers through Groq (failover when both are set).")
    OPENROUTER_MODEL: str = _setting("", "OpenRouter model (default: meta-llama/llama-3.3-70b-instruct).")
    GROQ_MODEL: str = _setting("", "Groq model (default: llama-3.3-70b-versatile).")
    OPENROUTER_APP_URL: str = _setting("", "HTTP-Referer sent to OpenRouter for attribution.")
    OPENROUTER_APP_TITLE: str = _setting("", "App title sent to OpenRouter for attribution.")
    API_KEY: str = _setting("", "When set, uploads, deletes and admin routes need `Authorization: Bearer <key>`.")
    PROTECT_READS: bool = _setting(False, "With API_KEY set, also require the key for search, ask and listing.")
    MAX_UPLOAD_MB: float = _setting(50.0, "Largest accepted upload; bigger ones get 413 before they are read.")
    MEMORY_LIMIT_MB: float = _setting(400.0, "Above this RSS, uploads get 503 with Retry-After; search and ask go on.")
    PROMPT_DIR: str = _setting("", "Folder with system.txt and answer.txt overriding the bundled prompts/.")
    ANSWER_FALLBACK: bool = _setting(True, "When every LLM provider fails, answer extractively (marked so) instead of 502/503/504.")
    LLM_TIMEOUT: float = _setting(40.0, "Seconds an answer may take from the LLM, retries and failover included.")
    TOP_K: int = _setting(5, "Passages retrieved for an answer when the request does not say.")
    SCORING: str = _setting("bm25", "Ranking model: bm25 or tfidf (cosine, sublinear tf, smoothed idf).")
    BM25_K1: float = _setting(1.5, "BM25 term-frequency saturation.")
    BM25_B: float = _setting(0.9, "BM25 length normalisation.")
    TITLE_BOOST: int = _setting(2, "How many times a title or heading counts against body text.")
    MAX_FEATURES: int = _setting(0, "Cap on vocabulary size (terms hashed into this many buckets); 0 = no cap.")
    LANGUAGE: str = _setting("english", "Stemming and stopword language (any Snowball language, or none).")
    CHUNK_SIZE: int = _setting(2000, "Target chunk size in characters.")
    CHUNK_OVERLAP: int = _setting(200, "Characters of the previous chunk repeated at the start of the next.")
    PDF_TIME_LIMIT: float = _setting(60.0, "Seconds one PDF may take to parse before it is refused.")
    READ_ONLY: bool = _setting(False, "Serve the store read-only even if DATA_DIR is writable.")

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None, **overrides) -> "Settings":
        """Settings from ``env`` (default: the process environment), then ``overrides``."""
        env = os.environ if env is None else env
        values = {f.name: _parse(f, env[f.name]) for f in fields(cls) if env.get(f.name, "") != ""}
        return cls(**(values | overrides))


def _parse(f, raw: str):
    kind = type(f.default)
    try:
        if kind is bool:
            return _boolean(raw)
        return kind(raw)
    except ValueError:
        raise SettingsError(f"{f.name}={raw!r} is not a valid {kind.__name__}; default is {f.default!r}") from None


def _boolean(raw: str) -> bool:
    value = raw.strip().lower()
    if value in ("1", "true", "yes", "on"):
        return True
    if value in ("0", "false", "no", "off"):
        return False
    raise ValueError(raw)


def settings_table() -> str:
    """The settings as a Markdown table (for the README)."""
    rows = ["| Setting | Default | What it does |", "|---|---|---|"]
    for f in fields(Settings):
        default = f"`{f.default}`" if f.default != "" else "(empty)"
        rows.append(f"| `{f.name}` | {default} | {f.metadata['help']} |")
    return "\n".join(rows)
