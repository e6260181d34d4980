"""Term weighting: the scoring formulas, each a small named function.

Every model is expressed as *impacts*: a weight per (term, document) posting
computed once from the collection statistics, so that a query's score for a
document is ``sum(query_weight(t) * impact(t, d) for t in query)``.
"""
from __future__ import annotations

import math
from collections import namedtuple

from .errors import SettingsError

SCORINGS = ("bm25", "tfidf")


class ScoringParams(namedtuple("ScoringParams", "scoring k1 b")):
    """Which model ranks (bm25 or tfidf), and BM25's k1 and b."""

    __slots__ = ()

    def __new__(cls, scoring: str = "bm25", k1: float = 1.2, b: float = 0.75) -> "ScoringParams":
        if scoring not in SCORINGS:
            raise SettingsError(f"scoring {scoring!r} is not one of {', '.join(SCORINGS)}")
        if not (k1 >= 0 and 0 <= b <= 1):
            raise SettingsError(f"BM25 needs k1 >= 0 and 0 <= b <= 1, got k1={k1}, b={b}")
        return super().__new__(cls, scoring, k1, b)


def bm25_idf(df: int, n_docs: int) -> float:
    """Lucene's BM25 idf: ln(1 + (N - df + 0.5) / (df + 0.5)), never negative."""
    return math.log(1.0 + (n_docs - df + 0.5) / (df + 0.5))


def bm25_length_norm(doc_len: int, avg_len: float, k1: float, b: float) -> float:
    """The per-document denominator term K = k1 * (1 - b + b * |d| / avgdl)."""
    return k1 * (1.0 - b + b * doc_len / avg_len) if avg_len else k1


def bm25_impact(tf: int, idf: float, norm: float, k1: float) -> float:
    """BM25 term weight: idf * tf * (k1 + 1) / (tf + K)."""
    return idf * tf * (k1 + 1.0) / (tf + norm)


def bm25_ceiling(min_df: int, n_docs: int, k1: float) -> float:
    """A bound no BM25 impact reaches: idf(min df, N) * (k1 + 1), the rarest term's idf times the most
    any tf / (tf + K) can give (it is below 1, or 1 when k1 = 0), with a hair to spare for rounding."""
    return max(bm25_idf(min_df, n_docs), 0.0) * (k1 + 1.0) * (1.0 + 1e-9) or 1.0


def smooth_idf(df: int, n_docs: int) -> float:
    """Smoothed idf as in scikit-learn: ln((1 + N) / (1 + df)) + 1."""
    return math.log((1.0 + n_docs) / (1.0 + df)) + 1.0


def sublinear_tf(tf: int) -> float:
    """Sublinear term frequency: 1 + ln(tf) for tf > 0."""
    return 1.0 + math.log(tf) if tf > 0 else 0.0


def tfidf_weight(tf: int, idf: float) -> float:
    """Unnormalised TF-IDF weight (1 + ln tf) * idf; documents are then L2-normalised."""
    return sublinear_tf(tf) * idf


def l2_norm(weights: list[float]) -> float:
    """Euclidean length of a weight vector (1.0 for an empty one, to avoid dividing by 0)."""
    return math.sqrt(math.fsum(w * w for w in weights)) or 1.0
