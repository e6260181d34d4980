"""Decide what a file is from its content; the file name only breaks ties between text kinds."""
from __future__ import annotations

import json
import os
import re
import zlib
from pathlib import Path

from .encoding import HEAD_BYTES, read_head, text_encoding
from .errors import CorruptFile, EmptyFile, UnsupportedType
from .media import HTML, MARKDOWN, NDJSON, PDF, PLAIN  # noqa: F401  (re-exported)

ACCEPTED = "PDF, plain text, Markdown, HTML or JSON lines (.jsonl, .jsonl.gz)"

_PDF_MAGIC_WINDOW = 1024
_GZIP_MAGIC = b"\x1f\x8b"
_MAGIC = (
    (b"\x89PNG\r\n\x1a\n", "a PNG image"),
    (b"\xff\xd8\xff", "a JPEG image"),
    (b"GIF87a", "a GIF image"),
    (b"GIF89a", "a GIF image"),
    (b"II*\x00", "a TIFF image"),
    (b"MM\x00*", "a TIFF image"),
    (b"PK\x03\x04", "a ZIP archive (Word, Excel and EPUB files are ZIP archives too)"),
    (b"\xd0\xcf\x11\xe0", "a legacy Microsoft Office document"),
    (_GZIP_MAGIC, "gzip-compressed data"),
    (b"7z\xbc\xaf\x27\x1c", "a 7-Zip archive"),
    (b"\x7fELF", "an executable program (ELF)"),
    (b"MZ", "a Windows executable"),
    (b"%!PS", "a PostScript file"),
    (b"{\\rtf", "an RTF document"),
    (b"SQLite format 3\x00", "an SQLite database"),
    (b"RIFF", "a RIFF audio/video file"),
)
_HTML_START = re.compile(r"\s*<(!doctype\s+html|html|head|body|!--|meta|title|div|p|h[1-6]|table)\b", re.I)
_HTML_TAG = re.compile(r"<(html|head|body)\b|<[a-z][a-z0-9]*[\s>/]", re.I)
_MARKDOWN_SIGNS = (
    re.compile(r"^ {0,3}#{1,6}[ \t]+\S", re.M),
    re.compile(r"^[^\n]*\w[^\n]*\n {0,3}(=+|-{3,})[ \t]*$", re.M),
    re.compile(r"\[[^\]\n]+\]\([^)\s]+\)"),
    re.compile(r"^ {0,3}(```|~~~)", re.M),
)
_MARKDOWN_LIST = re.compile(r"^ {0,3}([-*+]|\d{1,9}[.)])[ \t]+\S", re.M)
_MARKDOWN_NAMES = (".md", ".markdown", ".mdown", ".mkd")
_HTML_NAMES = (".html", ".htm", ".xhtml")


def sniff(path: str | Path, name: str | None = None) -> str:
    """The media type of the file at ``path``, judged from its bytes.

    ``name`` is the name the uploader gave (defaults to the path's name). Raises EmptyFile,
    CorruptFile (a ``.pdf`` that is not one) or UnsupportedType (binary content).
    """
    label = name or Path(path).name
    head = read_head(path)
    if not head:
        raise EmptyFile(f"{label}: the file is empty (0 bytes); upload a file with content")
    if is_pdf(head):
        return PDF
    if label.lower().endswith(".pdf"):
        raise CorruptFile(f"{label}: {not_a_pdf(head)}")
    if head.startswith(_GZIP_MAGIC):
        return _sniff_gzip(path, label)
    return _sniff_text(head, label, complete=os.path.getsize(path) <= len(head))


def is_pdf(head: bytes) -> bool:
    """Whether the %PDF- header appears where readers look for it (the first 1 KB)."""
    return b"%PDF-" in head[:_PDF_MAGIC_WINDOW]


def not_a_pdf(head: bytes) -> str:
    """Message for bytes that claim to be a PDF but have no PDF header."""
    return (
        f"the file claims to be a PDF but is not (no %PDF- header; it looks like "
        f"{describe(head)}); upload the original PDF"
    )


def describe(head: bytes) -> str:
    """What the bytes look like, for error messages: 'a PNG image', 'text', 'binary data'."""
    for magic, what in _MAGIC:
        if head.startswith(magic):
            return what
    if head[4:8] == b"ftyp":
        return "an MP4/QuickTime/HEIC media file"
    return "text" if text_encoding(head) else "binary data"


def _sniff_text(head: bytes, label: str, *, complete: bool) -> str:
    encoding = text_encoding(head)
    if encoding is None:
        raise UnsupportedType(
            f"{label}: looks like {describe(head)}, which cannot be read as text; "
            f"upload {ACCEPTED}"
        )
    text = head.decode(encoding, errors="ignore")
    if complete and not text.strip():
        raise EmptyFile(f"{label}: the file holds only whitespace; upload a file with content")
    return text_kind(text, label, complete=complete)


def text_kind(text: str, label: str = "", *, complete: bool = True) -> str:
    """Which text media type a decoded sample is; ``complete`` is False for a cut-off sample."""
    name = label.lower()
    if _is_ndjson(text, name, complete=complete):
        return NDJSON
    if _HTML_START.match(text) or (_HTML_TAG.search(text) and _is_html_ish(text, name)):
        return HTML
    if name.endswith(_MARKDOWN_NAMES) or _looks_markdown(text):
        return MARKDOWN
    return PLAIN


def _is_html_ish(text: str, name: str) -> bool:
    if name.endswith(_HTML_NAMES):
        return True
    return re.search(r"<(html|head|body)\b", text, re.I) is not None


def _looks_markdown(text: str) -> bool:
    if any(sign.search(text) for sign in _MARKDOWN_SIGNS):
        return True
    return len(_MARKDOWN_LIST.findall(text)) >= 2


def _is_ndjson(text: str, name: str, *, complete: bool) -> bool:
    lines = [line for line in text.splitlines() if line.strip()]
    if not complete and lines:
        lines.pop()  # the sample may end mid-line
    jsonl_name = name.endswith((".jsonl", ".ndjson", ".jsonl.gz", ".ndjson.gz"))
    if not lines:
        return jsonl_name and text.lstrip().startswith("{")
    if jsonl_name:  # named so and starting like it: a bad line later gets its own clear error
        return _is_json_object(lines[0])
    return all(_is_json_object(line) for line in lines)


def _is_json_object(line: str) -> bool:
    try:
        return isinstance(json.loads(line), dict)
    except ValueError:
        return False


def _sniff_gzip(path: str | Path, label: str) -> str:
    sample = _gunzip_head(path, label)
    if not sample:
        raise EmptyFile(f"{label}: the gzip file decompresses to nothing; upload a file with content")
    encoding = text_encoding(sample)
    text = sample.decode(encoding, errors="ignore") if encoding else ""
    if encoding and _is_ndjson(text, label.lower(), complete=len(sample) < HEAD_BYTES):
        return NDJSON
    raise UnsupportedType(
        f"{label}: gzip-compressed {describe(sample)} is only accepted when it holds JSON lines; "
        f"decompress it and upload {ACCEPTED}"
    )


def _gunzip_head(path: str | Path, label: str) -> bytes:
    """Up to HEAD_BYTES of the decompressed start of a gzip file."""
    inflater = zlib.decompressobj(wbits=47)
    try:
        return inflater.decompress(read_head(path, 8 * HEAD_BYTES), HEAD_BYTES)
    except zlib.error as exc:
        raise CorruptFile(f"{label}: damaged gzip data ({exc}); compress the file again") from exc
