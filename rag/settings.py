"""Settings: one immutable object, read from the environment once.

Every setting has an environment variable of its name, a default and a line
of help; ``settings_table()`` renders them as the README's table.
"""
from __future__ import annotations

import os
from collections import namedtuple
from collections.abc import Mapping


class SettingsError(ValueError):
    """An environment variable with a value that cannot be used."""


SPEC = (  # (name, default, help): the type of each setting is its default's
    ("HOST", "127.0.0.1", "Address `python server.py` listens on (0.0.0.0 to serve a network)."),
    ("PORT", 8000, "Port `python server.py` listens on."),
    ("DATA_DIR", "./data", "Where the SQLite store and the index live; read-only directories serve read-only."),
    ("LLM_BASE_URL", "", "Any OpenAI-compatible endpoint, e.g. http://localhost:11434/v1 (tried first)."),
    ("LLM_API_KEY", "", "Key for LLM_BASE_URL (optional for local servers)."),
    ("LLM_MODEL", "", "Model for LLM_BASE_URL; also the default model name for the other providers."),
    ("OPENROUTER_API_KEY", "", "OpenRouter key: enables LLM answers through OpenRouter."),
    ("GROQ_API_KEY", "", "Groq key: enables LLM answers through Groq (failover when both are set)."),
    ("OPENROUTER_MODEL", "", "OpenRouter model (default: meta-llama/llama-3.3-70b-instruct)."),
    ("GROQ_MODEL", "", "Groq model (default: llama-3.3-70b-versatile)."),
    ("OPENROUTER_APP_URL", "", "HTTP-Referer sent to OpenRouter for attribution."),
    ("OPENROUTER_APP_TITLE", "", "App title sent to OpenRouter for attribution."),
    ("API_KEY", "", "When set, uploads, deletes and admin routes need `Authorization: Bearer <key>`."),
    ("PROTECT_READS", False, "With API_KEY set, also require the key for search, ask and listing."),
    ("MAX_UPLOAD_MB", 50.0, "Largest accepted upload; bigger ones get 413 before they are read."),
    ("MEMORY_LIMIT_MB", 400.0, "Above this RSS, uploads get 503 with Retry-After; search and ask go on."),
    ("PROMPT_DIR", "", "Folder with system.txt and answer.txt overriding the bundled prompts/."),
    ("ANSWER_FALLBACK", True, "When every LLM provider fails, answer extractively (marked so) instead of 502/503/504."),
    ("LLM_TIMEOUT", 40.0, "Seconds an answer may take from the LLM, retries and failover included."),
    ("TOP_K", 5, "Passages retrieved for an answer when the request does not say."),
    ("SCORING", "bm25", "Ranking model: bm25 or tfidf (cosine, sublinear tf, smoothed idf)."),
    ("BM25_K1", 1.5, "BM25 term-frequency saturation."),
    ("BM25_B", 0.9, "BM25 length normalisation."),
    ("TITLE_BOOST", 2, "How many times a title or heading counts against body text."),
    ("MAX_FEATURES", 0, "Cap on vocabulary size (terms hashed into this many buckets); 0 = no cap."),
    ("LANGUAGE", "english", "Stemming and stopword language (any Snowball language, or none)."),
    ("CHUNK_SIZE", 2000, "Target chunk size in characters."),
    ("CHUNK_OVERLAP", 200, "Characters of the previous chunk repeated at the start of the next."),
    ("INGEST_WORKER", True, "`server.py ingest` shares analysis with a second process it forks (with fork and 2+ CPUs)."),
    ("PDF_TIME_LIMIT", 60.0, "Seconds one PDF may take to parse before it is refused."),
    ("READ_ONLY", False, "Serve the store read-only even if DATA_DIR is writable."),
)
_DEFAULTS = {name: default for name, default, _ in SPEC}


class Settings(namedtuple("Settings", [name for name, _, _ in SPEC], defaults=[d for _, d, _ in SPEC])):
    """The server's settings (immutable; ``replace(**changes)`` gives a changed copy)."""

    __slots__ = ()

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None, **overrides) -> "Settings":
        """Settings from ``env`` (default: the process environment), then ``overrides``."""
        env = os.environ if env is None else env
        values = {name: _parse(name, env[name]) for name in cls._fields if env.get(name, "") != ""}
        return cls(**(values | overrides))

    def replace(self, **changes) -> "Settings":
        return self._replace(**changes)


def _parse(name: str, raw: str):
    default = _DEFAULTS[name]
    kind = type(default)
    try:
        return _boolean(raw) if kind is bool else kind(raw)
    except ValueError:
        raise SettingsError(f"{name}={raw!r} is not a valid {kind.__name__}; default is {default!r}") from None


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
    for name, default, help_ in SPEC:
        shown = f"`{default}`" if default != "" else "(empty)"
        rows.append(f"| `{name}` | {shown} | {help_} |")
    return "\n".join(rows)
