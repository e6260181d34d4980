"""Term-id counts made apart from the index and added to it later: bulk ingestion's second process.

A :class:`BatchCounter` counts chunks' term ids against a vocabulary of its own
and reports, with each batch, the terms it met for the first time.  An
:class:`IdMap` turns those ids into the index's: the batch's new terms go to
the index's vocabulary in the order they were first seen, so chunks counted
apart and added in order number the terms exactly as one
:class:`~tfidf.counter.TermCounter` fed the same chunks would, and the index
they make is byte-identical.  The index may gain terms from elsewhere meanwhile
(its own counter, say): the map looks every new term up.
"""
from __future__ import annotations

from array import array
from collections import Counter, namedtuple
from collections.abc import Iterable, Sequence

from .analysis import Analyzer
from .counter import TermCounter


class CountedBatch(namedtuple("CountedBatch", "new_terms ids counts ends")):
    """Term-id counts of a batch of chunks, in a :class:`BatchCounter`'s own ids: ``new_terms``, the
    terms first met in this batch, in order (they took the next ids); ``ids``, every chunk's term
    ids end to end, and ``counts``, theirs ("I" arrays); ``ends``, where each chunk's ids end."""

    __slots__ = ()


class _LocalVocabulary(dict):
    """term -> id, dense in order of first sight; the terms added since the last batch kept in order."""

    def __init__(self) -> None:
        super().__init__()
        self.new: list[str] = []
        self.add = self.__getitem__

    def __missing__(self, term: str) -> int:
        tid = self[term] = len(self)
        self.new.append(term)
        return tid


class BatchCounter:
    """Chunks' term-id counts against a vocabulary of its own (one per ingestion)."""

    def __init__(self, analyzer: Analyzer) -> None:
        self._vocabulary = _LocalVocabulary()
        self._counts = TermCounter(analyzer, self._vocabulary).counts

    def count(self, chunks: Iterable[tuple[str | None, str]], boost: int) -> CountedBatch:
        """Counts of each (heading, text), the heading's terms counted ``boost`` more times."""
        ids, counts, ends = array("I"), array("I"), array("I")
        for heading, text in chunks:
            found = self._counts(text, heading, boost)
            ids.extend(found)
            counts.extend(found.values())
            ends.append(len(ids))
        new, self._vocabulary.new = self._vocabulary.new, []
        return CountedBatch(new, ids, counts, ends)


class IdMap:
    """A :class:`BatchCounter`'s ids -> one index's; batches are added in the order they were counted."""

    def __init__(self, index) -> None:
        self.index = index
        self._ids = array("I")  # local id -> the index's
        self._postings, self._lists = None, []  # the index's postings, and local id -> its term's pending list there

    def add(self, batch: CountedBatch, keys: Sequence[int], groups: Sequence[int]) -> None:
        """Index the batch's chunks under ``keys`` (increasing, above the index's), each in its group."""
        index = self.index
        self._ids.extend(index.vocabulary.add_all(batch.new_terms))
        if index.vocabulary.capped:  # hashed terms may share a bucket: their counts are added up
            self._add_summed(batch, keys, groups)
            return
        lists = self._pending_lists()
        index.add_to_lists(keys, groups, list(map(lists.__getitem__, batch.ids)), batch.counts, batch.ends)

    def _pending_lists(self) -> list:
        """Local id -> its term's pending list in the index's postings (found again after a refresh replaced them)."""
        postings = self.index.postings
        if postings is not self._postings:
            self._postings, self._lists = postings, []
        self._lists += postings.lists(self._ids[len(self._lists) :])
        return self._lists

    def _add_summed(self, batch: CountedBatch, keys: Sequence[int], groups: Sequence[int]) -> None:
        ids, counts, start = list(map(self._ids.__getitem__, batch.ids)), batch.counts, 0
        for key, group, end in zip(keys, groups, batch.ends):
            self.index.add_counts(key, _summed(ids[start:end], counts[start:end]), group)
            start = end


def _summed(ids: list[int], counts: array) -> Counter:
    total: Counter = Counter()
    for tid, count in zip(ids, counts):
        total[tid] += count
    return total
