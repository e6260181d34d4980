"""Postings in compact arrays: CSR by term id, plus a pending tail of new postings.

``docs[offsets[t]:offsets[t+1]]`` are the document numbers that contain term
``t`` (ascending) and ``tfs`` the matching term frequencies.  Document numbers
take two bytes while the index has fewer than 65,536 documents, four after;
term frequencies one byte (capped at 255, where BM25 has long saturated).
New postings go to per-term pending arrays and are merged in by
:meth:`Postings.merged`, which also drops the postings of deleted documents.

Both run as C-level pipelines (``map`` over whole arrays, slices, ``compress``)
with no Python loop per posting: bulk indexing spends its time in C.
"""
from __future__ import annotations

import sys
from array import array
from collections import defaultdict, deque
from collections.abc import Collection, Iterable
from functools import partial
from itertools import accumulate, compress, repeat
from operator import add, and_, or_, rshift

MAX_TF = 255
_BLOCK = 1 << 16  # postings unpacked at a time


def doc_typecode(n_docs: int) -> str:
    """The narrowest array type that holds document numbers below ``n_docs``."""
    return "H" if n_docs <= 0x10000 else "I"


def consume(iterator) -> None:
    """Run an iterator of side effects to its end, in C."""
    deque(iterator, 0)


def _unpack(lists: Iterable[array], total: int, code: str) -> tuple[array, array]:
    """The document numbers (``code`` items) and term frequencies of ``total`` postings packed as
    doc << 8 | tf in ``lists``, end to end.

    Both are written into arrays of their final size a block at a time, so at most one block of
    packed postings is ever copied: the pending lists are not duplicated whole (at 10 million
    postings that was 80 MB more at the peak). On a little-endian machine each block's bytes are
    strided slices of the packed bytes (a strided memoryview would copy byte by byte).
    """
    width = array(code).itemsize
    docs, tfs = array(code, bytes(width * total)), array("B", bytes(total))  # calloc: untouched until written
    block, start = array("Q"), 0
    for packed in lists:
        block += packed
        if len(block) >= _BLOCK:
            start = _unpack_block(block, docs, tfs, start)
            del block[:]
    _unpack_block(block, docs, tfs, start)
    return docs, tfs


def _unpack_block(block: array, docs: array, tfs: array, start: int) -> int:
    """Write ``block``'s postings into ``docs`` and ``tfs`` from ``start``; where the next block starts."""
    end = start + len(block)
    if sys.byteorder != "little":
        docs[start:end] = array(docs.typecode, map(rshift, block, repeat(8)))
        tfs[start:end] = array("B", map(and_, block, repeat(MAX_TF)))
        return end
    width, raw = docs.itemsize, block.tobytes()
    doc_bytes = memoryview(docs).cast("B")
    for byte in range(width):  # byte i of each document number is byte i + 1 of its packed posting
        doc_bytes[width * start + byte : width * end : width] = raw[byte + 1 :: 8]
    memoryview(tfs)[start:end] = raw[::8]
    return end


class Postings:
    """Term-major posting lists of (document number, term frequency)."""

    def __init__(self, n_terms: int = 0, offsets: array | None = None, docs: array | None = None,
                 tfs: array | None = None) -> None:
        self.offsets = offsets if offsets is not None else array("I", bytes(4 * (n_terms + 1)))
        self.docs = docs if docs is not None else array("H")
        self.tfs = tfs if tfs is not None else array("B")
        # term -> pending postings packed as doc << 8 | tf (a missing term gets an empty array)
        self._new: defaultdict[int, array] = defaultdict(partial(array, "Q"))
        self._n_new = 0

    @property
    def n_terms(self) -> int:
        return len(self.offsets) - 1

    @property
    def pending(self) -> int:
        return self._n_new

    def append(self, doc: int, term_ids: Collection[int], counts: Collection[int]) -> None:
        """Queue one document's postings; they become visible after merged()."""
        self.append_to(map(self._new.__getitem__, term_ids), doc, counts)

    def lists(self, term_ids: Iterable[int]) -> list[array]:
        """The pending lists of these terms (made if missing), for :meth:`append_to` until the next merge."""
        return list(map(self._new.__getitem__, term_ids))

    def append_to(self, lists: Iterable[array], doc: int, counts: Collection[int]) -> None:
        """Queue one document's postings given its terms' pending lists (:meth:`lists`) and counts."""
        if counts and max(counts) > MAX_TF:
            counts = list(map(min, counts, repeat(MAX_TF)))
        consume(map(array.append, lists, map(or_, repeat(doc << 8), counts)))
        self._n_new += len(counts)

    def span(self, term: int) -> tuple[int, int]:
        """Start and end of ``term``'s slice (empty for unknown terms)."""
        if term >= len(self.offsets) - 1:
            return 0, 0
        return self.offsets[term], self.offsets[term + 1]

    def merged(self, n_terms: int, n_docs: int, alive: bytearray | None) -> "Postings":
        """New postings with the pending ones folded in and, given ``alive`` flags, dead documents
        dropped; this object is left as it was (searches may go on reading it meanwhile)."""
        code = doc_typecode(n_docs)
        docs, tfs, offsets = self._with_pending(n_terms, code)
        if alive is not None and docs:
            keep = bytes(map(alive.__getitem__, docs))
            kept = array("I", accumulate(keep, initial=0))  # kept[i]: survivors among the first i postings
            offsets = array("I", map(kept.__getitem__, offsets))
            docs, tfs = array(code, compress(docs, keep)), array("B", compress(tfs, keep))
        return Postings(offsets=offsets, docs=docs, tfs=tfs)

    def _with_pending(self, n_terms: int, code: str) -> tuple[array, array, array]:
        """docs, tfs and offsets of every list with its pending postings appended."""
        old = self.offsets[: n_terms + 1]
        old.extend(repeat(old[-1], n_terms + 1 - len(old)))  # terms new since the last merge: empty so far
        counts = array("I", map(len, map(self._new.get, range(n_terms), repeat(()))))
        offsets = array("I", map(add, old, accumulate(counts, initial=0)))
        new_docs, new_tfs = _unpack(self.lists(compress(range(n_terms), counts)), offsets[-1] - old[-1], code)
        if not old[-1]:  # nothing merged before (the first build): the pending postings are all there is
            return new_docs, new_tfs, offsets
        old_docs = self.docs if self.docs.typecode == code else array(code, self.docs)
        docs, tfs = array(code), array("B")
        at, done = 0, 0  # next pending posting, end of the old postings copied so far
        for term in compress(range(n_terms), counts):
            end, count = old[term + 1], counts[term]
            docs += old_docs[done:end]
            tfs += self.tfs[done:end]
            docs += new_docs[at : at + count]
            tfs += new_tfs[at : at + count]
            at, done = at + count, end
        docs += old_docs[done : old[-1]]
        tfs += self.tfs[done : old[-1]]
        return docs, tfs, offsets

    def nbytes(self) -> int:
        """Bytes held by the posting arrays."""
        pending = sum(8 * len(a) for a in self._new.values())
        return pending + sum(a.itemsize * len(a) for a in (self.offsets, self.docs, self.tfs))
