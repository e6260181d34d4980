"""The index's versioned binary format: a JSON header, then raw little-endian arrays.

Layout: ``MAGIC``, a 4-byte header length, the UTF-8 JSON header, then each
array's bytes at an 8-byte-aligned offset.  Loading is ``array.frombytes`` on
slices of the buffer (a memcpy each) with nothing recomputed, so a
SciFact-sized index loads in milliseconds.  The caller writes the bytes
(atomically) and reads them back; this module does no I/O.
"""
from __future__ import annotations

import json
import struct
import sys
from array import array

from .errors import IndexFormatError
from .index import IndexParams, InvertedIndex
from .postings import Postings
from .scoring import ScoringParams
from .vocabulary import Vocabulary, make_vocabulary
from .weights import Weights

MAGIC = b"TFIDXv\x00\x01"
VERSION = 1
_LENGTH = struct.Struct("<I")


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


def _little_endian(a: array) -> bytes:
    if sys.byteorder == "little":
        return a.tobytes()
    swapped = array(a.typecode, a)
    swapped.byteswap()
    return swapped.tobytes()


def _pad(n: int) -> bytes:
    return b"\x00" * (-n % 8)


def dump_index(index: InvertedIndex, meta: dict | None = None) -> bytes:
    """The index (compacted first) as bytes, with ``meta`` stored in the header."""
    weights = index.refresh()
    arrays = _arrays(index, weights)
    header = json.dumps(_header(index, weights, arrays, meta or {})).encode()
    parts = [MAGIC, _LENGTH.pack(len(header)), header]
    size = len(MAGIC) + _LENGTH.size + len(header)
    parts.append(_pad(size))
    size += len(parts[-1])
    blob = bytes(getattr(index.vocabulary, "blob", b""))
    for chunk in [blob] + [_little_endian(a) for a in arrays.values()]:
        parts += [chunk, _pad(len(chunk))]
        size += len(chunk) + len(parts[-1])
    return b"".join(parts)


def read_header(buffer) -> tuple[dict, int]:
    """The header of an index buffer and the offset where its data starts."""
    view = memoryview(buffer)
    if bytes(view[: len(MAGIC)]) != MAGIC:
        raise IndexFormatError("not an index file (bad magic); rebuild it with `server.py ingest`")
    (length,) = _LENGTH.unpack_from(view, len(MAGIC))
    start = len(MAGIC) + _LENGTH.size
    try:
        header = json.loads(bytes(view[start : start + length]))
    except ValueError as exc:
        raise IndexFormatError(f"index header is corrupt: {exc}") from None
    if header.get("version") != VERSION:
        raise IndexFormatError(f"index format version {header.get('version')} is not {VERSION}; rebuild the index")
    end = start + length
    return header, end + (-end % 8)


def _read_arrays(view: memoryview, header: dict, offset: int) -> tuple[bytes, dict[str, array]]:
    blob = bytes(view[offset : offset + header["blob"]])
    offset += header["blob"] + (-header["blob"] % 8)
    arrays = {}
    for name, code, length in header["arrays"]:
        a = array(code)
        size = a.itemsize * length
        if offset + size > len(view):
            raise IndexFormatError(f"index file is truncated in array {name!r}; rebuild the index")
        a.frombytes(view[offset : offset + size])
        if sys.byteorder != "little":
            a.byteswap()
        arrays[name] = a
        offset += size + (-size % 8)
    return blob, arrays


def load_index(buffer) -> tuple[InvertedIndex, dict]:
    """An index and its ``meta`` from bytes made by :func:`dump_index`."""
    header, offset = read_header(buffer)
    blob, arrays = _read_arrays(memoryview(buffer), header, offset)
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
