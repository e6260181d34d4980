"""Stream a text file as decoded lines and group them into bounded Sections at paragraph breaks.

Text, Markdown and HTML extraction share this so no whole file is ever held in memory: a
section is cut at the first paragraph break after ``target`` characters, and (for text with
no breaks at all) at a line break after ``4 * target``.
"""
from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import IO

from .encoding import read_head, text_encoding
from .errors import UnsupportedType
from .model import Section
from .tidy import tidy

SECTION_TARGET = 8192
LINE_LIMIT = SECTION_TARGET


def read_lines(path: str | Path, name: str | None = None) -> Iterator[str]:
    """Decoded lines without their line ends; a line longer than LINE_LIMIT comes in pieces
    split at a space where there is one."""
    encoding = text_encoding(read_head(path))
    if encoding is None:
        raise UnsupportedType(f"{name or Path(path).name}: not a text file; upload text, Markdown or HTML")
    with open(path, encoding=encoding, errors="replace", newline=None) as handle:
        yield from _bounded_lines(handle)


def _bounded_lines(handle: IO[str]) -> Iterator[str]:
    carry = ""
    while piece := handle.readline(LINE_LIMIT):
        line = carry + piece
        if line.endswith("\n") or len(piece) < LINE_LIMIT:  # a whole line, or the last one
            carry = ""
            yield line.removesuffix("\n")
            continue
        cut = line.rfind(" ") + 1 or len(line)
        carry = line[cut:]
        yield line[:cut]
    if carry:
        yield carry


class SectionBuilder:
    """Collects lines under the current heading and hands out Sections of bounded size."""

    def __init__(self, target: int = SECTION_TARGET, page: int | None = None) -> None:
        self.target = target
        self.page = page
        self.heading: str | None = None
        self._lines: list[str] = []
        self._size = 0

    def add_line(self, line: str) -> list[Section]:
        """Add one line; a blank line is a paragraph break, where a full section is handed out."""
        if not line.strip():
            return self._paragraph_break()
        self._lines.append(line)
        self._size += len(line) + 1
        return self.flush() if self._size >= 4 * self.target else []

    def set_heading(self, heading: str | None) -> list[Section]:
        """Start a new section under ``heading``; returns the section it closes, if any."""
        done = self.flush()
        self.heading = tidy(heading) if heading else None
        return done

    def flush(self) -> list[Section]:
        """Hand out what has been collected (nothing if it is only whitespace)."""
        text = tidy("\n".join(self._lines))
        self._lines, self._size = [], 0
        return [Section(text=text, page=self.page, heading=self.heading)] if text else []

    def _paragraph_break(self) -> list[Section]:
        if self._size >= self.target:
            return self.flush()
        if self._lines and self._lines[-1]:
            self._lines.append("")
        return []
