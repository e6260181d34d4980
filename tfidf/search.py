"""Query evaluation: term-at-a-time with MaxScore pruning, then the top k above a floor.

Terms are visited from the highest ceiling (largest impact in the list) down.
Once the ceilings of the terms still to come add up to less than the current
k-th best score, no document outside the candidates can reach the top k: the
remaining (long, low-weight) lists only update candidates, filtered in C by
``itertools.compress``.  Scores are integer sums, so this is exact
and the order of terms cannot change a result.  The floor (a lower bound on
the k-th score, from heaps: each term's k-th best impact, then the k-th best
partial score) drops most candidates; the few left are sorted once.
"""
from __future__ import annotations

import heapq
from array import array
from collections import Counter, namedtuple
from itertools import compress, repeat
from operator import itemgetter, mul

from .dense import FIELD, TOP_BIT
from .scoring import l2_norm, sublinear_tf


Hit = namedtuple("Hit", "key group score")
Hit.__doc__ = "A search result: the caller's document key, its group (itself when ungrouped), its score."


QUERY_LEVELS = 0xFFFF
SAMPLE = 2  # documents (times k) whose scores suggest the k-th best in the dense path
DENSE_PAYS = 4  # the dense path needs its terms to hold >= 1/4 as many postings as there are documents
DENSE_SHARE = 8  # a query reading more than 1/8 as many postings as there are documents sums densely


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


def _add_into(acc, docs, imps, qw) -> None:
    """Add a posting list (times ``qw``) into scores indexed by document: a list or an array."""
    if qw == 1:
        for doc, w in zip(docs, imps):
            acc[doc] += w
    else:
        for doc, w in zip(docs, imps):
            acc[doc] += qw * w


def _add_to_candidates(acc: dict, docs, imps, qw) -> None:
    for doc, w in compress(zip(docs, imps), map(acc.__contains__, docs)):
        acc[doc] += qw * w


def _threshold(acc: dict, k: int, groups) -> int:
    """The k-th best score so far among distinct groups (0 when there are fewer)."""
    if len(acc) < k:
        return 0
    if groups is None:
        return heapq.nlargest(k, acc.values())[-1]
    seen: set = set()
    for doc, score in sorted(acc.items(), key=itemgetter(1), reverse=True):
        seen.add(groups[doc])
        if len(seen) == k:
            return score
    return 0


def initial_floor(weights, qweights: list[tuple[int, int]], k: int) -> int:
    """A lower bound on the k-th best score before any list is read: one term's k-th best impact."""
    depth = next((d for d in sorted(weights.floors) if d >= k), None)
    if depth is None:
        return 0
    floors = weights.floors[depth]
    return max((floors[t] * qw for t, qw in qweights), default=0)


def make_plan(weights, qweights: list[tuple[int, int]]) -> list[tuple[int, int, int]]:
    """(ceiling, term, weight) per query term, highest ceiling first."""
    return sorted(((weights.upper[t] * qw, t, qw) for t, qw in qweights if weights.upper[t]), reverse=True)


def accumulate_dense(postings, weights, plan: list, floor: int, n_slots: int) -> tuple[list[int], list]:
    """Documents scoring at least ``floor``, and the scores (indexed by document), summed in a list.

    For queries that read a large share of the index: list indexing beats a
    dict by ~20%; the documents touched are collected per list with a C-level
    ``set.update``.
    """
    remaining = sum(ceiling for ceiling, _, _ in plan)
    acc, touched = [0] * n_slots, set()
    pruning = False
    for ceiling, term, qw in plan:
        start, end = postings.span(term)
        docs, imps = postings.docs[start:end], weights.impacts[start:end]
        remaining -= ceiling
        if pruning:  # only documents already scored can still reach the top
            for doc, w in compress(zip(docs, imps), map(acc.__getitem__, docs)):
                acc[doc] += qw * w
            continue
        touched.update(docs)
        _add_into(acc, docs, imps, qw)
        pruning = remaining < floor
    return [d for d in touched if acc[d] >= floor], acc


def accumulate(postings, weights, plan: list, floor: int, k: int, groups=None) -> tuple[dict, int]:
    """Scores of every document that can still reach the top k, and the floor it must reach.

    ``floor`` starts as a known lower bound on the k-th best score (of
    distinct ``groups`` when given) and rises as partial scores come in.
    """
    remaining = sum(ceiling for ceiling, _, _ in plan)
    acc: dict = {}
    pruning, tries = False, 2
    for ceiling, term, qw in plan:
        start, end = postings.span(term)
        docs, imps = postings.docs[start:end], weights.impacts[start:end]
        remaining -= ceiling
        if pruning:
            _add_to_candidates(acc, docs, imps, qw)
            continue
        _add_all(acc, docs, imps, qw)
        if tries and floor <= remaining < plan[0][0] and len(acc) >= k:  # partials may now beat the rest
            tries -= 1
            floor = max(floor, _threshold(acc, k, groups))
        if remaining < floor:  # nothing outside acc can reach the top any more
            acc = {d: s for d, s in acc.items() if s + remaining >= floor}
            pruning = True
    return acc, floor


def top_k(docs, scores, k: int, groups=None) -> list[tuple[int, int]]:
    """The ``k`` best (document number, score), one per group if ``groups``; ties to the smaller number.

    ``scores`` maps a document to its score (a list, array or dict). Document numbers grow
    with the caller's keys, so ties go to the smaller key. One C-level sort by number, a
    stable one by score, then a walk that stops once ``k`` groups are chosen.
    """
    docs = sorted(docs)
    values = _values(scores, docs)
    chosen: list[tuple[int, int]] = []
    seen: set = set()
    for i in sorted(range(len(docs)), key=values.__getitem__, reverse=True):  # stable: ties stay in order
        doc = docs[i]
        group = doc if groups is None else groups[doc]
        if group not in seen:
            seen.add(group)
            chosen.append((doc, values[i]))
            if len(chosen) == k:
                break
    return chosen


def accumulate_mixed(postings, weights, plan: list, vectors) -> tuple[array, list]:
    """Scores by document: dense terms (see :mod:`tfidf.dense`) by big-integer adds, the rest per posting.

    Also returns the sparse terms' lists, highest ceiling first.
    """
    dense, sparse = [], []
    for ceiling, term, qw in plan:
        if ceiling < FIELD and term in vectors.vectors:
            dense.append((ceiling, term, qw))
        else:
            start, end = postings.span(term)
            sparse.append((postings.docs[start:end], weights.impacts[start:end], qw))
    acc = vectors.fields(*vectors.total(dense))
    for docs, imps, qw in sparse:
        _add_into(acc, docs, imps, qw)
    return acc, [docs for docs, _, _ in sparse]


def _guess_kth(acc: array, lists: list, k: int, groups, alive) -> int:
    """A lower bound on the k-th best group score, from the documents of the first lists (the likeliest winners).

    With ``d`` of those documents sharing a group with another, the (k + d)-th best of their
    scores is reached by at least k distinct groups, so the k-th best overall is as high.
    """
    sample: set = set()
    for docs in lists:
        sample.update(docs)
        if len(sample) >= SAMPLE * k:
            break
    docs = list(sample) if alive is None else [d for d in sample if alive[d]]
    depth = k + (len(docs) - len(set(_values(groups, docs))) if groups is not None else 0)
    return sorted(_values(acc, docs), reverse=True)[depth - 1] if len(docs) >= depth else 0


def _top_mixed(index, weights, plan, floor, k, vectors, groups, alive) -> list[tuple[int, int]] | None:
    """The top ``k`` when some query terms have dense vectors, or None when this way cannot tell.

    Every document scoring at least a threshold (a guess from the likeliest winners, or the
    floor) is found at once by :meth:`DenseVectors.at_least`.  If they span ``k`` groups the
    result is exact: the k-th best group scores at least the threshold, so no document that
    belongs in the top ``k`` was left out.
    """
    acc, lists = accumulate_mixed(index.postings, weights, plan, vectors)
    scores, tried = vectors.to_int(acc), 0
    for threshold in (max(floor, _guess_kth(acc, lists, k, groups, alive)), floor):
        if threshold <= 0 or threshold == tried:
            continue
        tried = threshold
        docs = vectors.at_least(scores, threshold)
        best = top_k(docs if alive is None else [d for d in docs if alive[d]], acc, k, groups)
        if len(best) == k:
            return best
    return None


def _values(scores, docs: list) -> tuple | list:
    """``scores[d]`` for each of ``docs``, fetched in C (a tuple or a list: both index fast)."""
    if len(docs) > 1:
        return itemgetter(*docs)(scores)
    return [scores[d] for d in docs]


def _dense_ready(plan: list, vectors, postings) -> bool:
    """Whether the dense path pays: its terms spare enough postings, and no field can overflow.

    Its fixed cost (a few passes over a field per document) is worth ~1/DENSE_PAYS postings per
    document, so the dense terms must hold at least that many between them.
    """
    if vectors is None or not vectors.vectors or sum(c for c, _, _ in plan) >= TOP_BIT:
        return False
    offsets = postings.offsets
    spared = sum(offsets[t + 1] - offsets[t] for c, t, _ in plan if c < FIELD and t in vectors.vectors)
    return spared * DENSE_PAYS >= vectors.n_docs


def search_index(index, weights, term_ids: list[int], k: int, *, by_group: bool, dense: bool | None = None,
                 alive: bytearray | None = None, vectors=None) -> list[Hit]:
    """The top ``k`` hits, best first; ties broken by key so results are reproducible.

    ``dense`` picks the accumulator (None: dense vectors when the query has terms that own
    one, else by how much of the index the query reads); ``alive``, when given, leaves out
    documents deleted since the weights were derived.
    """
    if k <= 0 or not term_ids or not weights.n_docs:
        return []
    qweights, query_scale = query_weights(term_ids, weights, index.params.scoring.scoring)
    plan, floor = make_plan(weights, qweights), initial_floor(weights, qweights, k)
    grouping = index.groups if by_group else None
    best = None
    if dense is None and _dense_ready(plan, vectors, index.postings):
        best = _top_mixed(index, weights, plan, floor, k, vectors, grouping, alive)
    if best is None:
        best = _top_sparse_or_dense(index, weights, plan, floor, k, dense, by_group, alive)
    scale, keys, groups = weights.scale * query_scale, index.keys, index.groups
    docs, scores = [d for d, _ in best], [s for _, s in best]
    rows = zip(map(keys.__getitem__, docs), map(groups.__getitem__, docs), map(mul, scores, repeat(scale)))
    return list(map(tuple.__new__, repeat(Hit), rows))  # Hit._make without a Python call per hit


def _top_sparse_or_dense(index, weights, plan, floor, k, dense, by_group, alive) -> list[tuple[int, int]]:
    n_slots = len(index.keys)
    reads = sum(end - start for start, end in (index.postings.span(t) for _, t, _ in plan))
    if dense if dense is not None else reads * DENSE_SHARE > n_slots:
        docs, scores = accumulate_dense(index.postings, weights, plan, floor, n_slots)
    else:
        grouping = index.groups if by_group and index.max_group_size() > 1 else None
        scores, floor = accumulate(index.postings, weights, plan, floor, k, grouping)
        docs = [d for d, s in scores.items() if s >= floor] if floor else scores
    if alive is not None:
        docs = [d for d in docs if alive[d]]
    return top_k(docs, scores, k, index.groups if by_group else None)
