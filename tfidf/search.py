"""Query evaluation: term-at-a-time with MaxScore pruning, then the top k with a heap.

Terms are visited from the highest ceiling (largest impact in the list) down.
Once the ceilings of the terms still to come add up to less than the current
k-th best score, no document outside the candidates can reach the top k: the
remaining (long, low-weight) lists only update candidates, filtered in C by
``itertools.compress``.  Scores are integer sums, so this is exact
and the order of terms cannot change a result.
"""
from __future__ import annotations

import heapq
from collections import Counter
from itertools import compress
from typing import NamedTuple

from .scoring import l2_norm, sublinear_tf


class Hit(NamedTuple):
    key: int  # the caller's document key
    group: int  # the group it belongs to (itself when ungrouped)
    score: float


QUERY_LEVELS = 0xFFFF


def query_weights(term_ids: list[int], weights, scoring: str) -> tuple[list[tuple[int, int]], float]:
    """(term id, integer weight) per distinct query term, and the factor that scales scores back.

    BM25 weighs a term by its count in the query; TF-IDF by its normalised
    tf-idf, quantised to 16 bits so that every score is an exact integer sum.
    """
    counts = Counter(term_ids)
    if scoring == "bm25":
        return list(counts.items()), 1.0
    raw = [(t, sublinear_tf(c) * weights.idf[t]) for t, c in counts.items()]
    norm = l2_norm([w for _, w in raw])
    return [(t, round(QUERY_LEVELS * w / norm)) for t, w in raw], 1.0 / QUERY_LEVELS


def _add_all(acc: dict, docs, imps, qw) -> None:
    get = acc.get
    if qw == 1:
        for doc, w in zip(docs, imps):
            acc[doc] = get(doc, 0) + w
    else:
        for doc, w in zip(docs, imps):
            acc[doc] = get(doc, 0) + qw * w


def _add_to_candidates(acc: dict, docs, imps, qw) -> None:
    for doc, w in compress(zip(docs, imps), map(acc.__contains__, docs)):
        acc[doc] += qw * w


def _threshold(acc: dict, depth: int) -> float:
    """The ``depth``-th best score so far (0 when there are fewer candidates)."""
    return heapq.nlargest(depth, acc.values())[-1] if len(acc) >= depth else 0


def accumulate(postings, weights, qweights: list[tuple[int, float]], depth: int) -> dict:
    """Scores of every document that can still reach the ``depth`` best."""
    plan = sorted(((weights.upper[t] * qw, t, qw) for t, qw in qweights if weights.upper[t]), reverse=True)
    remaining = sum(ceiling for ceiling, _, _ in plan)
    acc: dict = {}
    pruning = False
    for ceiling, term, qw in plan:
        start, end = postings.span(term)
        docs, imps = postings.docs[start:end], weights.impacts[start:end]
        remaining -= ceiling
        if pruning:
            _add_to_candidates(acc, docs, imps, qw)
            continue
        _add_all(acc, docs, imps, qw)
        if remaining and len(acc) >= depth and remaining < max(acc.values()):
            floor = _threshold(acc, depth)
            if remaining < floor:
                acc = {d: s for d, s in acc.items() if s + remaining >= floor}
                pruning = True
    return acc


def best_per_group(acc: dict, groups) -> dict:
    """Each group's best document: {best document number: score}."""
    best: dict = {}
    for doc, score in acc.items():
        held = best.get(groups[doc])
        if held is None or score > held[0] or (score == held[0] and doc < held[1]):
            best[groups[doc]] = (score, doc)
    return {doc: score for score, doc in best.values()}


def top_k(acc: dict, k: int, keys) -> list[tuple[int, float]]:
    """The ``k`` best (document number, score), ties broken by the smaller key."""
    if len(acc) > k:
        floor = heapq.nlargest(k, acc.values())[-1]
        acc = {d: s for d, s in acc.items() if s >= floor}
    ranked = sorted(acc.items(), key=lambda ds: (-ds[1], keys[ds[0]]))
    return ranked[:k]


def search_index(index, weights, term_ids: list[int], k: int, *, by_group: bool) -> list[Hit]:
    """The top ``k`` hits, best first; ties broken by key so results are reproducible."""
    if k <= 0 or not term_ids or not weights.n_docs:
        return []
    qweights, query_scale = query_weights(term_ids, weights, index.params.scoring.scoring)
    depth = k * (index.max_group_size() if by_group else 1)
    acc = accumulate(index.postings, weights, qweights, depth)
    if by_group:
        acc = best_per_group(acc, index.groups)
    scale, keys, groups = weights.scale * query_scale, index.keys, index.groups
    return [Hit(keys[d], groups[d], s * scale) for d, s in top_k(acc, k, keys)]
