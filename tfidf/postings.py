"""Postings in compact arrays: CSR by term id, plus a pending tail of new postings.

``docs[offsets[t]:offsets[t+1]]`` are the document numbers that contain term
``t`` (ascending) and ``tfs`` the matching term frequencies.  Document numbers
take two bytes while the index has fewer than 65,536 documents, four after;
term frequencies one byte (capped at 255, where BM25 has long saturated).
New postings go to flat pending arrays and are merged in by
:meth:`Postings.merge`, which also drops the postings of deleted documents.
"""
from __future__ import annotations

from array import array
from itertools import compress, repeat
from operator import and_, rshift

MAX_TF = 255


def doc_typecode(n_docs: int) -> str:
    """The narrowest array type that holds document numbers below ``n_docs``."""
    return "H" if n_docs <= 0x10000 else "I"


class Postings:
    """Term-major posting lists of (document number, term frequency)."""

    def __init__(self, n_terms: int = 0, offsets: array | None = None, docs: array | None = None,
                 tfs: array | None = None) -> None:
        self.offsets = offsets if offsets is not None else array("I", bytes(4 * (n_terms + 1)))
        self.docs = docs if docs is not None else array("H")
        self.tfs = tfs if tfs is not None else array("B")
        self._new: dict[int, array] = {}  # term -> pending postings packed as doc << 8 | tf
        self._n_new = 0

    @property
    def n_terms(self) -> int:
        return len(self.offsets) - 1

    @property
    def pending(self) -> int:
        return self._n_new

    def append(self, doc: int, term_ids: list[int], counts: list[int]) -> None:
        """Queue one document's postings; they become visible after merge()."""
        new, base = self._new, doc << 8
        for term, count in zip(term_ids, counts):
            packed = base | (count if count < MAX_TF else MAX_TF)
            if term in new:
                new[term].append(packed)
            else:
                new[term] = array("Q", [packed])
        self._n_new += len(term_ids)

    def span(self, term: int) -> tuple[int, int]:
        """Start and end of ``term``'s slice (empty for unknown terms)."""
        if term >= len(self.offsets) - 1:
            return 0, 0
        return self.offsets[term], self.offsets[term + 1]

    def merged(self, n_terms: int, n_docs: int, alive: bytearray | None) -> "Postings":
        """New postings with the pending ones folded in and, given ``alive`` flags, dead documents
        dropped; this object is left as it was (searches may go on reading it meanwhile)."""
        code = doc_typecode(n_docs)
        docs, tfs, offsets = array(code), array("B"), array("I", [0])
        for term in range(n_terms):
            start, end = self.span(term)
            seg_docs, seg_tfs = self.docs[start:end], self.tfs[start:end]
            if seg_docs.typecode != code:
                seg_docs = array(code, seg_docs)
            packed = self._new.get(term)
            if packed is not None:
                seg_docs.extend(map(rshift, packed, repeat(8)))
                seg_tfs.extend(map(and_, packed, repeat(MAX_TF)))
            if alive is not None and seg_docs:
                keep = bytes(map(alive.__getitem__, seg_docs))
                seg_docs, seg_tfs = array(code, compress(seg_docs, keep)), array("B", compress(seg_tfs, keep))
            docs += seg_docs
            tfs += seg_tfs
            offsets.append(len(docs))
        return Postings(offsets=offsets, docs=docs, tfs=tfs)

    def nbytes(self) -> int:
        """Bytes held by the posting arrays."""
        pending = sum(8 * len(a) for a in self._new.values())
        return pending + sum(a.itemsize * len(a) for a in (self.offsets, self.docs, self.tfs))
