"""HTML through the standard library's parser: visible text, h1-h6 as headings, blocks as paragraphs."""
from __future__ import annotations

from collections.abc import Iterator
from html.parser import HTMLParser
from pathlib import Path

from .encoding import read_head, text_encoding
from .errors import NoText, UnsupportedType
from .model import Section
from .sections import SectionBuilder

READ_SIZE = 65536
_HIDDEN = frozenset({"script", "style", "noscript", "template", "svg"})
_HEADINGS = frozenset({"h1", "h2", "h3", "h4", "h5", "h6"})
_BLOCKS = frozenset(
    {
        "address", "article", "aside", "blockquote", "caption", "dd", "details", "dialog", "div", "dl", "dt",
        "fieldset", "figcaption", "figure", "footer", "form", "header", "hr", "li", "main", "nav", "ol", "p",
        "pre", "section", "summary", "table", "tbody", "tfoot", "thead", "tr", "ul",
    }
)
_LINE_BREAKS = frozenset({"br", "td", "th"})


def extract_html(path: str | Path, *, name: str | None = None) -> Iterator[Section]:
    """Sections headed by the nearest h1-h6 above them (the <title> before the first heading).

    Scripts, styles, noscript, template and svg content are dropped; entities are decoded.
    Raises NoText if nothing visible is left.
    """
    label = name or Path(path).name
    encoding = text_encoding(read_head(path))
    if encoding is None:
        raise UnsupportedType(f"{label}: not a text file; upload text, Markdown or HTML")
    found = False
    for section in _parse(path, encoding):
        found = True
        yield section
    if not found:
        raise NoText(
            f"{label}: no visible text in this HTML (scripts and styles are skipped); "
            "if the page builds its content with JavaScript, save the rendered page and upload that"
        )


def _parse(path: str | Path, encoding: str) -> Iterator[Section]:
    parser = _TextParser()
    with open(path, encoding=encoding, errors="replace") as handle:
        while block := handle.read(READ_SIZE):
            parser.feed(block)
            yield from parser.take()
    parser.close()
    yield from parser.take()


class _TextParser(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.builder = SectionBuilder()
        self.ready: list[Section] = []
        self.line: list[str] = []
        self.hidden: list[str] = []  # open hidden elements, innermost last
        self.capture: list[str] | None = None  # text of an open heading or <title>

    def take(self) -> list[Section]:
        ready, self.ready = self.ready, []
        return ready

    def close(self) -> None:
        super().close()
        self.line += self.capture or []
        self._end_line()
        self.ready += self.builder.flush()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _HIDDEN or self.hidden:
            self._hide(tag)
        elif tag in _HEADINGS or tag == "title":
            self._end_paragraph()
            self.capture = []
        else:
            self._break(tag)

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if not self.hidden:
            self._break(tag)

    def handle_endtag(self, tag: str) -> None:
        if self.hidden:
            self._unhide(tag)
        elif (tag in _HEADINGS or tag == "title") and self.capture is not None:
            self._set_heading(" ".join(self.capture), replace=tag in _HEADINGS)
        else:
            self._break(tag)

    def handle_data(self, data: str) -> None:
        if self.hidden:
            return
        target = self.capture if self.capture is not None else self.line
        target.append(data)

    def _hide(self, tag: str) -> None:
        if tag in _HIDDEN:
            self.hidden.append(tag)

    def _unhide(self, tag: str) -> None:
        if tag in self.hidden:
            while self.hidden.pop() != tag:
                pass

    def _set_heading(self, text: str, *, replace: bool) -> None:
        self.capture = None
        if replace or self.builder.heading is None:
            self.ready += self.builder.set_heading(" ".join(text.split()) or None)

    def _break(self, tag: str) -> None:
        if tag in _BLOCKS:
            self._end_paragraph()
        elif tag in _LINE_BREAKS:
            self._end_line()

    def _end_line(self) -> None:
        text = " ".join("".join(self.line).split())
        self.line = []
        if text:
            self.ready += self.builder.add_line(text)

    def _end_paragraph(self) -> None:
        self._end_line()
        self.ready += self.builder.add_line("")
