"""Impacts: the per-posting weights a model derives from the collection statistics.

Each impact is quantised to 16 bits against the largest one in the index, so
a document's score is an exact integer sum (times ``scale``): the order in
which terms are added cannot change it, which keeps pruning safe and makes an
index that saw any sequence of adds and deletes score exactly like one built
from its survivors.  Recomputed, lazily, whenever the collection changes.
"""
from __future__ import annotations

from array import array
from collections import Counter, namedtuple
from itertools import compress, repeat
from operator import add, mul, truediv

from .scoring import ScoringParams, bm25_idf, bm25_length_norm, l2_norm, smooth_idf, tfidf_weight

LEVELS = 0xFFFF
FLOOR_DEPTHS = (10, 100)  # k values for which each term keeps its k-th best impact


class Weights(namedtuple("Weights", "impacts upper floors idf scale n_docs avg_len")):
    """Derived, read-only weights: a quantised impact per posting, a ceiling and idf per term.

    impacts: 'H' array parallel to postings.docs; upper: per term, the largest
    impact in its list; floors: depth -> per term, its depth-th best impact over
    distinct groups; idf: per term; scale: score = sum of impacts * scale.
    """

    __slots__ = ()


def compute_weights(postings, lens: array, alive: bytearray, groups: array, params: ScoringParams) -> Weights:
    """Impacts for every posting under ``params`` (BM25 or cosine TF-IDF)."""
    n_docs = sum(alive)
    total = sum(compress(lens, alive))
    avg_len = total / n_docs if n_docs else 0.0
    if params.scoring == "bm25":
        raw, idf = _bm25(postings, lens, n_docs, avg_len, params)
    else:
        raw, idf = _tfidf(postings, len(lens), n_docs)
    top = max(raw, default=0.0) or 1.0
    impacts = array("H", map(round, map(mul, raw, repeat(LEVELS / top))))
    upper = array("H", (max(impacts[a:b], default=0) for a, b in map(postings.span, range(postings.n_terms))))
    return Weights(impacts, upper, term_floors(postings, impacts, groups), idf, top / LEVELS, n_docs, avg_len)


def term_floors(postings, impacts: array, groups: array) -> dict[int, array]:
    """Per term and depth k, the k-th best impact among distinct groups (0 if fewer groups).

    A single term's k-th best is a lower bound on a query's k-th best score, so
    search can prune from the first list on instead of waiting for candidates.
    """
    floors = {depth: array("H", bytes(2 * postings.n_terms)) for depth in FLOOR_DEPTHS}
    shallowest, shared = min(FLOOR_DEPTHS), _shared_groups(groups)
    for term in range(postings.n_terms):
        start, end = postings.span(term)
        if end - start < shallowest:
            continue
        docs, imps = postings.docs[start:end], impacts[start:end]
        if any(map(shared.__getitem__, docs)):
            best = _group_maxima(docs, imps, groups)
        else:  # every document here is its group's only one: its impact is the group's best
            best = imps
        if len(best) < shallowest:
            continue
        ranked = sorted(best, reverse=True)[: max(FLOOR_DEPTHS)]
        for depth in FLOOR_DEPTHS:
            if len(ranked) >= depth:
                floors[depth][term] = ranked[depth - 1]
    return floors


def _shared_groups(groups: array) -> bytearray:
    """1 for each document whose group holds other documents too."""
    sizes = Counter(groups)
    return bytearray(map((1).__lt__, map(sizes.__getitem__, groups)))


def _group_maxima(docs: array, impacts: array, groups: array) -> list[int]:
    """The best impact of each group in a posting list."""
    best: dict[int, int] = {}
    get = best.get
    for group, impact in zip(map(groups.__getitem__, docs), impacts):
        if impact > get(group, -1):
            best[group] = impact
    return list(best.values())


def _bm25(postings, lens, n_docs, avg_len, params) -> tuple[array, array]:
    """bm25_impact for every posting, computed as idf * (k1 + 1) * (tf / (tf + K)) with C-level maps."""
    k1, b = params.k1, params.b
    norms = [bm25_length_norm(length, avg_len, k1, b) for length in lens]
    raw, idfs = array("d"), array("f")
    for term in range(postings.n_terms):
        start, end = postings.span(term)
        idf = bm25_idf(end - start, n_docs)
        idfs.append(idf)
        tfs = postings.tfs[start:end]
        saturation = map(truediv, tfs, map(add, tfs, map(norms.__getitem__, postings.docs[start:end])))
        raw.extend(map(mul, saturation, repeat(idf * (k1 + 1.0))))
    return raw, idfs


def _tfidf(postings, n_slots: int, n_docs: int) -> tuple[array, array]:
    raw, idfs = array("d"), array("f")
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
    return array("d", (w / norms[d] for w, d in zip(raw, postings.docs))), idfs
