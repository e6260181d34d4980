"""Term ids: an exact vocabulary in compact arrays, or a capped one that hashes terms.

The exact vocabulary is an open-addressing hash table over a byte blob: the
terms' UTF-8 bytes end to end, an offset per term, and a table of term ids
keyed by CRC-32, about 20 bytes a term where a dict of strings takes ~110.

The cap (``max_features``) bounds memory.  Keeping only the most frequent
terms, as scikit-learn does, throws away exactly the rare terms that rank
best; hashing keeps every term and lets rare ones share a bucket, which loses
far less (see BENCHMARKS.md).  A hashed vocabulary stores no strings at all.
"""
from __future__ import annotations

from array import array
from itertools import accumulate, repeat
from operator import add, and_
from zlib import crc32

_EMPTY = 0xFFFFFFFF
LOOKUP_CACHE = 4096


def _encode(term: str) -> bytes:
    return term.encode("utf-8", "surrogatepass")


class _Recent(dict):
    """term -> id for terms seen since the last compaction; a miss looks the table up (or inserts)."""

    def __init__(self, insert) -> None:
        super().__init__()
        self._insert = insert

    def __missing__(self, term: str) -> int:
        tid = self[term] = self._insert(term)
        return tid


class Vocabulary:
    """Exact term -> id mapping; ids are dense, assigned in order of first sight.

    New terms reach the hash table in one pass at :meth:`compact` (or when the table is
    read): until then the ``_recent`` dict answers for them, so a bulk build probes the
    table once per term and grows it once, not at every doubling.
    """

    capped = False

    def __init__(self, blob: bytes = b"", offsets: array | None = None, table: array | None = None) -> None:
        self.blob = bytearray(blob)
        self.offsets = offsets if offsets is not None else array("I", [0])
        self._table = table if table is not None else array("I", [_EMPTY]) * 1024
        self._tabled = len(self) if table is not None else 0  # ids below this are in the table
        self._recent = _Recent(self._insert)  # terms added since compact(): a C-level fast path for bulk adds
        self._found: dict[str, int | None] = {}  # recent lookups (query terms recur), emptied when full
        self._next: tuple[array, int] | None = None  # a table built aside, and how many terms it holds
        self._flush()

    def __len__(self) -> int:
        return len(self.offsets) - 1

    @property
    def table(self) -> array:
        """The open-addressing table of term ids (every term in it)."""
        self._flush()
        return self._table

    def _slot(self, key: bytes) -> int:
        """The table slot holding ``key``, or the empty slot where it would go."""
        table, blob, offsets = self._table, self.blob, self.offsets
        mask = len(table) - 1
        slot = crc32(key) & mask
        while True:
            tid = table[slot]
            if tid == _EMPTY or blob[offsets[tid] : offsets[tid + 1]] == key:
                return slot
            slot = (slot + 1) & mask

    def get(self, term: str) -> int | None:
        """The id of ``term``, or None if it was never indexed."""
        found = self._found
        if term in found:
            return found[term]
        if len(found) >= LOOKUP_CACHE:
            found.clear()
        tid = self._table[self._slot(_encode(term))]
        if tid == _EMPTY:
            tid = self._recent.get(term)  # not in the table yet, or never indexed
        found[term] = tid
        return tid

    def add(self, term: str) -> int:
        """The id of ``term``, assigning the next one if it is new."""
        return self._recent[term]

    def add_all(self, terms) -> list[int]:
        """Ids of many terms at once (C-level on the fast path)."""
        recent = self._recent
        if not self._tabled:  # nothing in the table yet: a term not in ``_recent`` is new
            new = [term for term in terms if term not in recent]
            if new:
                self._append_new(list(dict.fromkeys(new)))
        return list(map(recent.__getitem__, terms))

    def _append_new(self, terms: list[str]) -> None:
        """Give new (distinct) terms the next ids, all at once."""
        first, keys = len(self), [_encode(term) for term in terms]
        start = len(self.blob)
        self.blob += b"".join(keys)
        self.offsets.extend(map(add, accumulate(map(len, keys)), repeat(start)))
        self._recent.update(zip(terms, range(first, first + len(terms))))
        if self._found:
            for term in terms:
                self._found.pop(term, None)  # looked up before it existed

    def compact(self) -> None:
        """Put new terms in the table (the one :meth:`prepare_table` built, if it holds them all) and drop
        the bulk-add fast path; the table alone answers from now on."""
        if self._next is not None and self._next[1] == len(self):
            self._table, self._tabled = self._next
        self._next = None
        self._flush()
        self._recent = _Recent(self._insert)

    def prepare_table(self) -> None:
        """Build aside the table :meth:`compact` puts in place (lookups go on reading this one meanwhile)."""
        count = len(self)
        if self._tabled == count:
            return
        self._next = (self._grown(count), count)

    def _insert(self, term: str) -> int:
        """The id of ``term`` (not in ``_recent``): from the table, or the next one, appended."""
        key = _encode(term)
        if self._tabled:
            tid = self._table[self._slot(key)]
            if tid != _EMPTY:
                return tid
        if self._found:
            self._found.pop(term, None)  # it was looked up before it existed
        self.blob += key
        offsets = self.offsets
        offsets.append(len(self.blob))
        return len(offsets) - 2

    def _flush(self) -> None:
        """Insert the terms added since the last flush, growing the table to keep the load under 2/3."""
        count = len(self)
        if self._tabled != count:
            self._table, self._tabled = self._grown(count), count

    def _grown(self, count: int) -> array:
        """A copy of the table with the terms up to ``count`` inserted, doubled until under 2/3 full."""
        size = len(self._table)
        while 3 * count > 2 * size:
            size *= 2
        if size != len(self._table):
            table, first = array("I", [_EMPTY]) * size, 0
        else:
            table, first = array("I", self._table), self._tabled
        self._place(table, first, count)
        return table

    def _place(self, table: array, first: int, end: int) -> None:
        """Insert the (distinct, absent) terms with ids first..end-1 into ``table``, in id order."""
        offsets, mask = self.offsets, len(table) - 1
        keys = map(self.blob.__getitem__, map(slice, offsets[first:end], offsets[first + 1 : end + 1]))
        for tid, slot in enumerate(map(and_, map(crc32, keys), repeat(mask)), first):
            while table[slot] != _EMPTY:
                slot = (slot + 1) & mask
            table[slot] = tid

    def nbytes(self) -> int:
        return len(self.blob) + 4 * (len(self.offsets) + len(self._table))


class HashedVocabulary:
    """Terms hashed (CRC-32 of UTF-8) into ``size`` buckets: bounded, stable across runs."""

    capped = True

    def __init__(self, size: int) -> None:
        self.size = size

    def __len__(self) -> int:
        return self.size

    def get(self, term: str) -> int:
        return crc32(_encode(term)) % self.size

    add = get

    def add_all(self, terms) -> list[int]:
        return list(map(self.get, terms))

    def compact(self) -> None:
        pass

    def prepare_table(self) -> None:
        pass

    def nbytes(self) -> int:
        return 0


def make_vocabulary(max_features: int | None):
    """An exact vocabulary, or a hashed one when ``max_features`` caps it."""
    return HashedVocabulary(max_features) if max_features else Vocabulary()
