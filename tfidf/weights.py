"""Impacts: the per-posting weights a model derives from the collection statistics.

Each impact is quantised to 16 bits against a top, so a document's score is an
exact integer sum (times ``scale``): the order in which terms are added cannot
change it, which keeps pruning safe and makes an index that saw any sequence of
adds and deletes score exactly like one built from its survivors.  Recomputed,
lazily, whenever the collection changes.

Under BM25 the top is a ceiling known before any posting is weighed
(:func:`~tfidf.scoring.bm25_ceiling`, from the document count and the shortest
list: within 9% of the largest impact on the shared collections), and each list
is weighed on its own: bulk ingestion hands half the lists to its worker process
and weighs the other half meanwhile, with nothing to agree on midway (see
:func:`compute_weights`'s ``helper``).  TF-IDF's top is its largest impact.
"""
from __future__ import annotations

import sys
from array import array
from bisect import bisect_left
from collections import namedtuple
from collections.abc import Callable
from functools import partial
from itertools import chain, compress, repeat
from operator import add, mul, truediv

from .floors import FLOOR_DEPTHS, list_lengths, term_floors
from .postings import Postings, consume
from .scoring import ScoringParams, bm25_ceiling, bm25_idf, bm25_length_norm, l2_norm, smooth_idf, sublinear_tf

LEVELS = 0xFFFF
WEIGHTS_VERSION = 2  # bump when the same postings would weigh differently (2: BM25's top is a ceiling)
TERM_COST = 1.75  # weighing a list costs about as much as this many postings, on top of its postings
HERE_SHARE = 0.45  # of the weighing done here while a helper weighs the rest (this side also builds the table)
__all__ = ["FLOOR_DEPTHS", "LEVELS", "WEIGHTS_VERSION", "Weights", "WeighingPart", "bm25_part", "compute_weights",
           "split_terms", "term_floors"]


class Weights(namedtuple("Weights", "impacts upper floors idf scale n_docs avg_len")):
    """Derived, read-only weights: a quantised impact per posting, a ceiling (and for TF-IDF an idf) per term.

    impacts: 'H' array parallel to postings.docs; upper: per term, the largest
    impact in its list; floors: depth -> per term, its depth-th best impact over
    distinct groups; idf: per term under TF-IDF, whose query weights need it (empty under BM25,
    where a query term weighs its count); scale: score = sum of impacts * scale.
    """

    __slots__ = ()


class WeighingPart:
    """Posting lists whose raw impacts are a part per posting times a factor per term.

    A positive factor, scaling and rounding never reverse an order, so a list's largest part
    times its factor is its largest raw impact, its peak (TF-IDF's top comes from the peaks), and
    its largest quantised impact is its peak quantised: the ceilings are read off the impacts.
    Each posting is multiplied out, scaled and rounded in one pass, so BM25's parts, which need
    no peaks, are streamed and never held (at 10 million postings, 80 MB less at the peak).
    """

    def __init__(self, postings, parts, factors: array, lengths: array) -> None:
        """``parts``: a sequence, or an iterator read once by :meth:`quantise` (then :meth:`peaks` is not
        available); ``lengths``: each list's length (its term's document frequency), as the model had them."""
        self.postings, self.parts, self.factors, self.lengths = postings, parts, factors, lengths
        self._peaks: array | None = None

    def peaks(self) -> array:
        """Each list's largest raw impact ('d')."""
        if self._peaks is None:
            maxima = _list_maxima(self.postings.offsets, self.lengths, self.parts, 0.0)
            self._peaks = array("d", map(mul, maxima, self.factors))
        return self._peaks

    def quantise(self, step: float, groups: array) -> tuple[array, array, dict[int, array]]:
        """Impacts, ceilings and floors at ``step`` (the parts are dropped: call once)."""
        per_posting = _per_posting(self.factors, self.lengths)
        wide = array("I", map(float.__round__, map(mul, map(mul, self.parts, per_posting), repeat(step))))
        self.parts = None  # before the 2-byte copy is made
        impacts = _narrow(wide)
        del wide
        upper = array("H", _list_maxima(self.postings.offsets, self.lengths, impacts, 0))
        return impacts, upper, term_floors(self.postings, impacts, groups, upper, self.lengths)


def bm25_part(postings, lens: array, n_docs: int, avg_len: float, params: ScoringParams,
              lengths: array | None = None) -> WeighingPart:
    """The BM25 weighing of ``postings`` (all of an index's lists, or a run of them: see :func:`split_terms`);
    ``lengths``, the lists' lengths if the caller has them."""
    lengths = list_lengths(postings.offsets) if lengths is None else lengths
    parts, factors = _bm25(postings, lengths, lens, n_docs, avg_len, params)
    return WeighingPart(postings, parts, factors, lengths)


def split_terms(postings, share: float = 0.5) -> tuple[Postings, Postings]:
    """The lists of the first terms and those of the rest, the first holding about ``share`` of the work;
    their documents and term frequencies are read-only views of ``postings``' arrays.

    Weighing costs about one unit a posting plus TERM_COST a list (measured on SciFact).
    """
    offsets, n_terms = postings.offsets, postings.n_terms
    work = partial(_work_before, offsets)
    term = bisect_left(range(n_terms + 1), share * work(n_terms), key=work)
    cut = offsets[term]
    rest = offsets[term:]
    consume(map(rest.__setitem__, range(len(rest)), map(int.__sub__, rest, repeat(cut))))
    docs, tfs = memoryview(postings.docs), memoryview(postings.tfs)  # the halves are views: no copy of the lists
    return (Postings(offsets=offsets[: term + 1], docs=docs[:cut], tfs=tfs[:cut]),
            Postings(offsets=rest, docs=docs[cut:], tfs=tfs[cut:]))


def _work_before(offsets: array, term: int) -> float:
    return offsets[term] + TERM_COST * term


def compute_weights(postings, lens: array, alive: bytearray, groups: array, params: ScoringParams,
                    helper=None, while_away: Callable[[], None] | None = None) -> Weights:
    """Impacts for every posting under ``params`` (BM25 or cosine TF-IDF).

    ``helper`` (used under BM25): weighs some of the lists elsewhere meanwhile. ``helper.weigh(postings,
    lens, groups, n_docs, avg_len, params, step)`` starts a part and gives a handle whose ``weights()``
    gives what :meth:`WeighingPart.quantise` would; a None from either means it gave up, and that
    part is weighed here.  The weights are the same either way.  ``while_away``: other work, done
    here while the helper weighs (if it took a part).
    """
    n_docs = sum(alive)
    total = sum(compress(lens, alive))
    avg_len = total / n_docs if n_docs else 0.0
    lengths = list_lengths(postings.offsets)
    if params.scoring != "bm25":
        parts, factors, idf = _tfidf(postings, lengths, len(lens), n_docs)
        part = WeighingPart(postings, parts, factors, lengths)
        return _weighed(part, max(part.peaks(), default=0.0) or 1.0, groups, idf, n_docs, avg_len)
    top = bm25_ceiling(min(filter(None, lengths), default=1), n_docs, params.k1)
    step = LEVELS / top
    weigh = partial(bm25_part, lens=lens, n_docs=n_docs, avg_len=avg_len, params=params)
    if helper is None or postings.n_terms < 2:
        return _weighed(weigh(postings, lengths=lengths), top, groups, array("f"), n_docs, avg_len)
    mine, theirs = split_terms(postings, HERE_SHARE)
    away = helper.weigh(theirs, lens=lens, groups=groups, n_docs=n_docs, avg_len=avg_len, params=params, step=step)
    if away is not None and while_away is not None:
        while_away()
    impacts, upper, floors = weigh(mine, lengths=lengths[: mine.n_terms]).quantise(step, groups)
    rest = ((away.weights() if away is not None else None)
            or weigh(theirs, lengths=lengths[mine.n_terms :]).quantise(step, groups))
    impacts += rest[0]
    upper += rest[1]
    floors = {depth: floor + rest[2][depth] for depth, floor in floors.items()}
    return Weights(impacts, upper, floors, array("f"), top / LEVELS, n_docs, avg_len)


def _weighed(part: WeighingPart, top: float, groups: array, idf: array, n_docs: int, avg_len: float) -> Weights:
    impacts, upper, floors = part.quantise(LEVELS / top, groups)
    return Weights(impacts, upper, floors, idf, top / LEVELS, n_docs, avg_len)


def _list_maxima(offsets: array, lengths: array, values, empty: float | int) -> map:
    """Each term's largest value in ``values`` (a posting-parallel sequence); ``empty`` for an empty list."""
    some_empty = 0 in lengths  # lists whose documents were all deleted
    return map(partial(max, default=empty) if some_empty else max, _lists(offsets, values))


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


def _bm25(postings, dfs: array, lens: array, n_docs: int, avg_len: float, params) -> tuple:
    """bm25_impact for every posting as saturation tf / (tf + K), per posting, times idf * (k1 + 1), per term.

    idf depends only on a term's document frequency and K on a document's length, so each is
    computed once per distinct value. BM25 queries need no idf: none is kept (see compute_weights).
    """
    k1, b = params.k1, params.b
    idf_of = {df: bm25_idf(df, n_docs) for df in set(dfs)}
    factors = array("d", map(mul, map(idf_of.__getitem__, dfs), repeat(k1 + 1.0)))
    norm_of = {length: bm25_length_norm(length, avg_len, k1, b) for length in set(lens)}
    return _saturations(postings, lens, norm_of), factors


def _saturations(postings, lens: array, norm_of: dict) -> map:
    """tf / (tf + K) for every posting, K being its document's length norm, as an iterator (read once).

    Term frequencies are small, so each length's saturations for every tf up to the largest are
    computed once (a row, item 0 unused) and a posting's is two lookups, which make no new float.
    Falls back to computing each one where the rows would outnumber the postings.
    """
    tfs, docs = postings.tfs, postings.docs
    tf_range = range(1, _tf_bound(tfs) + 1)
    if len(norm_of) * len(tf_range) > len(tfs):
        norms = list(map(norm_of.__getitem__, lens))
        return map(truediv, tfs, map(add, tfs, map(norms.__getitem__, docs)))
    row_of = {length: [0.0, *map(truediv, tf_range, map(add, tf_range, repeat(norm)))]
              for length, norm in norm_of.items()}
    rows = list(map(row_of.__getitem__, lens))
    return map(list.__getitem__, map(rows.__getitem__, docs), tfs)


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
