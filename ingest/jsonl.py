"""JSON-lines corpora (.jsonl, or gzip-compressed .jsonl.gz detected by its magic bytes)."""
from __future__ import annotations

import gzip
import io
import json
import zlib
from collections.abc import Iterator
from pathlib import Path
from typing import IO

from .encoding import read_head
from .errors import CorruptFile, TooLarge
from .model import Record

_GZIP_MAGIC = b"\x1f\x8b"
READ_AHEAD = 1 << 16  # bytes of decompressed text a gzip corpus is read in
_FORMAT = 'each line must be a JSON object like {"_id": "d1", "title": "...", "text": "..."}'


def iter_records(path: str | Path, *, name: str | None = None, max_bytes: int | None = None) -> Iterator[Record]:
    """One Record per non-blank line; the id comes from ``_id`` or ``id``, ``title`` is optional.

    Raises CorruptFile naming the file (``name``, default the path's) and the first bad line, and
    TooLarge once the (decompressed) content passes ``max_bytes``: a gzip bomb stops there.
    """
    label = name or Path(path).name
    number = seen = 0
    with _open(path) as handle:
        try:
            for number, raw in enumerate(_lines(handle, max_bytes), 1):
                seen += len(raw)
                if max_bytes is not None and seen > max_bytes:
                    raise TooLarge(f"{label}: more than {max_bytes // 2**20} MB once decompressed (line {number});"
                                   " split it, or ingest it with `python server.py ingest`")
                line = _decode(raw, number, f"{label} line {number}")
                if line.strip():
                    yield _record(line, f"{label} line {number}")
        except (EOFError, OSError, zlib.error) as exc:
            raise CorruptFile(f"{label} line {number + 1}: unreadable ({exc}); {_FORMAT}") from exc


def _lines(handle: IO[bytes], max_bytes: int | None) -> Iterator[bytes]:
    """Lines, each read with a bound (so one endless line cannot fill memory)."""
    limit = -1 if max_bytes is None else max_bytes + 1
    while line := handle.readline(limit):
        yield line


def _open(path: str | Path) -> IO[bytes]:
    if read_head(path, 2) == _GZIP_MAGIC:  # read ahead 64 KiB at a time: a third fewer trips through gzip's Python
        return io.BufferedReader(gzip.open(path, "rb"), READ_AHEAD)
    return open(path, "rb")


def _decode(raw: bytes, number: int, where: str) -> str:
    try:
        return raw.decode("utf-8-sig" if number == 1 else "utf-8")
    except UnicodeDecodeError as exc:
        raise CorruptFile(f"{where}: not UTF-8 ({exc.reason} at byte {exc.start}); save the file as UTF-8") from exc


def _record(line: str, where: str) -> Record:
    try:
        fields = json.loads(line)
    except ValueError as exc:
        raise CorruptFile(f"{where}: not valid JSON ({exc}); {_FORMAT}") from exc
    if not isinstance(fields, dict):
        raise CorruptFile(f"{where}: a JSON {type(fields).__name__}, not an object; {_FORMAT}")
    return Record(id=_id(fields, where), title=_string(fields, "title", where), text=_text(fields, where))


def _id(fields: dict, where: str) -> str:
    value = fields.get("_id", fields.get("id"))
    if isinstance(value, bool) or not isinstance(value, (str, int)) or value == "":
        raise CorruptFile(f"{where}: id {value!r} is missing or not a string; add a non-empty \"_id\"")
    return str(value)


def _text(fields: dict, where: str) -> str:
    if "text" not in fields:
        raise CorruptFile(f'{where}: no "text" field (found {sorted(fields)}); {_FORMAT}')
    return _string(fields, "text", where)


def _string(fields: dict, key: str, where: str) -> str:
    value = fields.get(key)
    if value is None:
        return ""
    if not isinstance(value, str):
        raise CorruptFile(f'{where}: "{key}" is {type(value).__name__} {value!r:.60}, not a string')
    return value

