"""Impacts: the per-posting weights a model derives from the collection statistics.

Each impact is quantised to 16 bits against the largest one in the index, so
a document's score is an exact integer sum (times ``scale``): the order in
which terms are added cannot change it, which keeps pruning safe and makes an
index that saw any sequence of adds and deletes score exactly like one built
from its survivors.  Recomputed, lazily, whenever the collection changes.
"""
from __future__ import annotations

import sys
from array import array
from collections import Counter, namedtuple
from functools import partial
from itertools import chain, compress, repeat
from operator import add, eq, itemgetter, le, mul, sub, truediv

from .scoring import ScoringParams, bm25_idf, bm25_length_norm, l2_norm, smooth_idf, tfidf_weight

LEVELS = 0xFFFF
FLOOR_DEPTHS = (10, 100)  # k values for which each term keeps its k-th best impact


class Weights(namedtuple("Weights", "impacts upper floors idf scale n_docs avg_len")):
    """Derived, read-only weights: a quantised impact per posting, a ceiling (and for TF-IDF an idf) per term.

    impacts: 'H' array parallel to postings.docs; upper: per term, the largest
    impact in its list; floors: depth -> per term, its depth-th best impact over
    distinct groups; idf: per term under TF-IDF, whose query weights need it (empty under BM25,
    where a query term weighs its count); scale: score = sum of impacts * scale.
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
    wide = array("I", map(float.__round__, map(mul, raw, repeat(LEVELS / top))))  # see _narrow; round() once
    del raw  # (8 bytes a posting) before the 2-byte copy is made
    impacts = _narrow(wide)
    offsets = postings.offsets
    some_empty = any(map(eq, offsets, offsets[1:]))  # lists whose documents were all deleted
    upper = array("H", map(_max_or_0 if some_empty else max, _lists(offsets, impacts)))
    return Weights(impacts, upper, term_floors(postings, impacts, groups), idf, top / LEVELS, n_docs, avg_len)


_max_or_0 = partial(max, default=0)


def _narrow(wide: array) -> array:
    """An 'H' copy of an 'I' array whose items are below 65,536.

    Impacts are filled as 'I', whose item conversion is several times cheaper than 'H''s, then
    narrowed by strided byte copies, a block at a time (no second copy of the whole).
    """
    if sys.byteorder != "little":
        return array("H", wide)
    narrow, whole, block = bytearray(2 * len(wide)), memoryview(wide).cast("B"), 1 << 16
    for start in range(0, len(wide), block):
        raw = whole[4 * start : 4 * (start + block)].tobytes()
        end = start + len(raw) // 4
        narrow[2 * start : 2 * end : 2], narrow[2 * start + 1 : 2 * end : 2] = raw[0::4], raw[1::4]
    return array("H", narrow)


def _lists(offsets: array, values: array):
    """Each term's slice of ``values`` (a posting-parallel array), in term order."""
    return map(values.__getitem__, map(slice, offsets, offsets[1:]))


def _list_lengths(offsets: array) -> array:
    """Each term's document frequency."""
    return array("I", map(sub, offsets[1:], offsets))


def term_floors(postings, impacts: array, groups: array) -> dict[int, array]:
    """Per term and depth k, the k-th best impact among distinct groups (0 if fewer groups).

    A single term's k-th best is a lower bound on a query's k-th best score, so
    search can prune from the first list on instead of waiting for candidates.
    """
    floors = {depth: array("H", bytes(2 * postings.n_terms)) for depth in FLOOR_DEPTHS}
    shallowest, deepest, shared = min(FLOOR_DEPTHS), max(FLOOR_DEPTHS), _shared_groups(groups)
    offsets, docs = postings.offsets, postings.docs
    long_enough = map(le, repeat(shallowest), _list_lengths(offsets))
    for term in compress(range(postings.n_terms), long_enough):
        start, end = offsets[term], offsets[term + 1]
        best = _group_maxima(docs[start:end], impacts[start:end], groups, shared) if shared else impacts[start:end]
        if len(best) < shallowest:
            continue
        ranked = sorted(best, reverse=True)[:deepest]
        for depth in FLOOR_DEPTHS:
            if len(ranked) >= depth:
                floors[depth][term] = ranked[depth - 1]
    return floors


def _shared_groups(groups: array) -> bytearray | None:
    """1 for each document whose group holds other documents too (None if no group does)."""
    sizes = Counter(groups)
    if len(sizes) == len(groups):
        return None  # every group is one document
    return bytearray(map((1).__lt__, map(sizes.__getitem__, groups)))


_FLIP = bytes.maketrans(b"\x00\x01", b"\x01\x00")


def _group_maxima(docs: array, impacts: array, groups: array, shared: bytearray) -> list[int]:
    """The best impact of each group in a posting list, in C.

    A document alone in its group is its group's best; for the others, pairs sorted by
    impact make a dict keep each group's last, so largest, impact.
    """
    in_shared = bytes(map(shared.__getitem__, docs))
    if not any(in_shared):
        return impacts
    best = list(compress(impacts, in_shared.translate(_FLIP)))
    members = zip(map(groups.__getitem__, compress(docs, in_shared)), compress(impacts, in_shared))
    best += dict(sorted(members, key=itemgetter(1))).values()
    return best


def _bm25(postings, lens, n_docs, avg_len, params) -> tuple[array, array]:
    """bm25_impact for every posting, computed as (tf / (tf + K)) * (idf * (k1 + 1)) over whole arrays.

    idf depends only on a term's document frequency and K on a document's length, so each is
    computed once per distinct value; the per-posting arithmetic is C-level maps.
    """
    k1, b = params.k1, params.b
    norm_of = {length: bm25_length_norm(length, avg_len, k1, b) for length in set(lens)}
    norms = list(map(norm_of.__getitem__, lens))
    dfs = _list_lengths(postings.offsets)
    idf_of = {df: bm25_idf(df, n_docs) for df in set(dfs)}
    idfs = array("d", map(idf_of.__getitem__, dfs))
    tfs = postings.tfs
    saturation = map(truediv, tfs, map(add, tfs, map(norms.__getitem__, postings.docs)))
    factors = chain.from_iterable(map(repeat, map(mul, idfs, repeat(k1 + 1.0)), dfs))
    return array("d", map(mul, saturation, factors)), array("f")  # BM25 queries need no idf: keep none


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
