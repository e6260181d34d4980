"""Paragraph pool for the QA bench: the readable shared PDFs, page by page, via pypdf.

Both the question builder (bench/qa/build_questions.py) and the evaluator
(bench/qa_eval.py) use this module, so the pool is built the same way in both.
Paragraph text keeps pypdf's line breaks (the extractor must cope with them).
"""
from __future__ import annotations

import logging
import re
import unicodedata
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator, Sequence

# Readable text files worth asking questions about (lorem/pdflatex ones are useless).
QA_FILES: tuple[str, ...] = (
    "irs-i1040nr-instructions.pdf",
    "federal-register-2020-17221.pdf",
    "naacl06-shinyama.pdf",
    "GeoTopo-komprimiert.pdf",
    "crazyones.pdf",
    "scotus-transcript-p1.pdf",
    "google-doc-document.pdf",
    "dmca-encrypted-empty-user-pw.pdf",
    "siege-of-vicksburg-scan-ocr.pdf",
)
MIN_CHARS = 500
MAX_CHARS = 1500
TAIL_CHARS = 150
_SENT_END = re.compile(r"[.:?!;)\"”]$")
_STARTS_BLOCK = re.compile(r"^(?:[A-Z0-9•\-–—(*]|[ÄÖÜ])")


@dataclass(frozen=True)
class Paragraph:
    pid: int
    file: str
    page: int
    text: str


def default_pdf_dir() -> Path:
    """../shared/data/pdfs next to the repository."""
    return Path(__file__).resolve().parents[3] / "shared" / "data" / "pdfs"


def read_pages(path: Path) -> list[str]:
    """Text of each page (pypdf plain extraction); encrypted files get the empty password."""
    from pypdf import PdfReader  # bench-only dependency

    logging.getLogger("pypdf").setLevel(logging.ERROR)
    reader = PdfReader(str(path))
    if reader.is_encrypted:
        reader.decrypt("")
    pages = []
    for page in reader.pages:
        try:
            pages.append(page.extract_text() or "")
        except Exception:  # a broken page yields no text, not a crash
            pages.append("")
    return pages


def _clean_lines(text: str) -> list[str]:
    """Lines with collapsed inner whitespace; blank lines become ''."""
    return [re.sub(r"[ \t\u00a0]+", " ", line).strip() for line in text.splitlines()]


def _split_long(line: str, limit: int = MAX_CHARS * 2 // 3) -> list[str]:
    """Cut an over-long line (pypdf sometimes merges whole columns) at a sentence end or space."""
    pieces = []
    while len(line) > limit:
        cut = line.rfind(". ", MIN_CHARS // 2, limit)
        cut = cut + 1 if cut > 0 else line.rfind(" ", 0, limit)
        if cut <= 0:
            cut = limit
        pieces.append(line[:cut].strip())
        line = line[cut:].strip()
    return pieces + [line]


def _is_break(buffer_len: int, prev: str, line: str) -> bool:
    if buffer_len >= MAX_CHARS or buffer_len + len(line) > MAX_CHARS + MIN_CHARS // 2:
        return True
    if buffer_len < MIN_CHARS:
        return False
    return bool(_SENT_END.search(prev)) and bool(_STARTS_BLOCK.match(line))


def split_page(text: str) -> list[str]:
    """Group a page's lines into paragraphs of roughly MIN_CHARS..MAX_CHARS characters."""
    paragraphs: list[str] = []
    buf: list[str] = []
    size = 0
    lines = [piece for line in _clean_lines(text) if line for piece in _split_long(line)]
    for line in lines:
        if buf and _is_break(size, buf[-1], line):
            paragraphs.append("\n".join(buf))
            buf, size = [], 0
        buf.append(line)
        size += len(line) + 1
    if buf:
        tail = "\n".join(buf)
        if paragraphs and len(tail) < TAIL_CHARS:
            paragraphs[-1] += "\n" + tail
        else:
            paragraphs.append(tail)
    return [p for p in paragraphs if sum(c.isalpha() for c in p) >= 20]


def iter_paragraphs(pdf_dir: Path, files: Sequence[str] = QA_FILES) -> Iterator[tuple[str, int, str]]:
    """(file, 1-based page, paragraph text) for every paragraph of the given files."""
    for name in files:
        for page_no, text in enumerate(read_pages(pdf_dir / name), start=1):
            for para in split_page(text):
                yield name, page_no, para


def build_pool(pdf_dir: Path | None = None, files: Sequence[str] = QA_FILES) -> list[Paragraph]:
    """The whole paragraph pool, numbered from 0 in file/page order."""
    source = pdf_dir or default_pdf_dir()
    return [
        Paragraph(pid, name, page, text)
        for pid, (name, page, text) in enumerate(iter_paragraphs(source, files))
    ]


def normalise(text: str) -> str:
    """NFKC-folded (ligatures), case-folded, whitespace-collapsed text for literal matching."""
    return re.sub(r"\s+", " ", unicodedata.normalize("NFKC", text)).strip().casefold()
