"""Numbered sources for the prompt, and checking the [n] citations in an answer.

A passage may be a string, a mapping or an object; its text is read from ``text``
(or ``content``), its label from ``title`` (or ``doc``/``source``/``path``) and an
optional ``page``. The passage itself is kept on the Source for the caller.
"""
from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

# "[3]", "[3, 4]", "[3; 4]", "[3-5]" (en dash too); one bracket group per match.
_MARKER = re.compile(r"[ \t]*\[(\s*\d{1,4}(?:\s*(?:[,;]|-|\u2013)\s*\d{1,4})*\s*)\]")
_NUMBER_RUN = re.compile(r"(\d+)\s*(?:(-|\u2013)\s*(\d+))?")
_MAX_RANGE = 50


@dataclass(frozen=True)
class Source:
    number: int
    text: str
    title: str = ""
    page: int | str | None = None
    passage: Any = field(default=None, compare=False, repr=False)

    @property
    def label(self) -> str:
        page = f", p. {self.page}" if self.page not in (None, "") else ""
        return f"{self.title}{page}" if self.title else page.lstrip(", ")


def number_sources(passages: Iterable[Any]) -> list[Source]:
    """Sources numbered 1, 2, ... in the given order."""
    return [_source(number, passage) for number, passage in enumerate(passages, start=1)]


def format_context(sources: Sequence[Source]) -> str:
    """The sources as the prompt shows them: "[n] label" then the text."""
    if not sources:
        return "(no sources were found for this question)"
    return "\n\n".join(_block(source) for source in sources)


def clean_citations(answer_text: str, n_sources: int) -> tuple[str, list[int]]:
    """Drop citation numbers outside 1..n_sources; the cited numbers in first-cited order."""
    cited: list[int] = []

    def rewrite(match: re.Match[str]) -> str:
        numbers = [n for n in _numbers(match.group(1)) if 1 <= n <= n_sources]
        numbers = list(dict.fromkeys(numbers))
        cited.extend(n for n in numbers if n not in cited)
        lead = match.group(0)[: match.group(0).index("[")]
        return f"{lead}[{', '.join(map(str, numbers))}]" if numbers else ""

    return _MARKER.sub(rewrite, answer_text), cited


def _numbers(group: str) -> list[int]:
    numbers: list[int] = []
    for start, dash, end in _NUMBER_RUN.findall(group):
        first, last = int(start), int(end or start)
        numbers.extend(range(first, last + 1) if dash and 0 <= last - first <= _MAX_RANGE else [first])
    return numbers


def _block(source: Source) -> str:
    head = f"[{source.number}] {source.label}".rstrip()
    return f"{head}\n{source.text.strip()}"


def _source(number: int, passage: Any) -> Source:
    if isinstance(passage, str):
        return Source(number, passage, passage=passage)
    text = _field(passage, "text", "content")
    if not isinstance(text, str):
        raise TypeError(f"passage {number} has no text: {passage!r}; give it a 'text' attribute or key")
    title = _field(passage, "title", "doc", "source", "path")
    return Source(number, text, str(title or ""), _field(passage, "page"), passage)


def _field(passage: Any, *names: str) -> Any:
    for name in names:
        value = passage.get(name) if isinstance(passage, Mapping) else getattr(passage, name, None)
        if value is not None:
            return value
    return None
