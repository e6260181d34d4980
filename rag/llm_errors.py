"""The LLM layer's errors, results and counters: no HTTP client needed to import them.

``rag.errors`` maps these to responses, so the server can start without
loading httpx until an LLM is actually called.
"""
from __future__ import annotations

import email.utils
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any


class LLMError(Exception):
    """A provider could not answer. ``status`` is the HTTP status to report upstream."""

    status = 502

    def __init__(self, provider: str, reason: str, *, retry_after: float | None = None,
                 earlier: Sequence[LLMError] = ()) -> None:
        self.provider, self.reason, self.retry_after = provider, reason, retry_after
        self.earlier = tuple(earlier)
        before = "".join(f" (before that, {e.provider}: {e.reason})" for e in self.earlier)
        super().__init__(f"LLM provider {provider!r} failed: {reason}{before}")


class ProviderError(LLMError):
    """Bad gateway: the provider answered with an error, garbage, or refused the key."""


class ProviderUnavailable(LLMError):
    """Unavailable or rate-limited (429, 5xx, no connection) even after retries."""

    status = 503


class ProviderTimeout(LLMError):
    """No answer in time: a read timeout, or the overall request deadline."""

    status = 504


@dataclass(frozen=True)
class Completion:
    text: str
    provider: str
    model: str


@dataclass
class ProviderStats:
    calls: int = 0
    failures: int = 0


@dataclass
class LLMStats:
    """HTTP attempts and failed attempts, per provider (for /metrics)."""

    by_provider: dict[str, ProviderStats] = field(default_factory=dict)

    @property
    def calls(self) -> int:
        return sum(stats.calls for stats in self.by_provider.values())

    @property
    def failures(self) -> int:
        return sum(stats.failures for stats in self.by_provider.values())

    def called(self, provider: str) -> None:
        self.by_provider.setdefault(provider, ProviderStats()).calls += 1

    def failed(self, provider: str) -> None:
        self.by_provider.setdefault(provider, ProviderStats()).failures += 1

    def as_dict(self) -> dict[str, Any]:
        by_provider = {name: vars(stats).copy() for name, stats in self.by_provider.items()}
        return {"calls": self.calls, "failures": self.failures, "by_provider": by_provider}


def parse_retry_after(value: str | None, now: float | None = None) -> float | None:
    """Seconds to wait from a Retry-After header (delta-seconds or HTTP date)."""
    if not value or not value.strip():
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value).timestamp()
    except (TypeError, ValueError, IndexError):
        return None
    return max(0.0, when - (time.time() if now is None else now))
