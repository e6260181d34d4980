"""Retrieval units for the QA bench, indexed through the product's own path (rag.library.Library).

Two unit sets, each in a fresh in-memory ``Library(SQLiteStore.memory(), Settings())``:

* ``chunks``: the QA PDFs ingested with ``library.add_file(path, name)`` exactly as uploads are
  (PDF worker, tidy, ``ingest.chunk_sections`` with the default CHUNK_SIZE/CHUNK_OVERLAP);
  the units are the stored chunks, which is what ``/ask`` retrieves and answers from.
* ``paragraphs``: the paragraph pool of bench/qa/paragraphs.py, one corpus record per
  paragraph through ``library.add_records`` (record id = the paragraph's pid, no title).

Judging whether a retrieved unit "holds the answer-bearing paragraph" (``judge``):

* ``hit`` (the locator rule): the unit comes from the question's file and page and contains the
  question's ``paragraph`` locator (a distinctive substring of the answer-bearing paragraph).
  For paragraph units this is exactly "it is the answer-bearing paragraph" (the locator matches
  one paragraph of the page, checked by build_questions). For 2000-character chunks it says
  "the chunk contains (the start of) that paragraph".
* ``span`` (the answer rule): the unit comes from the question's file and page and contains an
  accepted answer *with its context in the answer-bearing paragraph* (the answer plus up to
  ``SPAN_CONTEXT`` letters/digits either side). A chunk may hold the locator but not the answer
  when chunking cuts the paragraph (and vice versa); ``span`` is the ceiling for answering.

Both rules compare "squashed" text: NFKC, case-folded, only letters and digits, so the
product's tidying (joined hyphenated line breaks, expanded ligatures, re-wrapped lines) and the
pool's raw pypdf text compare equal.
"""
from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

from bench.qa.paragraphs import QA_FILES, Paragraph, default_pdf_dir

SPAN_CONTEXT = 30


@dataclass(frozen=True)
class Unit:
    """One retrievable unit: id (string), file, 1-based page and text."""

    uid: str
    file: str
    page: int | None
    text: str


def squash(text: str) -> str:
    """Letters and digits only, NFKC and case-folded."""
    return re.sub(r"[\W_]+", "", unicodedata.normalize("NFKC", text).casefold())


def new_library():
    """An empty in-memory Library with the default settings (what the server runs)."""
    from rag.library import Library
    from rag.settings import Settings
    from store import SQLiteStore

    return Library(SQLiteStore.memory(), Settings())


def chunk_library(pdf_dir: Path | None = None, files: Sequence[str] = QA_FILES):
    """The QA PDFs added as uploads are; returns (library, units in store order)."""
    library = new_library()
    source = pdf_dir or default_pdf_dir()
    for name in files:
        library.add_file(source / name, name)
    units = []
    for document in library.store.documents(limit=len(files) + 1):
        units += [Unit(str(c.key), document.name, c.page, c.text) for c in library.store.document_chunks(document.key)]
    return library, sorted(units, key=lambda u: int(u.uid))


def paragraph_library(pool: Sequence[Paragraph]):
    """The paragraph pool as corpus records; returns (library, units by pid)."""
    import ingest

    library = new_library()
    for _ in library.add_records(ingest.Record(str(p.pid), "", p.text) for p in pool):
        pass
    return library, [Unit(str(p.pid), p.file, p.page, p.text) for p in pool]


def passage_units(library, question: str, k: int, by_pid: dict[str, Unit] | None = None) -> list[Unit]:
    """``library.search(question, k)`` as Units (paragraph libraries map records back to pages)."""
    found = []
    for passage in library.search(question, k):
        if by_pid is not None:
            found.append(by_pid[passage.source_id])
        else:
            found.append(Unit("", passage.document_name, passage.page, passage.text))
    return found


@dataclass(frozen=True)
class Gold:
    """What a unit must hold for a question: file, page, squashed locator and answer spans."""

    file: str
    page: int
    locator: str
    spans: tuple[str, ...]

    @classmethod
    def of(cls, question: dict, paragraph: Paragraph | None) -> "Gold":
        text = squash(paragraph.text) if paragraph else ""
        spans = []
        for answer in question["answers"]:
            needle = squash(answer)
            for match in re.finditer(re.escape(needle), text) if needle else ():
                start, end = max(0, match.start() - SPAN_CONTEXT), match.end() + SPAN_CONTEXT
                spans.append(text[start:end])
        return cls(question["file"], question["page"], squash(question["paragraph"]), tuple(spans))


def judge(gold: Gold, unit: Unit) -> tuple[bool, bool]:
    """(locator hit, answer-span hit) of one retrieved unit."""
    if unit.file != gold.file or unit.page != gold.page:
        return False, False
    text = squash(unit.text)
    return gold.locator in text, any(span in text for span in gold.spans)
