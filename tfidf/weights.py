"""Impacts: the per-posting weights a model derives from the collection statistics.

Recomputed whenever the collection changes (lazily, before the next search),
always from the canonical term frequencies, so an index that saw any sequence
of adds and deletes scores exactly like one built from its survivors.
"""
from __future__ import annotations

from array import array
from dataclasses import dataclass
from itertools import repeat

from .scoring import (ScoringParams, bm25_idf, bm25_impact, bm25_length_norm, l2_norm,
                      smooth_idf, tfidf_weight)


@dataclass(frozen=True)
class Weights:
    """Derived, read-only weights: one impact per posting, an idf and a ceiling per term."""

    impacts: array  # 'f', parallel to postings.docs
    upper: array  # 'f', per term: the largest impact in its list
    idf: array  # 'd', per term
    n_docs: int
    avg_len: float


def compute_weights(postings, lens: array, alive: bytearray, params: ScoringParams) -> Weights:
    """Impacts for every posting under ``params`` (BM25 or cosine TF-IDF)."""
    n_docs = sum(alive)
    total = sum(lens[d] for d in range(len(lens)) if alive[d])
    avg_len = total / n_docs if n_docs else 0.0
    if params.scoring == "bm25":
        impacts, idf = _bm25(postings, lens, n_docs, avg_len, params)
    else:
        impacts, idf = _tfidf(postings, len(lens), n_docs)
    upper = array("f", (_max_span(impacts, *postings.span(t)) for t in range(postings.n_terms)))
    return Weights(impacts, upper, idf, n_docs, avg_len)


def _max_span(values: array, start: int, end: int) -> float:
    return max(values[start:end]) if end > start else 0.0


def _bm25(postings, lens, n_docs, avg_len, params) -> tuple[array, array]:
    k1, b = params.k1, params.b
    norms = [bm25_length_norm(length, avg_len, k1, b) for length in lens]
    impacts, idfs = array("f"), array("d")
    for term in range(postings.n_terms):
        start, end = postings.span(term)
        idf = bm25_idf(end - start, n_docs)
        idfs.append(idf)
        docs, tfs = postings.docs[start:end], postings.tfs[start:end]
        impacts.extend(map(bm25_impact, tfs, repeat(idf), map(norms.__getitem__, docs), repeat(k1)))
    return impacts, idfs


def _tfidf(postings, n_slots: int, n_docs: int) -> tuple[array, array]:
    raw, idfs = [], array("d")
    squares: list[list[float]] = [[] for _ in range(n_slots)]
    for term in range(postings.n_terms):
        start, end = postings.span(term)
        idf = smooth_idf(end - start, n_docs)
        idfs.append(idf)
        for doc, tf in zip(postings.docs[start:end], postings.tfs[start:end]):
            weight = tfidf_weight(tf, idf)
            raw.append(weight)
            squares[doc].append(weight)
    norms = [l2_norm(ws) for ws in squares]
    impacts = array("f", (w / norms[d] for w, d in zip(raw, postings.docs)))
    return impacts, idfs
