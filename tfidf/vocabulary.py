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
    """Exact term -> id mapping; ids are dense, assigned in order of first sight."""

    capped = False

    def __init__(self, blob: bytes = b"", offsets: array | None = None, table: array | None = None) -> None:
        self.blob = bytearray(blob)
        self.offsets = offsets if offsets is not None else array("I", [0])
        self.table = table if table is not None else array("I", [_EMPTY]) * 1024
        self._recent = _Recent(self._insert)  # terms added since compact(): a C-level fast path for bulk adds
        self._found: dict[str, int | None] = {}  # recent lookups (query terms recur), emptied when full
        if table is None and len(self):
            self._rehash(len(self.table))

    def __len__(self) -> int:
        return len(self.offsets) - 1

    def _slot(self, key: bytes) -> int:
        """The table slot holding ``key``, or the empty slot where it would go."""
        table, blob, offsets = self.table, self.blob, self.offsets
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
        tid = self.table[self._slot(_encode(term))]
        tid = found[term] = None if tid == _EMPTY else tid
        return tid

    def add(self, term: str) -> int:
        """The id of ``term``, assigning the next one if it is new."""
        return self._recent[term]

    def add_all(self, terms) -> list[int]:
        """Ids of many terms at once (C-level on the fast path)."""
        return list(map(self._recent.__getitem__, terms))

    def compact(self) -> None:
        """Drop the bulk-add fast path; the table alone answers from now on."""
        self._recent = _Recent(self._insert)

    def _insert(self, term: str) -> int:
        """The id of ``term`` from the table, appending it if new."""
        key = _encode(term)
        slot = self._slot(key)
        tid = self.table[slot]
        if tid != _EMPTY:
            return tid
        tid = len(self)
        self._found.pop(term, None)  # it was looked up before it existed
        self.blob += key
        self.offsets.append(len(self.blob))
        self.table[slot] = tid
        if 3 * len(self) > 2 * len(self.table):  # keep the load under 2/3
            self._rehash(2 * len(self.table))
        return tid

    def _rehash(self, size: int) -> None:
        self.table = array("I", [_EMPTY]) * size
        for tid in range(len(self)):
            self.table[self._slot(bytes(self.blob[self.offsets[tid] : self.offsets[tid + 1]]))] = tid

    def nbytes(self) -> int:
        return len(self.blob) + 4 * (len(self.offsets) + len(self.table))


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

    def nbytes(self) -> int:
        return 0


def make_vocabulary(max_features: int | None):
    """An exact vocabulary, or a hashed one when ``max_features`` caps it."""
    return HashedVocabulary(max_features) if max_features else Vocabulary()
