"""Tidy extracted text: normalise Unicode, collapse spaces, join hyphenated line breaks."""
from __future__ import annotations

import re
import unicodedata
from types import MappingProxyType

_LIGATURES = MappingProxyType(
    str.maketrans({"\ufb00": "ff", "\ufb01": "fi", "\ufb02": "fl", "\ufb03": "ffi", "\ufb04": "ffl"})
    | str.maketrans({"\ufb05": "st", "\ufb06": "st"})
)
_CONTROLS = re.compile(r"[\x00-\x08\x0b\x0e-\x1f\x7f-\x9f\u00a0\u2000-\u200a\u202f\u205f\u3000]")
_SURROGATES = re.compile(r"[\ud800-\udfff]")
_LINE_BREAKS = re.compile(r"\r\n?|[\x0c\u2028\u2029\x85]")
_SPACES = re.compile(r"[ \t]+")
_SOFT_HYPHEN = re.compile("\u00ad[ \t]*\n?")
_HYPHEN_BREAK = re.compile(r"(?<=\w)-\n(?=[^\W\d_])")
_BLANK_RUNS = re.compile(r"\n{3,}")


def tidy(text: str) -> str:
    """NFC text with ligatures expanded, one space between words, trimmed lines,
    "exam-\\nple" joined to "example", and at most one blank line between paragraphs."""
    text = unicodedata.normalize("NFC", _SURROGATES.sub("\ufffd", text)).translate(_LIGATURES)
    text = _SOFT_HYPHEN.sub("", _CONTROLS.sub(" ", _LINE_BREAKS.sub("\n", text)))
    lines = (_SPACES.sub(" ", line).strip() for line in text.split("\n"))
    text = _HYPHEN_BREAK.sub(_join_hyphen, "\n".join(lines))
    return _BLANK_RUNS.sub("\n\n", text).strip()


def _join_hyphen(match: re.Match[str]) -> str:
    """Drop a line-end hyphen when the next line starts in lower case (a split word)."""
    following = match.string[match.end()]
    return "" if following.islower() else match.group()
