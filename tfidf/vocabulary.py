"""Term ids: an exact vocabulary, or a capped one that hashes terms into buckets.

The cap (``max_features``) bounds memory.  Dropping all but the most frequent
terms, as scikit-learn does, throws away exactly the rare terms that rank
best; hashing keeps every term and lets rare ones share a bucket, which loses
far less (see BENCHMARKS.md).  A hashed vocabulary stores no strings at all.
"""
from __future__ import annotations

from zlib import crc32


class Vocabulary:
    """Exact term -> id mapping; ids are dense and never reused."""

    capped = False

    def __init__(self, terms: list[str] | None = None) -> None:
        self.terms: list[str] = list(terms or [])
        self._ids: dict[str, int] = {t: i for i, t in enumerate(self.terms)}

    def __len__(self) -> int:
        return len(self.terms)

    def get(self, term: str) -> int | None:
        """The id of ``term``, or None if it was never indexed."""
        return self._ids.get(term)

    def add(self, term: str) -> int:
        """The id of ``term``, assigning the next one if it is new."""
        tid = self._ids.get(term)
        if tid is None:
            tid = self._ids[term] = len(self.terms)
            self.terms.append(term)
        return tid


class HashedVocabulary:
    """Terms hashed (CRC-32 of UTF-8) into ``size`` buckets: bounded, stable across runs."""

    capped = True

    def __init__(self, size: int) -> None:
        self.size = size
        self.terms: list[str] = []

    def __len__(self) -> int:
        return self.size

    def get(self, term: str) -> int:
        return crc32(term.encode("utf-8", "surrogatepass")) % self.size

    add = get


def make_vocabulary(max_features: int | None, terms: list[str] | None = None):
    """An exact vocabulary, or a hashed one when ``max_features`` caps it."""
    return HashedVocabulary(max_features) if max_features else Vocabulary(terms)
