"""Index building's C-level pipelines give exactly what plain per-posting loops give."""
from __future__ import annotations

import random
from array import array
from collections import Counter

import pytest
from hypothesis import given, settings, strategies as st

from tfidf.postings import MAX_TF, Postings, doc_typecode
from tfidf.scoring import ScoringParams, bm25_idf, bm25_impact, bm25_length_norm
from tfidf.vocabulary import Vocabulary
from tfidf.weights import FLOOR_DEPTHS, LEVELS, bm25_part, compute_weights, split_terms, term_floors


def _reference_lists(batches: list[list[tuple[int, dict[int, int]]]], alive: bytearray) -> dict[int, list]:
    """term -> [(doc, tf)] of the live documents: what the merged arrays must hold."""
    lists: dict[int, list] = {}
    for batch in batches:
        for doc, counts in batch:
            for term, tf in counts.items():
                if alive[doc]:
                    lists.setdefault(term, []).append((doc, min(tf, MAX_TF)))
    return lists


def _lists_of(postings: Postings) -> dict[int, list]:
    lists = {}
    for term in range(postings.n_terms):
        start, end = postings.span(term)
        if end > start:
            lists[term] = list(zip(postings.docs[start:end], postings.tfs[start:end]))
    return lists


@settings(max_examples=150, deadline=None)
@given(st.lists(st.lists(st.dictionaries(st.integers(0, 30), st.integers(1, 300), max_size=8), max_size=6),
                max_size=4),
       st.sets(st.integers(0, 40)), st.integers(0, 70_000))
def test_merges_equal_per_posting_lists(batches, dead, first_doc):
    """Pending postings folded in over several merges, with deletions and the switch to 4-byte numbers."""
    postings, n_terms, doc = Postings(), 0, first_doc
    numbered = []
    for batch in batches:
        part = []
        for counts in batch:
            postings.append(doc, list(counts), list(counts.values()))
            n_terms = max([n_terms, *(t + 1 for t in counts)])
            part.append((doc, counts))
            doc += 1
        numbered.append(part)
        alive = bytearray(b"\x01" * doc)
        for number in dead:
            if first_doc + number < doc:
                alive[first_doc + number] = 0
        postings = postings.merged(n_terms, doc, alive)
        assert postings.docs.typecode == doc_typecode(doc)
        assert _lists_of(postings) == _reference_lists(numbered, alive)
        assert postings.n_terms == n_terms and postings.pending == 0


def _reference_floors(postings: Postings, impacts: array, groups: array) -> dict[int, list[int]]:
    floors = {depth: [0] * postings.n_terms for depth in FLOOR_DEPTHS}
    for term in range(postings.n_terms):
        start, end = postings.span(term)
        best: dict[int, int] = {}
        for doc, impact in zip(postings.docs[start:end], impacts[start:end]):
            best[groups[doc]] = max(best.get(groups[doc], -1), impact)
        ranked = sorted(best.values(), reverse=True)
        for depth in FLOOR_DEPTHS:
            if len(ranked) >= depth:
                floors[depth][term] = ranked[depth - 1]
    return floors


def _random_index(seed: int, n_docs: int = 900, n_terms: int = 60) -> tuple:
    """Merged postings (three terms never occur, 100 documents deleted), lengths, alive flags and groups."""
    rng = random.Random(seed)
    postings = Postings()
    lens = array("I")
    for doc in range(n_docs):
        counts = Counter(rng.choices(range(n_terms), [1 / (t + 1) for t in range(n_terms)], k=rng.randint(1, 40)))
        postings.append(doc, list(counts), list(counts.values()))
        lens.append(sum(counts.values()))
    alive = bytearray(b"\x01" * n_docs)
    for doc in rng.sample(range(n_docs), 100):
        alive[doc] = 0
    postings = postings.merged(n_terms + 3, n_docs, alive)  # three terms that never occur
    groups = array("q", (rng.choice([doc, rng.randint(0, 40)]) for doc in range(n_docs)))
    return postings, lens, alive, groups


def test_weights_equal_the_per_posting_formulas():
    """Impacts, ceilings and floors, on groups that interleave (a group's documents need not be adjacent)."""
    postings, lens, alive, groups = _random_index(7)
    n_docs = len(lens)
    params = ScoringParams("bm25", 1.5, 0.9)
    weights = compute_weights(postings, lens, alive, groups, params)
    avg_len = sum(length for length, a in zip(lens, alive) if a) / sum(alive)
    raw = []
    for term in range(postings.n_terms):
        start, end = postings.span(term)
        idf = bm25_idf(end - start, sum(alive))
        raw += [bm25_impact(tf, idf, bm25_length_norm(lens[doc], avg_len, 1.5, 0.9), 1.5)
                for doc, tf in zip(postings.docs[start:end], postings.tfs[start:end])]
    min_df = min(end - start for start, end in map(postings.span, range(postings.n_terms)) if end > start)
    top = bm25_idf(min_df, sum(alive)) * (1.5 + 1) * (1 + 1e-9)  # the ceiling: no impact can reach it
    assert max(raw) < top
    assert list(weights.impacts) == [round(value * LEVELS / top) for value in raw]
    assert weights.scale == top / LEVELS
    assert len(weights.idf) == 0  # BM25 queries weigh terms by count: no idf kept
    assert list(weights.upper) == [max(weights.impacts[slice(*postings.span(t))], default=0)
                                   for t in range(postings.n_terms)]
    floors = term_floors(postings, weights.impacts, groups)
    assert {d: list(f) for d, f in floors.items()} == _reference_floors(postings, weights.impacts, groups)
    assert any(floors[10]) and any(floors[100])
    alone = array("q", range(n_docs))  # every group one document: no group maxima to take
    floors = term_floors(postings, weights.impacts, alone)
    assert {d: list(f) for d, f in floors.items()} == _reference_floors(postings, weights.impacts, alone)


class _Away:
    """A helper that weighs its part in this process (the seam the ingest worker plugs into), or gives up
    at ``gives_up``: when asked to weigh, or for the weights."""

    def __init__(self, gives_up: str | None = None) -> None:
        self.gives_up, self.asked = gives_up, []

    def weigh(self, postings, lens, groups, n_docs, avg_len, params, step):
        self.asked.append(postings.n_terms)
        if self.gives_up == "weigh":
            return None
        self.part, self.groups, self.step = bm25_part(postings, lens, n_docs, avg_len, params), groups, step
        return self

    def weights(self):
        return None if self.gives_up == "weights" else self.part.quantise(self.step, self.groups)


@pytest.mark.parametrize("k1", [0.0, 1.2, 100.0])
def test_no_impact_reaches_past_the_levels_whatever_k1(k1):
    """The ceiling bounds every impact: with k1 = 0 a term in one document weighs exactly the rarest idf."""
    postings = Postings(offsets=array("I", [0, 1, 3]), docs=array("H", [0, 0, 1]), tfs=array("B", [255, 1, 200]))
    lens, alive, groups = array("I", [256, 201]), bytearray(b"\x01\x01"), array("q", [0, 1])
    weights = compute_weights(postings, lens, alive, groups, ScoringParams("bm25", k1, 0.0))
    assert max(weights.impacts) <= LEVELS
    assert max(weights.impacts) == LEVELS or k1 > 0


@settings(max_examples=40, deadline=None)
@given(st.integers(0, 2**32 - 1), st.sampled_from([None, "weigh", "weights"]))
def test_weights_weighed_in_two_parts_are_the_weights_weighed_whole(seed, gives_up):
    postings, lens, alive, groups = _random_index(seed, n_docs=300, n_terms=random.Random(seed).randint(2, 80))
    params = ScoringParams("bm25", 1.2, 0.75)
    helper, meanwhile = _Away(gives_up), []
    assert compute_weights(postings, lens, alive, groups, params, helper, lambda: meanwhile.append(1)) == (
        compute_weights(postings, lens, alive, groups, params))
    assert meanwhile == ([] if gives_up == "weigh" else [1])  # the other work is done while the helper weighs
    assert 0 < helper.asked[0] < postings.n_terms  # it was given some of the lists, not all


@settings(max_examples=100, deadline=None)
@given(st.lists(st.integers(0, 50), max_size=40), st.floats(0.0, 1.0))
def test_terms_split_into_two_runs_of_whole_lists(lengths, share):
    offsets = array("I", [0])
    for length in lengths:
        offsets.append(offsets[-1] + length)
    postings = Postings(offsets=offsets, docs=array("H", range(offsets[-1])), tfs=array("B", [1]) * offsets[-1])
    first, rest = split_terms(postings, share)
    assert first.n_terms + rest.n_terms == len(lengths)
    assert first.offsets[0] == rest.offsets[0] == 0
    assert list(first.docs) + list(rest.docs) == list(postings.docs)
    assert first.docs.obj is rest.docs.obj is postings.docs  # views: the halves copy no posting
    assert list(first.tfs) + list(rest.tfs) == list(postings.tfs)
    assert [first.span(t) for t in range(first.n_terms)] == [postings.span(t) for t in range(first.n_terms)]
    cut = first.offsets[-1]
    assert [tuple(e + cut for e in rest.span(t)) for t in range(rest.n_terms)] == [
        postings.span(t) for t in range(first.n_terms, len(lengths))]


@settings(max_examples=60, deadline=None)
@given(st.integers(0, 2**32 - 1), st.sampled_from(["consecutive", "interleaved", "alone"]),
       st.sampled_from([200, 3000, LEVELS]))
def test_floors_of_long_lists_equal_the_reference(seed, grouping, top):
    """Lists long enough to be cut down to their top impacts first, impacts that crowd a few high
    bytes (or all fit in the low one), groups of consecutive documents, interleaved ones, or none."""
    rng = random.Random(seed)
    n_docs = rng.randint(400, 1500)
    postings = Postings()
    for doc in range(n_docs):
        terms = [term for term, share in enumerate((0.9, 0.6, 0.3, 0.1, 0.02)) if rng.random() < share]
        postings.append(doc, terms, [1] * len(terms))
    postings = postings.merged(6, n_docs, None)  # term 5 never occurs
    impacts = array("H", (min(top, int(rng.paretovariate(1.2) * top / 10)) for _ in postings.docs))
    if grouping == "consecutive":  # a document's chunks: runs of 1 to 6 numbers
        groups = array("q")
        while len(groups) < n_docs:
            groups.extend([len(groups)] * rng.randint(1, 6))
        groups = groups[:n_docs]
    elif grouping == "interleaved":
        groups = array("q", (rng.randrange(n_docs // 4) for _ in range(n_docs)))
    else:
        groups = array("q", range(n_docs))
    reference = _reference_floors(postings, impacts, groups)
    upper = array("H", (max(impacts[slice(*postings.span(t))], default=0) for t in range(postings.n_terms)))
    for given_upper in (None, upper):
        floors = term_floors(postings, impacts, groups, given_upper)
        assert {depth: list(floor) for depth, floor in floors.items()} == reference


def test_vocabulary_table_is_built_lazily_but_answers_at_once():
    vocabulary = Vocabulary()
    words = [f"t{i}" for i in range(3000)]
    assert vocabulary.add_all(words[:2000]) == list(range(2000))
    assert vocabulary.get("t5") == 5 and vocabulary.get("t2500") is None  # not in the table yet
    assert vocabulary.add_all(words[1500:]) == list(range(1500, 3000))
    assert vocabulary.get("t2500") == 2500  # a remembered miss is forgotten once the term exists
    vocabulary.compact()
    assert [vocabulary.get(w) for w in words] == list(range(3000))
    assert vocabulary.add("t7") == 7 and vocabulary.add("new") == 3000
    reloaded = Vocabulary(bytes(vocabulary.blob), vocabulary.offsets)  # no table: rebuilt on load
    assert reloaded.table == vocabulary.table
    assert [reloaded.get(w) for w in words + ["new"]] == list(range(3001))


def test_a_table_prepared_aside_is_the_table_compact_would_build():
    words = [f"t{i}" for i in range(5000)]
    built, aside, stale = Vocabulary(), Vocabulary(), Vocabulary()
    for vocabulary in (built, aside, stale):
        vocabulary.add_all(words[:1000])
        vocabulary.compact()
        vocabulary.add_all(words[1000:])  # the table must grow for these
    before = array("I", aside._table)  # (reading .table would insert them)
    aside.prepare_table()
    assert aside._table == before and aside.get("t4999") == 4999  # lookups go on as before meanwhile
    stale.prepare_table()
    stale.add("one more")  # the prepared table lacks it: compact builds afresh
    built.compact(), aside.compact(), stale.compact()
    assert aside.table == built.table
    assert [stale.get(w) for w in [*words, "one more"]] == list(range(5001))
