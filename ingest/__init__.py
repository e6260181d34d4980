"""Turn uploaded files into text: detect the type, extract sections, cut them into chunks.

Pure extraction: no database and no index. pypdf is imported only in the PDF worker process.
"""
from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from .chunking import chunk_sections
from .detect import HTML, MARKDOWN, NDJSON, PDF, PLAIN, sniff
from .errors import (
    CorruptFile,
    EmptyFile,
    EncryptedFile,
    IngestError,
    NoText,
    TimedOut,
    TooLarge,
    UnsupportedType,
)
from .html import extract_html
from .jsonl import iter_records
from .markdown import extract_markdown
from .model import Chunk, Record, Section
from .pdf import extract_pdf
from .text import extract_text

__all__ = [
    "HTML", "MARKDOWN", "NDJSON", "PDF", "PLAIN",
    "Chunk", "CorruptFile", "EmptyFile", "EncryptedFile", "IngestError", "NoText", "Record",
    "Section", "TimedOut", "TooLarge", "UnsupportedType",
    "chunk_sections", "extract_sections", "iter_records", "sniff",
]


def extract_sections(
    path: str | Path, media_type: str, *, time_limit: float = 60.0, name: str | None = None
) -> Iterator[Section]:
    """The sections of a document of ``media_type`` (as returned by ``sniff``).

    ``time_limit`` (seconds) bounds PDF parsing; ``name`` is the uploader's file name for error
    messages (default: the path's). Raises an IngestError subclass, some only while iterating.
    """
    label = name or Path(path).name
    if media_type == PDF:
        return extract_pdf(path, time_limit=time_limit, name=label)
    if media_type == NDJSON:
        raise UnsupportedType(
            f"{label}: JSON lines hold many records, not one document's sections; "
            "read them with ingest.iter_records(path)"
        )
    readers = {PLAIN: extract_text, MARKDOWN: extract_markdown, HTML: extract_html}
    if media_type not in readers:
        raise UnsupportedType(
            f"{label}: media type {media_type!r} is not supported; "
            f"use one of {sorted([PDF, *readers])} (see ingest.sniff)"
        )
    return readers[media_type](path, name=label)
