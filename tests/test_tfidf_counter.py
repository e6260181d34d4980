"""TermCounter: term-id counts straight from text equal counting the analyzer's terms, ids included."""
from __future__ import annotations

import gzip
import json
from collections import Counter

import pytest
from hypothesis import given, settings, strategies as st

from tfidf import Analyzer, IndexParams, InvertedIndex, TermCounter, dump_index
from tfidf.vocabulary import HashedVocabulary, Vocabulary

ANALYZER = Analyzer()
WORDS = ["cells", "cell's", "the", "and", "T-cells", "covid-19", "8.6-12.2", "3,000", "e.g.,", "Ünïcode",
         "naïve", "细胞分裂", "of", "growth.", "x", "it's", "well-being", "(IL-6)", "---", "α-helix", "1.5"]
texts = st.lists(st.sampled_from(WORDS) | st.text(max_size=8), max_size=30).map(" ".join)


def reference(vocabulary, text: str, heading: str | None = None, boost: int = 0) -> Counter:
    """The long way: count the terms, then give each distinct term its id (what ``InvertedIndex.add`` does)."""
    terms = Counter(ANALYZER.terms(text) + (ANALYZER.terms(heading) * boost if heading and boost > 0 else []))
    by_id: Counter = Counter()
    for term, count in terms.items():
        by_id[vocabulary.add(term)] += count
    return by_id


def vocabulary_state(vocabulary: Vocabulary) -> tuple[bytes, list[int]]:
    return bytes(vocabulary.blob), list(vocabulary.offsets)


@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(texts, st.none() | texts, st.integers(-1, 3)), max_size=8), st.integers(1, 40))
def test_counts_and_ids_equal_the_term_path(chunks, limit):
    counter, vocabulary = TermCounter(Analyzer(), Vocabulary(), limit=limit), Vocabulary()
    for text, heading, boost in chunks:
        assert counter.counts(text, heading, boost) == reference(vocabulary, text, heading, boost)
    assert vocabulary_state(counter.vocabulary) == vocabulary_state(vocabulary)  # same ids, same order


@settings(max_examples=100, deadline=None)
@given(st.lists(texts, max_size=8), st.integers(1, 64))
def test_a_hashed_vocabulary_adds_up_terms_that_share_a_bucket(chunks, buckets):
    counter, vocabulary = TermCounter(Analyzer(), HashedVocabulary(buckets)), HashedVocabulary(buckets)
    for text in chunks:
        assert counter.counts(text) == reference(vocabulary, text)


def test_stopwords_and_compounds_fold_out():
    counter = TermCounter(Analyzer(), Vocabulary())
    counts = counter.counts("the T-cells of the covid-19 cells", "T cells", boost=2)
    ids = {term: counter.vocabulary.get(term) for term in ("t", "cell", "tcell", "covid", "19", "covid19")}
    assert counts == {ids["t"]: 3, ids["cell"]: 4, ids["tcell"]: 1, ids["covid"]: 1, ids["19"]: 1, ids["covid19"]: 1}
    assert counter.vocabulary.get("the") is None


def test_the_cache_is_emptied_between_chunks_once_full():
    counter = TermCounter(Analyzer(), Vocabulary(), limit=3)
    for text in ("one two three four five covid-19 one", "well-being six covid-19", "seven"):
        assert counter.counts(text) == reference(counter.vocabulary, text)
        assert len(counter) <= 3 + len(set(text.split()))  # at most one chunk's tokens over the limit
    assert len(counter) == 1  # emptied before the last chunk


def test_an_index_fed_counts_is_byte_identical_to_one_fed_terms(shared_data):
    path = shared_data / "beir" / "scifact" / "corpus.jsonl.gz"
    if not path.is_file():
        pytest.skip("no SciFact corpus")
    with gzip.open(path, "rt", encoding="utf-8") as handle:
        records = [json.loads(line) for _, line in zip(range(300), handle)]
    by_terms, by_counts = InvertedIndex(IndexParams()), InvertedIndex(IndexParams())
    counter = by_counts.term_counter(ANALYZER)
    for key, record in enumerate(records, 1):
        by_terms.add(key, ANALYZER.terms(record["text"]) + ANALYZER.terms(record["title"]) * 2)
        by_counts.add_counts(key, counter.counts(record["text"], record["title"], 2))
    assert dump_index(by_counts, {}) == dump_index(by_terms, {})
