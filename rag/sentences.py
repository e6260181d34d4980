"""Sentences of retrieved passages: PDF line breaks, hyphenation, bullets, headings, abbreviations.

``split_sentences(text)`` gives display-ready sentences (one space, ligatures expanded, words
re-joined across line-end hyphens); an overlong "sentence" (merged PDF columns, tables) is cut
at a clause break or a space into pieces of at most ``MAX_SENTENCE_CHARS``.
"""
from __future__ import annotations

import re

MAX_SENTENCE_CHARS = 300

_LIGATURES = str.maketrans({"ﬀ": "ff", "ﬁ": "fi", "ﬂ": "fl", "ﬃ": "ffi", "ﬄ": "ffl", "ﬅ": "st", "ﬆ": "st"})
_ABBREV = frozenset(
    "e.g i.e etc al vs cf dr mr mrs ms prof sr jr st no nos fig figs eq sec vol pp ca approx inc ltd co "
    "corp dept est jan feb mar apr jun jul aug sep sept oct nov dec u.s u.k u.n a.m p.m ph.d z.b d.h "
    "bzw vgl nr usw ggf u.a resp min max art abs".split()
)
_TOKEN = re.compile(r"\w+(?:[-./,']\w+)*")
_BULLET = re.compile(r"^(?:[•▪●◦‣∙·*!■□➢►-]|\(?\d{1,2}[.)]|\(?[a-z][.)]|\([ivx]+\))\s+")
_BOUNDARY = re.compile(r"(?<=[.!?])[\"'”’)\]]*\s+(?=[\"'“‘(\[]?[A-Z0-9ÄÖÜÀ-Ý•])")


def _clean(text: str) -> str:
    """Display form: ligatures expanded, words re-joined across line-end hyphens, one space."""
    text = re.sub(r"(?<=[^\W\d_])-\s*\n\s*(?=[a-zäöüß])", "", text.translate(_LIGATURES))
    return re.sub(r"\s+", " ", text).strip()


def _is_heading(line: str, before: str, after: str) -> bool:
    """A short title-like line between a finished sentence and a capitalised line."""
    words = line.split()
    long_words = [w for w in words if w[0].isalpha() and len(w) > 3]
    if not long_words or len(words) > 8 or "," in line or line[-1] in ".;:!?-–—0123456789":
        return False
    if not after[:1].isupper() or (before and before[-1] not in ".!?:"):
        return False
    return sum(w[0].isupper() for w in long_words) >= 0.75 * len(long_words)


def _blocks(passage: str) -> list[str]:
    """Blank-line, bullet-item and heading separated blocks of a passage."""
    lines = [line.strip() for line in passage.splitlines()]
    blocks: list[list[str]] = [[]]
    heading = False
    for i, line in enumerate(lines):
        after = lines[i + 1] if i + 1 < len(lines) else ""
        was_heading, heading = heading, bool(line) and _is_heading(line, lines[i - 1] if i else "", after)
        if not line or heading or was_heading or _BULLET.match(line):
            blocks.append([])
        if line:
            blocks[-1].append(re.sub(r"^[•▪●◦‣∙·*!■□➢►]\s+", "", line))
    return [_clean("\n".join(b)) for b in blocks if b]


def _no_boundary(segment: str) -> bool:
    """Does the period ending this segment belong to an abbreviation, initial or leader?"""
    last = segment.rstrip("\"'”’)]").rsplit(None, 1)[-1] if segment.strip() else ""
    word = last.rstrip(".!?").lstrip("(\"'“‘").casefold()
    if not last.endswith(".") or last.endswith(".."):
        return last.endswith("..")  # dot leaders of contents and cost tables
    if last.startswith("(") and word.isdigit():  # "(2. Auflage)"
        return True
    return word in _ABBREV or (len(word) == 1 and word.isalpha()) or bool(re.fullmatch(r"(?:\w\.)+\w", word))


def _chunk(sentence: str, limit: int | None = None) -> list[str]:
    """Cut an overlong 'sentence' (merged columns, tables) at a clause break or a space."""
    limit = limit or MAX_SENTENCE_CHARS
    pieces: list[str] = []
    while len(sentence) > limit:
        window = sentence[: limit + 1]
        cut = max(window.rfind("; "), window.rfind(": "))
        cut = cut if cut > limit // 3 else window.rfind(", ")
        cut = cut if cut > limit // 3 else window.rfind(" ")
        cut = cut + 1 if cut > 0 else limit
        pieces.append(sentence[:cut].strip())
        sentence = sentence[cut:].strip()
    return pieces + ([sentence] if sentence else [])


def split_sentences(text: str) -> list[str]:
    """Sentences of a passage, aware of abbreviations, decimals, PDF line breaks and bullets."""
    sentences: list[str] = []
    for block in _blocks(text or ""):
        start = 0
        for match in _BOUNDARY.finditer(block):
            segment = block[start : match.start()]
            if not _no_boundary(segment) and len(_TOKEN.findall(segment)) >= 2:
                sentences.append(segment.strip())
                start = match.end()
        sentences.append(block[start:].strip())
    return [piece for s in sentences if s for piece in _chunk(s)]
