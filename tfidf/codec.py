"""The index's versioned binary format: a JSON header, then raw little-endian arrays.

Layout: ``MAGIC``, a 4-byte header length, the UTF-8 JSON header, then each
array's bytes at an 8-byte-aligned offset.  Loading reads each array straight
into place (``readinto`` an array of its size) with nothing recomputed, so a
SciFact-sized index loads in milliseconds, and the process never holds the
file beside its arrays: its peak memory is the index's.  The caller writes the
bytes (atomically) and hands back bytes or an open binary file; this module
opens nothing.
"""
from __future__ import annotations

import json
import struct
import sys
from array import array
from collections.abc import Iterator
from contextlib import contextmanager

from .errors import IndexFormatError
from .index import IndexParams, InvertedIndex
from .postings import Postings
from .scoring import ScoringParams
from .vocabulary import Vocabulary, make_vocabulary
from .weights import Weights

MAGIC = b"TFIDXv\x00\x01"
VERSION = 1
_LENGTH = struct.Struct("<I")
_TYPECODES = "bBhHiIlLqQfd"


def _arrays(index: InvertedIndex, weights: Weights) -> dict[str, array]:
    arrays = {
        "offsets": index.postings.offsets, "docs": index.postings.docs, "tfs": index.postings.tfs,
        "keys": index.keys, "groups": index.groups, "lens": index.lens, "alive": array("B", index.alive),
        "impacts": weights.impacts, "upper": weights.upper, "idf": weights.idf,
    } | {f"floor{depth}": floor for depth, floor in weights.floors.items()}
    if isinstance(index.vocabulary, Vocabulary):
        arrays |= {"term_offsets": index.vocabulary.offsets, "term_table": index.vocabulary.table}
    return arrays


def _header(index: InvertedIndex, weights: Weights, arrays: dict[str, array], meta: dict) -> dict:
    scoring = index.params.scoring
    return {
        "version": VERSION,
        "params": {"scoring": scoring.scoring, "k1": scoring.k1, "b": scoring.b,
                   "max_features": index.params.max_features},
        "weights": {"scale": weights.scale, "n_docs": weights.n_docs, "avg_len": weights.avg_len},
        "arrays": [[name, a.typecode, len(a)] for name, a in arrays.items()],
        "max_group": index.max_group_size(),
        "blob": len(getattr(index.vocabulary, "blob", b"")), "meta": meta,
    }


def _little_endian(a: array) -> memoryview:
    """The array's bytes, little-endian: a view of the array itself on a little-endian machine (no copy)."""
    if sys.byteorder == "little":
        return memoryview(a).cast("B")
    swapped = array(a.typecode, a)
    swapped.byteswap()
    return memoryview(swapped).cast("B")


def _pad(n: int) -> bytes:
    return b"\x00" * (-n % 8)


@contextmanager
def dump_parts(index: InvertedIndex, meta: dict | None = None) -> Iterator[list]:
    """The index (compacted first), with ``meta`` in its header, as buffers to write end to end.

    They are views of the index's own arrays (nothing copied on a little-endian machine), so
    saving a large index costs no second copy of it; they are released on exit, and the index
    must not change before then.
    """
    weights = index.refresh()
    arrays = _arrays(index, weights)
    header = json.dumps(_header(index, weights, arrays, meta or {})).encode()
    head = MAGIC + _LENGTH.pack(len(header)) + header
    parts = [head, _pad(len(head))]
    chunks = [memoryview(getattr(index.vocabulary, "blob", b"")).cast("B")]
    chunks += map(_little_endian, arrays.values())
    for chunk in chunks:
        parts += [chunk, _pad(len(chunk))]
    try:
        yield parts
    finally:
        for chunk in chunks:
            chunk.release()


def dump_index(index: InvertedIndex, meta: dict | None = None) -> bytes:
    """The index (compacted first) as bytes, with ``meta`` stored in the header."""
    with dump_parts(index, meta) as parts:
        return b"".join(parts)


def _parse_header(raw: bytes) -> dict:
    try:
        header = json.loads(raw)
    except ValueError as exc:
        raise IndexFormatError(f"index header is corrupt: {exc}") from None
    if not isinstance(header, dict) or header.get("version") != VERSION:
        version = header.get("version") if isinstance(header, dict) else None
        raise IndexFormatError(f"index format version {version} is not {VERSION}; rebuild the index")
    return header


class _BufferReader:
    """``read`` and ``readinto`` over a buffer (bytes, an mmap), as a binary file offers them."""

    def __init__(self, buffer) -> None:
        self._view, self._at = memoryview(buffer).cast("B"), 0

    def read(self, size: int) -> bytes:
        data = bytes(self._view[self._at : self._at + size])
        self._at += len(data)
        return data

    @property
    def remaining(self) -> int:
        return len(self._view) - self._at

    def readinto(self, target: memoryview) -> int:
        size = min(len(target), self.remaining)
        target[:size] = self._view[self._at : self._at + size]
        self._at += size
        return size


def _read_exactly(source, size: int, what: str) -> bytes:
    data = source.read(size)
    if len(data) != size:
        raise IndexFormatError(f"index file is truncated in {what}; rebuild the index")
    return data


def _read_header(source) -> dict:
    if source.read(len(MAGIC)) != MAGIC:
        raise IndexFormatError("not an index file (bad magic); rebuild it with `server.py ingest`")
    (length,) = _LENGTH.unpack(_read_exactly(source, _LENGTH.size, "its header"))
    header = _parse_header(_read_exactly(source, length, "its header"))
    source.read(-(len(MAGIC) + _LENGTH.size + length) % 8)
    return header


def _read_array(source, name: str, code: str, length: int) -> array:
    """An array of ``length`` items read straight into place (no copy of its bytes held beside it)."""
    a = array(code, bytes(array(code).itemsize * length))  # zeroed by calloc: pages untouched until read into
    if length and source.readinto(memoryview(a).cast("B")) != len(a) * a.itemsize:
        raise IndexFormatError(f"index file is truncated in array {name!r}; rebuild the index")
    if sys.byteorder != "little":
        a.byteswap()
    source.read(-(len(a) * a.itemsize) % 8)
    return a


def _declared_size(header: dict) -> int:
    """The bytes the header says follow it (padding included); IndexFormatError for an array it cannot make."""
    size = header["blob"] + -header["blob"] % 8
    for name, code, length in header["arrays"]:
        if code not in _TYPECODES or not isinstance(length, int) or length < 0:
            raise IndexFormatError(f"index header is corrupt: array {name!r} of {length!r} {code!r} items")
        nbytes = array(code).itemsize * length
        size += nbytes + -nbytes % 8
    return size


def _remaining(source) -> int:
    """Bytes from the source's position to its end."""
    if isinstance(source, _BufferReader):
        return source.remaining
    here = source.tell()
    end = source.seek(0, 2)
    source.seek(here)
    return end - here


def _read_arrays(source, header: dict) -> tuple[bytes, dict[str, array]]:
    if _declared_size(header) > _remaining(source):  # before anything is allocated for it
        raise IndexFormatError("index file is truncated; rebuild the index")
    blob = _read_exactly(source, header["blob"], "its vocabulary")
    source.read(-header["blob"] % 8)
    return blob, {name: _read_array(source, name, code, length) for name, code, length in header["arrays"]}


def load_index(source) -> tuple[InvertedIndex, dict]:
    """An index and its ``meta`` from what :func:`dump_index` made: its bytes (any buffer), or a binary
    file open at its start (read through; the caller closes it)."""
    if not hasattr(source, "readinto"):
        source = _BufferReader(source)
    header = _read_header(source)
    try:
        blob, arrays = _read_arrays(source, header)
        return _assemble(header, blob, arrays)
    except (KeyError, TypeError, ValueError) as exc:  # a header that parses but does not describe an index
        raise IndexFormatError(f"index header is corrupt ({exc!r}); rebuild the index") from None


def _assemble(header: dict, blob: bytes, arrays: dict[str, array]) -> tuple[InvertedIndex, dict]:
    params = header["params"]
    index = InvertedIndex(IndexParams(ScoringParams(params["scoring"], params["k1"], params["b"]),
                                      params["max_features"]))
    if params["max_features"] is None:
        index.vocabulary = Vocabulary(blob, arrays["term_offsets"], arrays["term_table"])
    else:
        index.vocabulary = make_vocabulary(params["max_features"])
    index.postings = Postings(offsets=arrays["offsets"], docs=arrays["docs"], tfs=arrays["tfs"])
    index.keys, index.groups, index.lens = arrays["keys"], arrays["groups"], arrays["lens"]
    index.alive = bytearray(arrays["alive"])
    w = header["weights"]
    floors = {int(name[5:]): a for name, a in arrays.items() if name.startswith("floor")}
    index.restore(Weights(arrays["impacts"], arrays["upper"], floors, arrays["idf"], w["scale"], w["n_docs"],
                          w["avg_len"]), header["max_group"])
    return index, header["meta"]
