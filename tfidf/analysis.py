"""Text analysis: Unicode text in, index terms out.

NFKC normalisation, case folding, word splitting that keeps numbers (``3.5``,
``COVID-19``) and hyphenated or apostrophised words, stopword removal and
Snowball stemming.  CJK runs, which carry no spaces, become overlapping
character bigrams so that a phrase from a Chinese or Japanese text still
matches.  Any input is accepted: characters that are not word characters
(controls, emoji, punctuation) only separate words.
"""
from __future__ import annotations

import re
import unicodedata
from functools import lru_cache
from typing import Callable, Iterator

from .errors import AnalysisError
from .stopwords import stopwords_for

# A word: letters/digits joined by inner hyphens, apostrophes or (between digits) dots/commas.
_WORD = re.compile(
    r"(?P<cjk>[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af\uf900-\ufaff]+)"
    r"|(?P<word>[^\W_]+(?:(?:['\-]|(?<=\d)[.,](?=\d))[^\W_]+)*)"
)
_MAX_TERM_CHARS = 64


def cjk_bigrams(run: str) -> list[str]:
    """Overlapping character bigrams of a CJK run (the run itself if one character)."""
    if len(run) == 1:
        return [run]
    return [run[i : i + 2] for i in range(len(run) - 1)]


def _stemmer_for(language: str) -> Callable[[str], str]:
    import snowballstemmer

    try:
        stemmer = snowballstemmer.stemmer(language)
    except KeyError:
        raise AnalysisError(
            f"unknown stemming language {language!r}; use one of "
            f"{', '.join(snowballstemmer.algorithms())} or 'none'"
        ) from None
    return stemmer.stemWord


class Analyzer:
    """Turns text into index terms; one instance per language, stems cached."""

    def __init__(self, language: str = "english", *, stem: bool = True, stopwords: bool = True,
                 cache_size: int = 20_000) -> None:
        self.language = language
        self.stopwords = stopwords_for(language) if stopwords else frozenset()
        stem_word = _stemmer_for(language) if stem and language != "none" else str
        self._stem = lru_cache(maxsize=cache_size)(stem_word)

    def words(self, text: str) -> Iterator[str]:
        """Normalised, case-folded words before stopwords and stemming."""
        text = unicodedata.normalize("NFKC", text).casefold().replace("\u2019", "'")
        for match in _WORD.finditer(text):
            cjk = match.group("cjk")
            if cjk:
                yield from cjk_bigrams(cjk)
            else:
                yield from self._word_forms(match.group("word"))

    def _word_forms(self, word: str) -> Iterator[str]:
        """A hyphenated word yields its parts and its joined form; a possessive loses 's."""
        if word.endswith("'s"):
            word = word[:-2]
        if "," in word:
            word = word.replace(",", "")  # 1,000 -> 1000
        if "-" not in word:
            yield word
            return
        parts = [part for part in word.split("-") if part]
        yield from parts
        if len(parts) > 1:
            yield "".join(parts)

    def terms(self, text: str) -> list[str]:
        """Index terms of ``text``: words minus stopwords, stemmed."""
        stop, stem = self.stopwords, self._stem
        return [stem(w) for w in self.words(text) if w not in stop and len(w) <= _MAX_TERM_CHARS]
