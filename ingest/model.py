"""The values ingestion produces: sections of a document, chunks of a section, corpus records."""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Section:
    """A run of text from one page (PDF) or under one heading (Markdown, HTML)."""

    text: str
    page: int | None = None
    heading: str | None = None


@dataclass(frozen=True)
class Chunk:
    """A piece of a section; ``text == section.text[start:end]``."""

    text: str
    page: int | None
    heading: str | None
    start: int
    end: int


@dataclass(frozen=True)
class Record:
    """One document of a JSON-lines corpus (BEIR layout: ``_id``, ``title``, ``text``)."""

    id: str
    title: str
    text: str
