"""The inverted index: adds and deletes in any order score exactly like a fresh build."""
from __future__ import annotations

import json
import math
import random
from collections import Counter

import pytest
from hypothesis import given, settings, strategies as st

from tfidf import (Analyzer, IndexFormatError, IndexParams, InvertedIndex, ScoringParams, SettingsError,
                   dump_index, dump_parts, load_index)

WORDS = [f"w{i}" for i in range(12)]
PARAMS = [IndexParams(), IndexParams(ScoringParams("tfidf")), IndexParams(max_features=5)]

documents = st.lists(st.sampled_from(WORDS), min_size=0, max_size=12)
operations = st.lists(
    st.one_of(
        st.tuples(st.just("add"), documents, st.integers(0, 3)),
        st.tuples(st.just("delete"), st.integers(0, 40), st.just(0)),
        st.tuples(st.just("search"), documents, st.just(0)),
    ),
    max_size=40,
)


def _results(index: InvertedIndex, queries: list[list[str]]) -> list:
    return [
        (index.search(q, k, by_group=by_group, dense=dense))
        for q in queries for k in (1, 3, 50) for by_group in (False, True) for dense in (False, True)
    ]


def _same(a: list, b: list) -> None:
    assert len(a) == len(b)
    for hits_a, hits_b in zip(a, b):
        assert [(h.key, h.group) for h in hits_a] == [(h.key, h.group) for h in hits_b]
        for ha, hb in zip(hits_a, hits_b):
            assert math.isclose(ha.score, hb.score, rel_tol=0, abs_tol=1e-9)


@pytest.mark.parametrize("params", PARAMS, ids=["bm25", "tfidf", "hashed"])
@given(ops=operations, queries=st.lists(documents, min_size=1, max_size=4))
@settings(max_examples=60, deadline=None)
def test_any_sequence_of_adds_and_deletes_scores_like_a_fresh_build(params, ops, queries):
    index, docs, next_key = InvertedIndex(params), {}, 1
    for op, arg, group in ops:
        if op == "add":
            index.add(next_key, arg, group=group)
            docs[next_key] = (arg, group)
            next_key += 1
        elif op == "delete":
            assert index.delete(arg) == (arg in docs)
            docs.pop(arg, None)
        else:
            index.search(arg, 3)  # folds pending changes in at arbitrary points
    fresh = InvertedIndex(params)
    for key, (terms, group) in docs.items():
        fresh.add(key, terms, group=group)
    assert len(index) == len(fresh) == len(docs)
    _same(_results(index, queries), _results(fresh, queries))
    reloaded, _ = load_index(dump_index(index))
    _same(_results(reloaded, queries), _results(fresh, queries))
    for q in queries:  # both accumulators give the same answer
        for by_group in (False, True):
            _same([index.search(q, 5, by_group=by_group, dense=True)], [index.search(q, 5, by_group=by_group, dense=False)])


def test_bm25_ranks_the_rarer_term_higher_and_ties_break_by_key():
    index = InvertedIndex()
    index.add(1, ["apple", "pie"])
    index.add(2, ["apple", "tart"])
    index.add(3, ["apple", "pie"])
    index.add(4, ["banana"])
    hits = index.search(["tart", "apple"], 10)
    assert [h.key for h in hits] == [2, 1, 3]
    assert hits[1].score == hits[2].score  # identical documents: the smaller key comes first
    assert index.search(["nothing"], 5) == []


def test_groups_rank_by_their_best_member():
    index = InvertedIndex()
    index.add(1, ["x"] + ["filler"] * 30, group=10)
    index.add(2, ["x", "x", "y"], group=10)
    index.add(3, ["x", "z"], group=20)
    hits = index.search(["x", "y"], 5, by_group=True)
    assert [(h.group, h.key) for h in hits] == [(10, 2), (20, 3)]


def test_tfidf_scores_are_cosines():
    index = InvertedIndex(IndexParams(ScoringParams("tfidf")))
    index.add(1, ["a", "b"])
    index.add(2, ["c"])
    (hit,) = index.search(["a", "b"], 1)
    assert hit.key == 1 and math.isclose(hit.score, 1.0, rel_tol=1e-3)


def test_keys_must_increase_and_params_are_checked():
    index = InvertedIndex()
    index.add(5, ["a"])
    with pytest.raises(SettingsError, match="increase"):
        index.add(5, ["b"])
    with pytest.raises(SettingsError):
        ScoringParams("lsi")
    with pytest.raises(SettingsError):
        IndexParams(max_features=0)


def test_deleted_documents_never_come_back():
    index = InvertedIndex()
    index.add(1, ["secret", "plan"])
    index.add(2, ["plan"])
    assert index.delete(1) and not index.delete(1) and 1 not in index
    assert [h.key for h in index.search(["secret", "plan"], 10)] == [2]
    assert [h.key for h in load_index(dump_index(index))[0].search(["secret", "plan"], 10)] == [2]


def test_codec_keeps_meta_and_refuses_bad_bytes():
    index = InvertedIndex()
    index.add(1, Analyzer().terms("The quick brown fox"))
    data = dump_index(index, {"generation": 3})
    assert load_index(data)[1] == {"generation": 3}
    with pytest.raises(IndexFormatError, match="magic"):
        load_index(b"PK\x03\x04" + data[4:])
    with pytest.raises(IndexFormatError, match="truncated"):
        load_index(data[: len(data) - 9])


def _with_header(data: bytes, change) -> bytes:
    """``data`` with its JSON header replaced by ``change(header)``, written compactly and padded with spaces to
    its old length, so the arrays stay where they were."""
    length = int.from_bytes(data[8:12], "little")
    header = json.loads(data[12 : 12 + length])
    change(header)
    raw = json.dumps(header, separators=(",", ":")).encode()
    assert len(raw) <= length
    return data[:12] + raw.ljust(length) + data[12 + length :]


def test_an_index_read_from_an_open_file_is_the_one_read_from_its_bytes(tmp_path):
    index = InvertedIndex()
    for key, text in enumerate(["cells divide", "the cells of mice", "mice divide fast", "fast cells"], 1):
        index.add(key, Analyzer().terms(text), group=key % 2)
    data = dump_index(index, {"generation": 9})
    (tmp_path / "index.tfidx").write_bytes(data)
    with open(tmp_path / "index.tfidx", "rb") as snapshot:
        from_file, meta = load_index(snapshot)
    assert meta == {"generation": 9} and dump_index(from_file, meta) == data
    query = Analyzer().terms("cells divide fast")
    assert from_file.search(query, 10, by_group=True) == load_index(data)[0].search(query, 10, by_group=True)
    (tmp_path / "short.tfidx").write_bytes(data[:-9])
    with open(tmp_path / "short.tfidx", "rb") as snapshot, pytest.raises(IndexFormatError, match="truncated"):
        load_index(snapshot)


def test_a_header_declaring_more_than_the_file_holds_is_refused_before_anything_is_allocated():
    index = InvertedIndex()
    index.add(1, ["plan"])
    data = dump_index(index)

    def huge(header):
        header["arrays"][0][2] = 1 << 60  # 8 EiB of offsets: reading would need the memory first

    def unknown_type(header):
        header["arrays"][0][1] = "Z"

    assert load_index(_with_header(data, lambda header: None))[0].search(["plan"], 1)[0].key == 1
    with pytest.raises(IndexFormatError, match="truncated"):
        load_index(_with_header(data, huge))
    with pytest.raises(IndexFormatError, match="corrupt"):
        load_index(_with_header(data, unknown_type))
    for broken in (lambda h: h.pop("weights"), lambda h: h.update(blob="7"), lambda h: h["params"].update(k1=None),
                   lambda h: h["params"].update(max_features=-3), lambda h: h.update(arrays=[["docs"]])):
        with pytest.raises(IndexFormatError, match="corrupt"):  # parses as JSON, does not describe an index
            load_index(_with_header(data, broken))


def test_stats_count_postings_and_bytes():
    index = InvertedIndex()
    for key in range(1, 101):
        index.add(key, [f"t{key % 7}", f"u{key % 13}", "common"])
    stats = index.stats()
    assert (stats.documents, stats.terms, stats.postings) == (100, 21, 300)
    assert 0 < stats.bytes_per_posting < 200


def test_stored_impacts_follow_the_named_bm25_formula():
    from tfidf.scoring import bm25_idf, bm25_impact, bm25_length_norm
    from tfidf.weights import LEVELS

    params = ScoringParams("bm25", k1=1.5, b=0.9)
    index = InvertedIndex(IndexParams(params))
    docs = {1: ["a", "a", "b"], 2: ["a"] + ["c"] * 7, 3: ["b", "d"]}
    for key, terms in docs.items():
        index.add(key, terms)
    weights = index.refresh()
    avg = sum(map(len, docs.values())) / 3
    expected = {(key, t): bm25_impact(terms.count(t), bm25_idf(sum(t in d for d in docs.values()), 3),
                                      bm25_length_norm(len(terms), avg, 1.5, 0.9), 1.5)
                for key, terms in docs.items() for t in set(terms)}
    top = bm25_idf(1, 3) * (1.5 + 1) * (1 + 1e-9)  # the ceiling: "c" and "d" occur once
    assert weights.scale == top / LEVELS
    for (key, term), value in expected.items():
        tid = index.vocabulary.get(term)
        start, end = index.postings.span(tid)
        number = list(index.postings.docs[start:end]).index(key - 1) + start
        assert weights.impacts[number] == round(value * LEVELS / top)


def test_dense_vectors_left_to_the_first_search_rank_the_same():
    rng = random.Random(11)
    vocabulary = [f"t{i}" for i in range(300)]
    eager, lazy = InvertedIndex(), InvertedIndex()
    for key in range(1, 1201):
        terms = rng.choices(vocabulary, [1 / (r + 1) for r in range(300)], k=rng.randint(5, 40))
        eager.add(key, terms)
        lazy.add(key, terms)
    eager.apply(eager.prepare())
    lazy.apply(lazy.prepare(dense=False))
    assert lazy._dense is None and eager.dense_vectors.vectors  # none built yet; the other has them
    for query in (["t0", "t1", "t2"], ["t0", "t250"], ["t5"] * 3):
        assert lazy.search(query, 10, dense=None) == eager.search(query, 10, dense=None)
    assert lazy.dense_vectors == eager.dense_vectors


def _exhaustive(index: InvertedIndex, terms: list[str], k: int, by_group: bool) -> list[tuple[int, int]]:
    """Every document scored with no pruning at all: the reference the pruned search must equal."""
    weights = index.refresh()
    scores: dict[int, int] = {}
    for term, count in Counter(terms).items():
        tid = index.vocabulary.get(term)
        if tid is None:
            continue
        start, end = index.postings.span(tid)
        for doc, impact in zip(index.postings.docs[start:end], weights.impacts[start:end]):
            scores[doc] = scores.get(doc, 0) + count * impact
    if by_group:
        best: dict[int, tuple[int, int]] = {}
        for doc, score in scores.items():
            group = index.groups[doc]
            if group not in best or (-score, index.keys[doc]) < (-best[group][1], index.keys[best[group][0]]):
                best[group] = (doc, score)
        scores = dict(best.values())
    ranked = sorted(scores.items(), key=lambda ds: (-ds[1], index.keys[ds[0]]))[:k]
    return [(index.keys[d], s) for d, s in ranked]


def test_pruned_search_equals_exhaustive_scoring_on_a_zipf_corpus():
    rng = random.Random(7)
    vocabulary = [f"t{i}" for i in range(400)]
    weights = [1 / (rank + 1) for rank in range(len(vocabulary))]
    index = InvertedIndex()
    for key in range(1, 1501):
        index.add(key, rng.choices(vocabulary, weights, k=rng.randint(5, 60)), group=(key + 2) // 3)
    index.refresh()
    assert max(index.refresh().floors[10]) > 0  # the floors really prune here
    assert index.dense_vectors.vectors  # and the common terms have dense vectors
    scale = index.refresh().scale
    dense_queries = 0
    for _ in range(40):
        query = rng.choices(vocabulary, weights, k=rng.randint(1, 12))
        dense_queries += _takes_the_dense_path(index, query)
        for k in (10, 100):
            for by_group in (False, True):
                expected = _exhaustive(index, query, k, by_group)
                for dense in (None, False, True):  # None: dense vectors for the common terms
                    got = [(h.key, round(h.score / scale)) for h in index.search(query, k, by_group=by_group, dense=dense)]
                    assert got == expected
    assert dense_queries >= 10  # the big-integer path really ran


def _takes_the_dense_path(index: InvertedIndex, query: list[str]) -> bool:
    from tfidf.search import _dense_ready, make_plan, query_weights

    weights = index.refresh()
    ids = [t for t in map(index.vocabulary.get, query) if t is not None]
    plan = make_plan(weights, query_weights(ids, weights, "bm25")[0])
    return _dense_ready(plan, index.dense_vectors, index.postings)


def test_a_stale_ok_search_reads_the_last_refresh_and_never_shows_a_deleted_document():
    index = InvertedIndex()
    index.add(1, ["otter", "river"])
    index.add(2, ["otter", "sea"])
    index.refresh()
    index.add(3, ["otter", "lake"])
    index.delete(2)
    assert [h.key for h in index.search(["otter"], 10, stale_ok=True)] == [1]  # 3 not merged yet, 2 gone
    prepared = index.prepare()
    assert [h.key for h in index.search(["otter"], 10, stale_ok=True)] == [1]  # preparing changes nothing
    index.apply(prepared)
    assert [h.key for h in index.search(["otter"], 10, stale_ok=True)] == [1, 3]
    assert [h.key for h in index.search(["otter"], 10)] == [1, 3]


def test_tfidf_queries_whose_weights_overflow_a_dense_field_fall_back_and_stay_exact():
    rng = random.Random(11)
    vocabulary = [f"t{i}" for i in range(300)]
    zipf = [1 / (rank + 1) for rank in range(len(vocabulary))]
    index = InvertedIndex(IndexParams(ScoringParams("tfidf")))
    for key in range(1, 1301):
        index.add(key, rng.choices(vocabulary, zipf, k=rng.randint(5, 50)))
    index.refresh()
    assert index.dense_vectors.vectors
    for _ in range(30):
        query = rng.choices(vocabulary, zipf, k=rng.randint(1, 8))
        for k in (10, 100):
            expected = index.search(query, k, dense=False)
            assert index.search(query, k) == expected == index.search(query, k, dense=True)


def test_dump_parts_are_views_of_the_index_released_on_exit_even_after_an_error():
    index = InvertedIndex()
    index.add(1, ["cells", "divide"])
    with dump_parts(index, {"generation": 1}) as parts:
        assert b"".join(parts) == dump_index(index, {"generation": 1})
        assert any(isinstance(part, memoryview) and part.obj is index.postings.docs for part in parts)
    with pytest.raises(OSError), dump_parts(index) as parts:
        raise OSError("disk full")  # a write that fails halfway
    index.add(2, ["cells", "grow"])  # the arrays can grow again: no view of them is left
    index.delete(1)
    assert [h.key for h in load_index(dump_index(index))[0].search(["cells"], 10)] == [2]
