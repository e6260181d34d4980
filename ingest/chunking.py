"""Cut sections into chunks of at most ``size`` characters along paragraphs, sentences and words.

Whole paragraphs are packed into a chunk while they fit. A paragraph longer than ``size`` starts
a new chunk and is cut at sentence ends; a sentence longer than ``size`` at spaces between words.
Only a single "word" longer than ``size`` (a URL, a run of CJK text) is ever cut inside. Each
chunk after the first in a section starts with the last sentence(s) of the one before, up to
``overlap`` characters (the last words if one sentence is longer than that). Chunks never cross
sections, so never span two pages or two headings. Every chunk is ``section.text[start:end]``.
"""
from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from typing import NamedTuple

from .model import Chunk, Section

_PARAGRAPH_BREAK = re.compile(r"\n[ \t]*\n\s*")
# A sentence ends at . ! ? or … (plus closing quotes/brackets) before a space and a character
# that is not a lower-case ASCII letter (so "e.g. the" stays whole), at CJK 。！？, or at a blank line.
# (The leading lookahead only lets the regex engine skip to where a match can start.)
_SENTENCE_END = re.compile(
    r"(?=[.!?\u2026\u3002\uff01\uff1f\n])"
    r"(?:([.!?\u2026]+[\"'\u2019\u201d\u00bb)\]]*)\s+(?=[^\sa-z])"
    r"|([\u3002\uff01\uff1f])\s*(?=\S)"
    r"|\n[ \t]*\n\s*(?=\S))"
)
_WORD = re.compile(r"\S+")


class _Piece(NamedTuple):
    start: int
    end: int
    fresh: bool  # must begin a new chunk (the first piece of an overlong paragraph)


def chunk_sections(sections: Iterable[Section], size: int = 1000, overlap: int = 150) -> Iterator[Chunk]:
    """Chunks of every section in order; page and heading are copied from the section."""
    _check(size, overlap)
    for section in sections:
        for start, end in chunk_spans(section.text, size, overlap):
            yield Chunk(section.text[start:end], section.page, section.heading, start, end)


def chunk_spans(text: str, size: int = 1000, overlap: int = 150) -> Iterator[tuple[int, int]]:
    """(start, end) offsets of the chunks of one text."""
    _check(size, overlap)
    if len(text) <= size:  # it fits: one chunk, the text without its outer whitespace
        span = _stripped(text, 0, len(text))
        if span:
            yield span
        return
    start = end = -1
    for piece in _pieces(text, size):
        if start >= 0 and (piece.fresh or piece.end - start > size):
            yield start, end
            start = _overlap_start(text, start, end, piece.end - size, overlap)
        if start < 0:
            start = piece.start
        end = piece.end
    if start >= 0:
        yield start, end


def _check(size: int, overlap: int) -> None:
    if size < 1:
        raise ValueError(f"chunk size must be at least 1 character, got size={size}")
    if not 0 <= overlap < size:
        raise ValueError(f"overlap={overlap} must be between 0 and size-1={size - 1}; try overlap={size // 7}")


def _pieces(text: str, size: int) -> Iterator[_Piece]:
    """Whole paragraphs; the sentences of a paragraph longer than ``size``; the words of a
    sentence longer than ``size``."""
    for start, end in _spans(text, _PARAGRAPH_BREAK, 0, len(text)):
        if end - start <= size:
            yield _Piece(start, end, False)
            continue
        for number, (head, tail) in enumerate(_sentence_pieces(text, start, end, size)):
            yield _Piece(head, tail, number == 0)


def _sentence_pieces(text: str, start: int, end: int, size: int) -> Iterator[tuple[int, int]]:
    for head, tail in _spans(text, _SENTENCE_END, start, end):
        if tail - head <= size:
            yield head, tail
        else:
            yield from _words(text, head, tail, size)


def _words(text: str, start: int, end: int, size: int) -> Iterator[tuple[int, int]]:
    """Each word of text[start:end]; a word longer than ``size`` comes in slices of ``size``."""
    for word in _WORD.finditer(text, start, end):
        for head in range(word.start(), word.end(), size):
            yield head, min(head + size, word.end())


def _spans(text: str, separator: re.Pattern[str], start: int, end: int) -> Iterator[tuple[int, int]]:
    """Stripped, non-empty spans of text[start:end] between matches of ``separator``."""
    head, ends = start, range(1, separator.groups + 1)
    for match in separator.finditer(text, start, end):
        cut = max(map(match.end, ends), default=-1)  # after sentence punctuation, which the span keeps
        span = _stripped(text, head, cut if cut >= 0 else match.start())
        if span:
            yield span
        head = match.end()
    span = _stripped(text, head, end)
    if span:
        yield span


def _stripped(text: str, start: int, end: int) -> tuple[int, int] | None:
    """text[start:end] without its outer whitespace, as (start, end); None if nothing is left."""
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    return (start, end) if start < end else None


def _overlap_start(text: str, start: int, end: int, lowest: int, overlap: int) -> int:
    """Where the next chunk starts: the earliest sentence start (else word start) in the last
    ``overlap`` characters of the chunk [start, end), but not before ``lowest``; -1 if none."""
    floor = max(end - overlap, start + 1, lowest)
    if floor >= end:
        return -1
    scan = _resume_point(text, start, floor)
    for boundary in (_SENTENCE_END, _WORD_START):
        for match in boundary.finditer(text, scan, end):
            if floor <= match.end() < end:
                return match.end()
    return -1


def _resume_point(text: str, start: int, floor: int) -> int:
    """A place at or before ``floor`` from which both boundary regexes find the same matches as
    from ``start``: just after a letter or digit, which no match can contain (so none spans it)."""
    scan = floor
    while scan > start and not text[scan - 1].isalnum():
        scan -= 1
    return scan


_WORD_START = re.compile(r"\s+(?=\S)")
