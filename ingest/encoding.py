"""Guess the character encoding of a text file from its first bytes, or decide it is not text."""
from __future__ import annotations

import codecs
from pathlib import Path

HEAD_BYTES = 8192
_BOMS = (
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF32_LE, "utf-32"),
    (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)
_BAD_UTF8_PER_MILLE = 2
_CONTROL_BYTES = frozenset(range(32)) - {9, 10, 12, 13}


def read_head(path: str | Path, size: int = HEAD_BYTES) -> bytes:
    """The first ``size`` bytes of the file."""
    with open(path, "rb") as handle:
        return handle.read(size)


def bom_encoding(head: bytes) -> str | None:
    """The encoding a byte-order mark announces, if the bytes start with one."""
    for bom, name in _BOMS:
        if head.startswith(bom):
            return name
    return None


def text_encoding(head: bytes) -> str | None:
    """The encoding to read this text with, or None if the bytes do not look like text.

    UTF-8 wins when the sample decodes with at most a few bad bytes (they become U+FFFD);
    otherwise legacy single-byte text (cp1252, then latin-1) if it has no control bytes.
    """
    announced = bom_encoding(head)
    if announced:
        return announced
    if b"\x00" in head:
        return None
    if _bad_utf8(head) * 1000 <= len(head) * _BAD_UTF8_PER_MILLE:
        return "utf-8"
    if _control_share(head) > 0.01:
        return None
    return "cp1252" if _decodes(head, "cp1252") else "latin-1"


def _bad_utf8(head: bytes) -> int:
    """How many bytes fail to decode as UTF-8, ignoring a sequence cut at the end."""
    decoder = codecs.getincrementaldecoder("utf-8")("replace")
    replaced = decoder.decode(head, final=False).count("\ufffd")
    return replaced - head.count("\ufffd".encode())


def _control_share(head: bytes) -> float:
    return sum(byte in _CONTROL_BYTES for byte in head) / max(len(head), 1)


def _decodes(head: bytes, encoding: str) -> bool:
    try:
        head.decode(encoding)
    except UnicodeDecodeError:
        return False
    return True
