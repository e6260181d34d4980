"""Dense vectors for the longest posting lists: many impacts summed by one big-integer add.

A query's common terms (those in, say, every eighth document) carry most of
its postings but little of its score.  Adding them one posting at a time is
what makes pure Python slow; instead each such term keeps its impacts as one
Python integer holding a 32-bit field per document, so that summing a term
into a query's scores is a single C-level addition over all documents.

Fields stay below 2**31, which lets one more addition find the documents
whose dense score reaches a threshold: add ``2**31 - threshold`` to every
field and the top bit of a field is set exactly where the score was high
enough (no field overflows into the next).

Memory is the price: ``4 * n_docs`` bytes a term.  Terms are chosen by
document frequency, longest first, within a budget that is a share of the
posting arrays' own size, so the vectors never dominate the index.
"""
from __future__ import annotations

import sys
from array import array
from collections import namedtuple
from itertools import accumulate, count, repeat
from operator import add, rshift

FIELD_BITS = 32
TOP_BIT = 1 << (FIELD_BITS - 1)
MIN_DOCS = 1024  # below this, posting lists are short enough to add one by one
MIN_SHARE = 8  # a term qualifies when it is in at least 1/8 of the documents
BUDGET_SHARE = 0.5  # vectors take at most this share of the bytes the postings take


class DenseVectors(namedtuple("DenseVectors", "vectors n_docs ones")):
    """term id -> integer of ``n_docs`` 32-bit fields (its impacts), and the all-ones pattern."""

    __slots__ = ()

    def fields(self, total: int) -> array:
        """The fields of ``total`` as an array indexed by document number."""
        values = array("I", total.to_bytes(4 * self.n_docs, "little"))
        if sys.byteorder != "little":
            values.byteswap()
        return values

    def to_int(self, fields: array) -> int:
        """The inverse of :meth:`fields`."""
        if sys.byteorder != "little":
            fields = array("I", fields)
            fields.byteswap()
        return int.from_bytes(fields.tobytes(), "little")

    def at_least(self, total: int, threshold: int) -> list[int]:
        """Document numbers whose field of ``total`` is at least ``threshold`` (fields < 2**31, 0 < threshold).

        Adding ``2**31 - threshold`` to every field sets the top bit of exactly those
        fields; the masked bytes are then split at each 0x80 to find where they are.
        """
        mask = (total + (TOP_BIT - threshold) * self.ones) & (TOP_BIT * self.ones)
        pieces = mask.to_bytes(4 * self.n_docs, "little").split(b"\x80")[:-1]
        return list(map(rshift, map(add, accumulate(map(len, pieces)), count()), repeat(2)))


def choose_terms(offsets: array, n_docs: int, posting_bytes: int) -> list[int]:
    """Terms worth a dense vector: the longest lists (>= 1/MIN_SHARE of the documents), within budget."""
    if n_docs < MIN_DOCS:
        return []
    long_terms = [t for t in range(len(offsets) - 1) if (offsets[t + 1] - offsets[t]) * MIN_SHARE >= n_docs]
    long_terms.sort(key=lambda t: offsets[t] - offsets[t + 1])
    affordable = int(BUDGET_SHARE * posting_bytes) // (4 * n_docs)
    return sorted(long_terms[:affordable])


def build_dense(postings, impacts: array, n_docs: int) -> DenseVectors:
    """Dense vectors for the terms :func:`choose_terms` picks (none for a small index)."""
    posting_bytes = len(postings.docs) * (postings.docs.itemsize + postings.tfs.itemsize + impacts.itemsize)
    vectors = {}
    for term in choose_terms(postings.offsets, n_docs, posting_bytes):
        start, end = postings.span(term)
        vectors[term] = _vector(postings.docs[start:end], impacts[start:end], n_docs)
    ones = int.from_bytes(b"\x01\x00\x00\x00" * n_docs, "little") if vectors else 0
    return DenseVectors(vectors, n_docs, ones)


def _vector(docs: array, impacts: array, n_docs: int) -> int:
    fields = array("I", bytes(4 * n_docs))
    for doc, impact in zip(docs, impacts):
        fields[doc] = impact
    if sys.byteorder != "little":
        fields.byteswap()
    return int.from_bytes(fields.tobytes(), "little")
