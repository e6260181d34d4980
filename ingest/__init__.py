"""Turn uploaded files into text: detect the type, extract sections, cut them into chunks.

Pure extraction: no database and no index. pypdf is imported only in the PDF worker process.
"""
from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from .media import HTML, MARKDOWN, NDJSON, PDF, PLAIN
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
from .model import Chunk, Record, Section

_LAZY = {  # loaded on first use, so `import ingest` (for its errors) stays cheap at start-up
    "chunk_sections": "chunking", "chunk_spans": "chunking", "sniff": "detect", "iter_records": "jsonl",
    "extract_html": "html", "extract_markdown": "markdown", "extract_pdf": "pdf", "extract_text": "text",
}


def __getattr__(name: str):
    if name not in _LAZY:
        raise AttributeError(f"module 'ingest' has no attribute {name!r}")
    from importlib import import_module

    value = globals()[name] = getattr(import_module(f".{_LAZY[name]}", __name__), name)  # found directly from now on
    return value


__all__ = [
    "HTML", "MARKDOWN", "NDJSON", "PDF", "PLAIN",
    "Chunk", "CorruptFile", "EmptyFile", "EncryptedFile", "IngestError", "NoText", "Record",
    "Section", "TimedOut", "TooLarge", "UnsupportedType",
    "chunk_sections", "chunk_spans", "extract_sections", "iter_records", "sniff",
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
        from .pdf import extract_pdf

        return extract_pdf(path, time_limit=time_limit, name=label)
    if media_type == NDJSON:
        raise UnsupportedType(
            f"{label}: JSON lines hold many records, not one document's sections; "
            "read them with ingest.iter_records(path)"
        )
    from .html import extract_html
    from .markdown import extract_markdown
    from .text import extract_text

    readers = {PLAIN: extract_text, MARKDOWN: extract_markdown, HTML: extract_html}
    if media_type not in readers:
        raise UnsupportedType(
            f"{label}: media type {media_type!r} is not supported; "
            f"use one of {sorted([PDF, *readers])} (see ingest.sniff)"
        )
    return readers[media_type](path, name=label)
