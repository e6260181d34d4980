"""Postings in compact arrays: CSR by term id, plus a pending tail of new postings.

``docs[offsets[t]:offsets[t+1]]`` are the document numbers that contain term
``t`` (ascending) and ``tfs`` the matching term frequencies.  New postings are
appended to flat pending arrays and merged in by :meth:`Postings.merge`, which
also drops the postings of deleted documents.  4 + 2 bytes a posting.
"""
from __future__ import annotations

from array import array
from itertools import accumulate, compress

MAX_TF = 65535


class Postings:
    """Term-major posting lists of (document number, term frequency)."""

    def __init__(self, n_terms: int = 0) -> None:
        self.offsets = array("L", bytes(8 * (n_terms + 1)))
        self.docs = array("I")
        self.tfs = array("H")
        self._new_terms = array("I")
        self._new_docs = array("I")
        self._new_tfs = array("H")

    @property
    def n_terms(self) -> int:
        return len(self.offsets) - 1

    @property
    def pending(self) -> int:
        return len(self._new_terms)

    def append(self, doc: int, term_ids: list[int], counts: list[int]) -> None:
        """Queue one document's postings; they become visible after merge()."""
        self._new_terms.extend(term_ids)
        self._new_docs.extend([doc] * len(term_ids))
        self._new_tfs.extend([min(c, MAX_TF) for c in counts])

    def span(self, term: int) -> tuple[int, int]:
        """Start and end of ``term``'s slice (empty for unknown terms)."""
        if term >= self.n_terms:
            return 0, 0
        return self.offsets[term], self.offsets[term + 1]

    def merge(self, n_terms: int, alive: bytearray | None) -> None:
        """Fold pending postings in and, given ``alive`` flags, drop dead documents."""
        order, starts = self._pending_order(n_terms)
        docs, tfs, offsets = array("I"), array("H"), array("L", [0])
        for term in range(n_terms):
            start, end = self.span(term)
            seg_docs, seg_tfs = self.docs[start:end], self.tfs[start:end]
            if starts[term] != starts[term + 1]:
                new = order[starts[term] : starts[term + 1]]
                seg_docs += array("I", map(self._new_docs.__getitem__, new))
                seg_tfs += array("H", map(self._new_tfs.__getitem__, new))
            if alive is not None and seg_docs:
                keep = bytes(map(alive.__getitem__, seg_docs))
                seg_docs, seg_tfs = array("I", compress(seg_docs, keep)), array("H", compress(seg_tfs, keep))
            docs += seg_docs
            tfs += seg_tfs
            offsets.append(len(docs))
        self.docs, self.tfs, self.offsets = docs, tfs, offsets
        self._new_terms, self._new_docs, self._new_tfs = array("I"), array("I"), array("H")

    def _pending_order(self, n_terms: int) -> tuple[array, list[int]]:
        """Counting sort of pending postings by term (document order kept within a term)."""
        counts = [0] * (n_terms + 1)
        for term in self._new_terms:
            counts[term + 1] += 1
        starts = list(accumulate(counts))
        order, cursor = array("I", bytes(4 * len(self._new_terms))), starts[:]
        for i, term in enumerate(self._new_terms):
            order[cursor[term]] = i
            cursor[term] += 1
        return order, starts

    def nbytes(self) -> int:
        """Bytes held by the posting arrays."""
        arrays = (self.offsets, self.docs, self.tfs, self._new_terms, self._new_docs, self._new_tfs)
        return sum(a.itemsize * len(a) for a in arrays)
