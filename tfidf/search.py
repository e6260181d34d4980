"""Query evaluation: accumulate impacts term by term, then take the top k with a heap."""
from __future__ import annotations

import heapq
from collections import Counter
from operator import itemgetter
from typing import NamedTuple

from .scoring import l2_norm, sublinear_tf


class Hit(NamedTuple):
    key: int  # the caller's document key
    group: int  # the group it belongs to (itself when ungrouped)
    score: float


def query_weights(term_ids: list[int], weights, scoring: str) -> list[tuple[int, float]]:
    """(term id, weight) per distinct query term: its count for BM25, normalised tf-idf otherwise."""
    counts = Counter(term_ids)
    if scoring == "bm25":
        return [(t, float(c)) for t, c in counts.items()]
    raw = [(t, sublinear_tf(c) * weights.idf[t]) for t, c in counts.items()]
    norm = l2_norm([w for _, w in raw])
    return [(t, w / norm) for t, w in raw]


def accumulate(postings, impacts, qweights: list[tuple[int, float]]) -> dict[int, float]:
    """Score every document that holds at least one query term."""
    acc: dict[int, float] = {}
    get = acc.get
    for term, qw in qweights:
        start, end = postings.span(term)
        docs, imps = postings.docs[start:end], impacts[start:end]
        if qw == 1.0:
            for doc, w in zip(docs, imps):
                acc[doc] = get(doc, 0.0) + w
        else:
            for doc, w in zip(docs, imps):
                acc[doc] = get(doc, 0.0) + qw * w
    return acc


def best_per_group(acc: dict[int, float], groups) -> dict[int, tuple[float, int]]:
    """Each group's best (score, document number)."""
    best: dict[int, tuple[float, int]] = {}
    for doc, score in acc.items():
        group = groups[doc]
        held = best.get(group)
        if held is None or score > held[0]:
            best[group] = (score, doc)
    return best


def search_index(index, weights, term_ids: list[int], k: int, *, by_group: bool) -> list[Hit]:
    """The top ``k`` hits, best first; ties broken by key so results are reproducible."""
    if k <= 0 or not term_ids:
        return []
    qweights = query_weights(term_ids, weights, index.params.scoring.scoring)
    acc = accumulate(index.postings, weights.impacts, qweights)
    keys, groups = index.keys, index.groups
    if by_group:
        best = best_per_group(acc, groups)
        top = heapq.nlargest(k, best.values(), key=lambda sd: (sd[0], -keys[sd[1]]))
        return [Hit(keys[d], groups[d], s) for s, d in top]
    top = heapq.nlargest(k, acc.items(), key=lambda ds: (ds[1], -keys[ds[0]]))
    return [Hit(keys[d], groups[d], s) for d, s in top]
