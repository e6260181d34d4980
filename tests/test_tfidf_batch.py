"""Counting apart (BatchCounter) and adding in order (IdMap) builds the index one TermCounter would, byte for byte."""
from __future__ import annotations

import pytest
from hypothesis import given, settings, strategies as st

from tfidf import Analyzer, IndexParams, InvertedIndex, SettingsError, dump_index
from tfidf.batch import BatchCounter, IdMap
from tfidf.vocabulary import Vocabulary

ANALYZER = Analyzer()
WORDS = ["cells", "cell's", "the", "and", "T-cells", "covid-19", "8.6-12.2", "3,000", "e.g.,", "Ünïcode",
         "naïve", "细胞分裂", "of", "growth.", "x", "it's", "well-being", "(IL-6)", "α-helix", "1.5", "\ud800"]
texts = st.lists(st.sampled_from(WORDS) | st.text(max_size=8), max_size=25).map(" ".join)
chunk = st.tuples(st.none() | texts, texts)
# batches of chunks, each split into a head counted by the index's own counter and a tail counted apart
batches = st.lists(st.tuples(st.lists(chunk, max_size=6), st.integers(0, 6)), max_size=6)


def sequential(params: IndexParams, preload: list, chunks: list, boost: int) -> InvertedIndex:
    index = InvertedIndex(params)
    counter = index.term_counter(ANALYZER)
    for key, (heading, text) in enumerate(preload + chunks, 1):
        index.add_counts(key, counter.counts(text, heading, boost), group=key // 2 + 1)
    return index


def shared(params: IndexParams, preload: list, plan: list, boost: int, refresh_between: bool) -> InvertedIndex:
    """The way bulk ingestion splits a batch: its head counted here, its tail apart and added after."""
    index = InvertedIndex(params)
    counter, apart, ids = index.term_counter(ANALYZER), BatchCounter(Analyzer()), IdMap(index)
    key = 0
    for heading, text in preload:
        key += 1
        index.add_counts(key, counter.counts(text, heading, boost), group=key // 2 + 1)
    if refresh_between:
        index.refresh()  # the vocabulary's table filled: new terms are looked up there first
    for chunks, head in plan:
        counted = apart.count(chunks[head:], boost)
        for heading, text in chunks[:head]:
            key += 1
            index.add_counts(key, counter.counts(text, heading, boost), group=key // 2 + 1)
        keys = range(key + 1, key + 1 + len(chunks[head:]))
        ids.add(counted, keys, [k // 2 + 1 for k in keys])
        key += len(keys)
        if refresh_between:
            index.refresh()  # new postings: the map must find its terms' pending lists again
    return index


@settings(max_examples=150, deadline=None)
@given(st.lists(chunk, max_size=4), batches, st.integers(0, 3), st.booleans(), st.sampled_from([None, 7, 64]))
def test_counting_apart_builds_the_same_index(preload, plan, boost, refresh_between, cap):
    params = IndexParams(max_features=cap)
    chunks = [c for batch, _ in plan for c in batch]
    expected = sequential(params, preload, chunks, boost)
    got = shared(params, preload, plan, boost, refresh_between)
    assert dump_index(got, {}) == dump_index(expected, {})


def test_a_batch_reports_its_new_terms_in_order_and_ids_follow_on():
    counter = BatchCounter(Analyzer())
    first = counter.count([(None, "cells divide"), ("Title", "cells grow")], boost=1)
    second = counter.count([(None, "cells and covid-19")], boost=1)
    assert first.new_terms == ["cell", "divid", "grow", "titl"]  # a chunk's text, then its heading
    assert list(first.ends) == [2, 5]
    assert second.new_terms == ["covid", "19", "covid19"]
    assert sorted(second.ids) == [0, 4, 5, 6]


@settings(max_examples=150, deadline=None)
@given(st.lists(st.lists(st.sampled_from(["a", "b", "c", "d", "é", "\ud800", "xy"]), max_size=6), max_size=6),
       st.integers(0, 5))
def test_add_all_in_bulk_numbers_terms_as_one_at_a_time(groups, compact_after):
    bulk, single = Vocabulary(), Vocabulary()
    single.get("b")  # a looked-up miss is cached: it must not hide the term once it is added
    bulk.get("b")
    for number, terms in enumerate(groups):
        assert bulk.add_all(terms) == [single.add(term) for term in terms]
        if number == compact_after:
            bulk.compact()
            single.compact()
    assert (bytes(bulk.blob), list(bulk.offsets)) == (bytes(single.blob), list(single.offsets))
    assert all(bulk.get(term) == single.get(term) for terms in groups for term in terms)


def test_a_batch_whose_keys_do_not_increase_is_refused_and_adds_no_document():
    index = InvertedIndex(IndexParams())
    counter, ids = BatchCounter(Analyzer()), IdMap(index)
    ids.add(counter.count([(None, "cells divide")], 0), [5], [5])
    for keys in ([5, 6], [7, 7]):
        with pytest.raises(SettingsError, match="must increase"):
            ids.add(counter.count([(None, "cells"), (None, "grow")], 0), keys, keys)
    assert list(index.keys) == [5] and index.postings.pending == 1 + 1  # "cells", "divid"
