"""Dense vectors: big-integer sums must equal per-posting sums, and thresholds must be exact."""
from __future__ import annotations

import random
from array import array

import pytest

from tfidf.dense import FIELD, TOP_BIT, build_dense
from tfidf.postings import Postings


def _postings(lists: list[list[tuple[int, int]]]) -> tuple[Postings, array]:
    """Postings (and impacts) from per-term lists of (document, impact)."""
    offsets, docs, impacts = array("I", [0]), array("H"), array("H")
    for postings in lists:
        for doc, impact in sorted(postings):
            docs.append(doc)
            impacts.append(impact)
        offsets.append(len(docs))
    return Postings(offsets=offsets, docs=docs, tfs=array("B", [1]) * len(docs)), impacts


@pytest.mark.parametrize("n_docs", [1024, 1501])  # an odd count leaves the last even field alone
def test_bundled_big_integer_sums_equal_per_posting_sums(n_docs):
    rng = random.Random(n_docs)
    lists = [[(d, rng.randint(1, 20_000)) for d in rng.sample(range(n_docs), rng.randint(n_docs // 4, n_docs))]
             for _ in range(6)]
    postings, impacts = _postings(lists)
    vectors = build_dense(postings, impacts, n_docs, budget_share=100.0)
    assert sorted(vectors.vectors) == list(range(6))
    for weights in ([1] * 6, [1, 2, 1, 3, 1, 1], [2] * 6):
        terms = [(max(i for _, i in lists[t]) * qw, t, qw) for t, qw in enumerate(weights)]
        assert all(ceiling < FIELD for ceiling, _, _ in terms)
        expected = [0] * n_docs
        for (_, t, qw) in terms:
            for doc, impact in lists[t]:
                expected[doc] += qw * impact
        assert vectors.fields(*vectors.total(terms)).tolist() == expected


def test_at_least_finds_exactly_the_documents_reaching_the_threshold():
    rng = random.Random(3)
    n_docs = 1200
    postings, impacts = _postings([[(d, 1) for d in range(0, n_docs, 7)]])
    vectors = build_dense(postings, impacts, n_docs, budget_share=100.0)
    scores = array("I", [rng.choice([0, 1, rng.randint(0, TOP_BIT - 1)]) for _ in range(n_docs)])
    scores[-1], scores[0] = TOP_BIT - 1, TOP_BIT - 1
    total = vectors.to_int(scores)
    for threshold in (1, 2, TOP_BIT - 1, *rng.sample(range(1, TOP_BIT), 20)):
        assert vectors.at_least(total, threshold) == [d for d, s in enumerate(scores) if s >= threshold]


def test_small_indexes_and_short_lists_get_no_vectors():
    postings, impacts = _postings([[(d, 5) for d in range(500)]])
    assert not build_dense(postings, impacts, 500, budget_share=100.0).vectors  # too few documents
    postings, impacts = _postings([[(d, 5) for d in range(0, 2000, 20)]])  # in 1/20 of them
    assert not build_dense(postings, impacts, 2000, budget_share=100.0).vectors
