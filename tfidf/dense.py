"""Dense vectors for the longest posting lists: many impacts summed by one big-integer add.

A query's common terms (those in, say, every eighth document) carry most of
its postings but little of its score.  Adding them one posting at a time is
what makes pure Python slow; instead each such term keeps its impacts as one
Python integer holding a 16-bit field per document, and a query sums them
with C-level big-integer additions over all documents at once.

Sums must not carry from one field into the next: terms are added in
bundles whose ceilings (largest impact times query weight) add up to less
than 2**16, and each bundle is then spread into 32-bit fields where the
query's totals accumulate: the even 16-bit fields into one total, the odd
ones into another.  A vector holds the first half of the documents in its
even fields and the second half in its odd ones, so the two totals are the
two halves of the scores in document order, joined by one shift.  Totals stay below
2**31, which lets one more addition find the documents whose score reaches a
threshold: add ``2**31 - threshold`` to every field and the top bit of a
field is set exactly where the score was high enough.

Memory is the price: ``2 * n_docs`` bytes a term.  Terms are chosen by
document frequency, longest first, within a budget that is a share of the
posting arrays' own size, so the vectors never dominate the index.
"""
from __future__ import annotations

import sys
from array import array
from collections import namedtuple
from itertools import accumulate, count
from operator import add

FIELD = 1 << 16  # a bundle's fields stay below this
TOP_BIT = 1 << 31  # a query's totals stay below this
MIN_DOCS = 1024  # below this, posting lists are short enough to add one by one
MIN_SHARE = 12  # a term qualifies when it is in at least 1/12 of the documents
BUDGET_SHARE = 0.5  # vectors take at most this share of the bytes the postings take
BUDGET_MAX = 8 << 20  # and at most 8 MiB, however large the index


class DenseVectors(namedtuple("DenseVectors", "vectors n_docs even ones tops")):
    """term id -> integer of 16-bit fields (its impacts, laid out by :func:`_vector`), plus three bit patterns.

    even: 0xFFFF in the low half of every 32-bit word (selects the even fields: the first half's documents);
    ones: 1 in every 32-bit field of an ``n_docs``-field total; tops: its top bits (``TOP_BIT * ones``).
    """

    __slots__ = ()

    def nbytes(self) -> int:
        """Bytes the vectors hold."""
        return 2 * self.n_docs * len(self.vectors)

    def total(self, terms: list[tuple[int, int, int]]) -> tuple[int, int]:
        """Sums of ``(ceiling, term, weight)`` as 32-bit fields: (the first half's documents', the second half's)."""
        first = second = bundle = room = 0
        for ceiling, term, qw in terms:
            vector = self.vectors[term] if qw == 1 else self.vectors[term] * qw
            if ceiling < room:
                bundle, room = bundle + vector, room - ceiling
                continue
            first, second = first + (bundle & self.even), second + ((bundle >> 16) & self.even)
            bundle, room = vector, FIELD - ceiling
        return first + (bundle & self.even), second + ((bundle >> 16) & self.even)

    def fields(self, first: int, second: int) -> array:
        """The totals from :meth:`total` as one array of scores indexed by document number."""
        joined = first + (second << (32 * _half(self.n_docs)))  # the second half's fields follow the first's
        scores = array("I", joined.to_bytes(4 * self.n_docs, "little"))
        if sys.byteorder != "little":
            scores.byteswap()
        return scores

    def to_int(self, fields: array) -> int:
        """``fields`` as one integer of 32-bit fields."""
        if sys.byteorder != "little":
            fields = array("I", fields)
            fields.byteswap()
        return int.from_bytes(fields.tobytes(), "little")

    def at_least(self, total: int, threshold: int) -> list[int]:
        """Document numbers whose field of ``total`` is at least ``threshold`` (fields < 2**31, 0 < threshold).

        Setting every field's top bit and subtracting ``threshold`` leaves the top bit set in
        exactly those fields (field + 2**31 - threshold, no borrow or carry across fields); the
        fields' top bytes (one per document) are then split at each 0x80 to find where they are.
        """
        mask = ((total | self.tops) - threshold * self.ones) & self.tops
        pieces = mask.to_bytes(4 * self.n_docs, "little")[3::4].split(b"\x80")[:-1]
        return list(map(add, accumulate(map(len, pieces)), count()))


NO_VECTORS = DenseVectors({}, 0, 0, 0, 0)  # an index before its first refresh


def _half(n_docs: int) -> int:
    """How many documents the first half holds (the larger one)."""
    return (n_docs + 1) // 2


def choose_terms(offsets: array, n_docs: int, budget: float) -> list[int]:
    """Terms worth a dense vector: the longest lists (>= 1/MIN_SHARE of the documents), within ``budget`` bytes."""
    if n_docs < MIN_DOCS:
        return []
    shortest = -(-n_docs // MIN_SHARE)
    lengths = list(map(int.__sub__, offsets[1:], offsets[:-1]))
    long_terms = sorted((t for t, df in enumerate(lengths) if df >= shortest), key=lengths.__getitem__, reverse=True)
    affordable = int(budget) // (2 * n_docs)
    return sorted(long_terms[:affordable])


def build_dense(postings, impacts: array, n_docs: int, budget_share: float = BUDGET_SHARE) -> DenseVectors:
    """Dense vectors for the terms :func:`choose_terms` picks (none for a small index)."""
    posting_bytes = len(postings.docs) * (postings.docs.itemsize + postings.tfs.itemsize + impacts.itemsize)
    vectors = {}
    for term in choose_terms(postings.offsets, n_docs, min(budget_share * posting_bytes, BUDGET_MAX)):
        start, end = postings.span(term)
        vectors[term] = _vector(postings.docs[start:end], impacts[start:end], n_docs)
    if not vectors:
        return NO_VECTORS
    even = int.from_bytes(b"\xff\xff\x00\x00" * _half(n_docs), "little")
    ones = int.from_bytes(b"\x01\x00\x00\x00" * n_docs, "little")
    return DenseVectors(vectors, n_docs, even, ones, TOP_BIT * ones)


def _vector(docs: array, impacts: array, n_docs: int) -> int:
    """A term's impacts as 16-bit fields: the first half's documents in the even fields, the second's in the odd."""
    by_doc = array("H", bytes(2 * n_docs))
    for doc, impact in zip(docs, impacts):
        by_doc[doc] = impact
    half = _half(n_docs)
    fields = array("H", bytes(4 * half))
    fields[0::2], fields[1 : 2 * (n_docs - half) : 2] = by_doc[:half], by_doc[half:]
    if sys.byteorder != "little":
        fields.byteswap()
    return int.from_bytes(fields.tobytes(), "little")
