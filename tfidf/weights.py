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
from bisect import bisect_right
from collections import namedtuple
from functools import partial
from itertools import chain, compress, repeat
from operator import add, eq, itemgetter, le, mul, ne, sub, truediv

from .postings import consume
from .scoring import ScoringParams, bm25_idf, bm25_length_norm, l2_norm, smooth_idf, sublinear_tf

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
    """Impacts for every posting under ``params`` (BM25 or cosine TF-IDF).

    Each model gives a posting's raw impact as a part of its own times a factor of its term's,
    and its impact is round(raw * step), step = LEVELS / (the largest raw).  Multiplying by a
    positive number and rounding never reverse an order, so a list's largest part times its
    factor is its largest raw impact and gives its ceiling: the step and the ceilings come from
    one max per list, then each posting is multiplied out, scaled and rounded in one pass (no
    raw array is kept; the float operations, and so the impacts, are the same as ever).
    """
    n_docs = sum(alive)
    total = sum(compress(lens, alive))
    avg_len = total / n_docs if n_docs else 0.0
    lengths = _list_lengths(postings.offsets)
    if params.scoring == "bm25":
        parts, factors, idf = _bm25(postings, lengths, lens, n_docs, avg_len, params)
    else:
        parts, factors, idf = _tfidf(postings, lengths, len(lens), n_docs)
    peaks = array("d", map(mul, _list_maxima(postings.offsets, lengths, parts), factors))  # largest raw per list
    top = max(peaks, default=0.0) or 1.0
    step = LEVELS / top
    upper = array("H", map(float.__round__, map(mul, peaks, repeat(step))))
    per_posting = _per_posting(factors, lengths)
    wide = array("I", map(float.__round__, map(mul, map(mul, parts, per_posting), repeat(step))))  # see _narrow
    del parts  # before the 2-byte copy is made
    impacts = _narrow(wide)
    floors = term_floors(postings, impacts, groups, upper, lengths)
    return Weights(impacts, upper, floors, idf, top / LEVELS, n_docs, avg_len)


def _list_maxima(offsets: array, lengths: array, values) -> map:
    """Each term's largest value in ``values`` (a posting-parallel sequence); 0.0 for an empty list."""
    some_empty = 0 in lengths  # lists whose documents were all deleted
    return map(partial(max, default=0.0) if some_empty else max, _lists(offsets, values))


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


def _lists(offsets: array, values):
    """Each term's slice of ``values`` (a posting-parallel sequence), in term order."""
    return map(values.__getitem__, map(slice, offsets, offsets[1:]))


def _per_posting(per_term, lengths: array):
    """Each term's value, once for each of its ``lengths`` postings, in posting order."""
    return chain.from_iterable(map(repeat, per_term, lengths))


def _list_lengths(offsets: array) -> array:
    """Each term's document frequency."""
    return array("I", map(sub, offsets[1:], offsets))


def term_floors(postings, impacts: array, groups: array, upper: array | None = None,
                lengths: array | None = None) -> dict[int, array]:
    """Per term and depth k, the k-th best impact among distinct groups (0 if fewer groups).

    A single term's k-th best is a lower bound on a query's k-th best score, so
    search can prune from the first list on instead of waiting for candidates.
    ``upper`` (each list's largest impact, as in Weights) and ``lengths`` (each list's) only save
    finding them again.
    """
    floors = {depth: array("H", bytes(2 * postings.n_terms)) for depth in FLOOR_DEPTHS}
    ranker, offsets = _GroupRanker(postings, impacts, groups), postings.offsets
    lengths = _list_lengths(offsets) if lengths is None else lengths
    long_enough = map(le, repeat(min(FLOOR_DEPTHS)), lengths)
    for term in compress(range(postings.n_terms), long_enough):
        start, end = offsets[term], offsets[term + 1]
        top = upper[term] if upper is not None else max(impacts[start:end])
        ranked, n_groups = ranker.ranked(start, end, top >> 8)
        for depth, floor in floors.items():
            if n_groups >= depth:
                floor[term] = ranked[depth - 1]
    return floors


class _GroupRanker:
    """A posting list's groups ranked by their best impacts, as deep as its floors need.

    Candidates: a long list's floors lie among its top impacts, so it is first cut down to the
    postings whose impact's high byte reaches a level (found by byte-wide C scans) at which
    enough groups remain.  Exact: every group with an impact at or above the level keeps its
    best one there, and those outrank all the others.

    Groups: each document is labelled with the first document of its group.  When every group's
    documents are consecutive numbers (the chunks of one document, added together), a group's
    postings are neighbours in a list, so comparing neighbouring labels finds the few repeats,
    and each run keeps its best impact (the others become 0, which no floor counts); otherwise
    a dict of labels keeps each group's best.
    """

    MARGIN = 1.5  # candidates sought per group needed: groups often hold several of a list's best postings

    def __init__(self, postings, impacts: array, groups: array) -> None:
        self.impacts, self.docs = impacts, postings.docs
        self.high = impacts.tobytes()[1 if sys.byteorder == "little" else 0 :: 2]  # each impact >> 8
        first: dict[int, int] = {}
        self.label_of = list(map(first.setdefault, groups, range(len(groups))))
        self.shared = len(first) < len(groups)  # some group holds several documents
        self.consecutive = 1 + sum(map(ne, groups, groups[1:])) == len(first)  # one run of numbers per group
        # per level, a byte table: byte >= level -> 1, else 0 (made here, not at import: searching never needs it)
        self.at_least = [bytes(level) + b"\x01" * (256 - level) for level in range(256)]

    def ranked(self, start: int, end: int, top_level: int) -> tuple[list[int], int]:
        """The group maxima of the list at start:end (and zeros), best first, and how many groups they are:
        all of them, or at least as many as the deepest floor the list is long enough for."""
        want = FLOOR_DEPTHS[bisect_right(FLOOR_DEPTHS, end - start) - 1]
        need = int(want * self.MARGIN)
        while True:
            cut = end - start >= 2 * need  # worth it only where at least half the list can go
            level = self._level(start, end, need, top_level) if cut else 0
            values, docs = self._at_least(start, end, level)
            found = len(values)
            values, n_groups = self._group_maxima(docs, values) if self.shared else (values, found)
            if n_groups >= want or not level:
                return sorted(values, reverse=True), n_groups
            need = found + 2 * (want - n_groups)  # groups shared too many candidates: go deeper

    def _level(self, start: int, end: int, need: int, top_level: int) -> int:
        """The highest level (high byte) that at least ``need`` impacts of the list reach, by bisection."""
        high, low, above = self.high[start:end], 0, top_level + 1  # every impact reaches 0, none top_level + 1
        while above - low > 1:
            middle = (low + above) // 2
            if high.translate(self.at_least[middle]).count(1) >= need:
                low = middle
            else:
                above = middle
        return low

    def _at_least(self, start: int, end: int, level: int) -> tuple:
        """Impacts and documents of the list's postings whose high byte reaches ``level``."""
        if not level:
            return self.impacts[start:end], self.docs[start:end]
        places = list(compress(range(start, end), self.high[start:end].translate(self.at_least[level])))
        return list(map(self.impacts.__getitem__, places)), list(map(self.docs.__getitem__, places))

    def _group_maxima(self, docs, values) -> tuple:
        """Each group's best of ``values`` (with 0 for the rest of a group's), and the number of groups."""
        labels = list(map(self.label_of.__getitem__, docs))
        if not self.consecutive:
            if len(set(labels)) == len(labels):
                return values, len(values)
            best = dict(sorted(zip(labels, values), key=itemgetter(1)))  # a group's last, so largest, impact
            return list(best.values()), len(best)
        repeat_at, n_groups = bytes(map(eq, labels, labels[1:])).find, len(values)
        at = repeat_at(1)
        while at >= 0:  # posting ``at`` shares a group with the next: pass the better impact on
            if values[at] > values[at + 1]:
                values[at + 1] = values[at]
            values[at], n_groups, at = 0, n_groups - 1, repeat_at(1, at + 1)
        return values, n_groups


def _bm25(postings, dfs: array, lens: array, n_docs: int, avg_len: float, params) -> tuple:
    """bm25_impact for every posting as saturation tf / (tf + K), per posting, times idf * (k1 + 1), per term.

    idf depends only on a term's document frequency and K on a document's length, so each is
    computed once per distinct value. BM25 queries need no idf: none is kept.
    """
    k1, b = params.k1, params.b
    idf_of = {df: bm25_idf(df, n_docs) for df in set(dfs)}
    factors = array("d", map(mul, map(idf_of.__getitem__, dfs), repeat(k1 + 1.0)))
    norm_of = {length: bm25_length_norm(length, avg_len, k1, b) for length in set(lens)}
    return _saturations(postings, lens, norm_of), factors, array("f")


def _saturations(postings, lens: array, norm_of: dict) -> list[float] | array:
    """tf / (tf + K) for every posting, K being its document's length norm.

    Term frequencies are small, so each length's saturations for every tf up to the largest are
    computed once (a row, item 0 unused) and a posting's is two lookups, which make no new float.
    Falls back to computing each one where the rows would outnumber the postings.
    """
    tfs, docs = postings.tfs, postings.docs
    tf_range = range(1, _tf_bound(tfs) + 1)
    if len(norm_of) * len(tf_range) > len(tfs):
        norms = list(map(norm_of.__getitem__, lens))
        return array("d", map(truediv, tfs, map(add, tfs, map(norms.__getitem__, docs))))
    row_of = {length: [0.0, *map(truediv, tf_range, map(add, tf_range, repeat(norm)))]
              for length, norm in norm_of.items()}
    rows = list(map(row_of.__getitem__, lens))
    return list(map(list.__getitem__, map(rows.__getitem__, docs), tfs))


_COMMON_TFS = bytes(range(16))


def _tf_bound(tfs: array) -> int:
    """At least the largest term frequency: the largest one above 15, found among the few such postings."""
    return max(tfs.tobytes().translate(None, _COMMON_TFS), default=len(_COMMON_TFS) - 1)


def _tfidf(postings, dfs: array, n_slots: int, n_docs: int) -> tuple[array, array, array]:
    """Cosine-normalised TF-IDF weights per posting (each term's factor is 1), and each term's idf.

    tfidf_weight(tf, idf) is sublinear_tf(tf) * idf: a table per tf times an idf per distinct
    document frequency.  Each document's weights are gathered (in C, in term order, as
    l2_norm has always seen them) to take its norm.
    """
    idf_of = {df: smooth_idf(df, n_docs) for df in set(dfs)}
    idfs = list(map(idf_of.__getitem__, dfs))
    sublinear = list(map(sublinear_tf, range(_tf_bound(postings.tfs) + 1)))
    weights = array("d", map(mul, map(sublinear.__getitem__, postings.tfs), _per_posting(idfs, dfs)))
    by_doc: list[list[float]] = [[] for _ in range(n_slots)]
    consume(map(list.append, map(by_doc.__getitem__, postings.docs), weights))
    norms = list(map(l2_norm, by_doc))
    del by_doc
    parts = array("d", map(truediv, weights, map(norms.__getitem__, postings.docs)))
    return parts, array("d", repeat(1.0, len(dfs))), array("f", idfs)
