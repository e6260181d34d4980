"""Plain text: sections of whole paragraphs, read line by line."""
from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from .model import Section
from .sections import SectionBuilder, read_lines


def extract_text(path: str | Path, *, name: str | None = None) -> Iterator[Section]:
    """Sections (page and heading None) of about SECTION_TARGET characters, cut at blank lines.

    UTF-8 (with or without BOM) and UTF-16/32 with BOM are read as such; other text falls back
    to cp1252, then latin-1. ``name`` (default: the path's) labels error messages.
    """
    builder = SectionBuilder()
    for line in read_lines(path, name):
        yield from builder.add_line(line)
    yield from builder.flush()
