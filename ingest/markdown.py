"""Markdown: ATX (#) and setext (=== / ---) headings become the heading of the text below them."""
from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

from .model import Section
from .sections import SectionBuilder, read_lines

_ATX = re.compile(r"^ {0,3}#{1,6}(?:[ \t]+(.*?))?(?:[ \t]+#+)?[ \t]*$")
_SETEXT = re.compile(r"^ {0,3}(=+|-+)[ \t]*$")
_FENCE = re.compile(r"^ {0,3}(`{3,}|~{3,})")
_IMAGE_OR_LINK = re.compile(r"!?\[([^\]\n]*)\]\([^)\n]*\)")


def extract_markdown(path: str | Path, *, name: str | None = None) -> Iterator[Section]:
    """Sections whose ``heading`` is the nearest heading above them (None before the first).

    Lines inside fenced code blocks are kept as text and never read as headings; links and
    images keep only their text.
    """
    reader = _MarkdownReader()
    for line in read_lines(path, name):
        yield from reader.feed(line)
    yield from reader.finish()


class _MarkdownReader:
    def __init__(self) -> None:
        self.builder = SectionBuilder()
        self.fence: str | None = None
        self.previous: str | None = None  # the last line, held back: it may be a setext title

    def feed(self, line: str) -> list[Section]:
        if self.fence is not None or _FENCE.match(line):
            return self._release() + self._code(line)
        heading = _ATX.match(line)
        if heading:
            return self._release() + self.builder.set_heading(_plain(heading.group(1) or ""))
        if _SETEXT.match(line):
            return self._underline()
        done = self._release()
        self.previous = _plain(line) if line.strip() else None
        return done + ([] if self.previous is not None else self.builder.add_line(""))

    def finish(self) -> list[Section]:
        return self._release() + self.builder.flush()

    def _underline(self) -> list[Section]:
        """=== or --- under a text line makes it a heading; alone, it is a paragraph break."""
        title, self.previous = self.previous, None
        if title is None:
            return self.builder.add_line("")
        return self.builder.set_heading(title)

    def _release(self) -> list[Section]:
        held, self.previous = self.previous, None
        return self.builder.add_line(held) if held is not None else []

    def _code(self, line: str) -> list[Section]:
        marker = _FENCE.match(line)
        if marker and (self.fence is None or marker.group(1).startswith(self.fence)):
            self.fence = None if self.fence else marker.group(1)[:3]
            return []
        return self.builder.add_line(line)


def _plain(line: str) -> str:
    """The line with Markdown links and images reduced to their text."""
    return _IMAGE_OR_LINK.sub(r"\1", line)
