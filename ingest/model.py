"""The values ingestion produces: sections of a document, chunks of a section, corpus records.

Named tuples, not dataclasses: a bulk ingestion makes one of each per record, and they are
cheaper to make (and to import).
"""
from __future__ import annotations

from typing import NamedTuple


class Section(NamedTuple):
    """A run of text from one page (PDF) or under one heading (Markdown, HTML)."""

    text: str
    page: int | None = None
    heading: str | None = None


class Chunk(NamedTuple):
    """A piece of a section; ``text == section.text[start:end]``."""

    text: str
    page: int | None
    heading: str | None
    start: int
    end: int


class Record(NamedTuple):
    """One document of a JSON-lines corpus (BEIR layout: ``_id``, ``title``, ``text``)."""

    id: str
    title: str
    text: str
