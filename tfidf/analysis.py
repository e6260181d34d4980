"""Text analysis: Unicode text in, index terms out.

NFKC normalisation, case folding, Arabic and Hebrew vowel points dropped, word splitting that keeps numbers (``3.5``,
``1,000``) and hyphenated (``covid-19`` gives ``covid``, ``19`` and
``covid19``) or apostrophised words, stopword removal and Snowball stemming.
CJK runs, which carry no spaces, become overlapping character bigrams so a
phrase from a Chinese or Japanese text still matches.  Any input is accepted:
characters that are not word characters (controls, emoji, punctuation) only
separate words.

Speed comes from splitting on whitespace after a C-level ``translate`` and
analysing each distinct raw token once: a cache maps it to its terms.  Tokens
that are ASCII letters, digits and numbers joined by hyphens (most of them)
are analysed without regular expressions; text with a few non-ASCII characters
has its ASCII separators translated as bytes and the others replaced one
distinct character at a time.
"""
from __future__ import annotations

import re
import string
import unicodedata
from itertools import chain
from collections.abc import Callable, Iterator

from .errors import AnalysisError
from .stopwords import stopwords_for

_KEPT = "-'.,"  # inner punctuation that a token keeps until its own analysis
_ASCII_SEPARATORS = str.maketrans({c: " " for c in string.punctuation + "\x7f" if c not in _KEPT})
# Combining marks are not \w but belong to their word: Latin accents left decomposed, and
# the vowel signs and viramas of Indic, Thai and Lao scripts.
_MARKS = "\u0300-\u036f\u0900-\u0963\u0966-\u0dff\u0e00-\u0eff"  # not the danda (U+0964/5)
_SEPARATORS = re.compile(rf"[^\w{_MARKS}\-'.,]+|_")
_PIECE = re.compile(rf"\d+(?:[.,]\d+)+|(?:[^\W_]|[{_MARKS}])+(?:'(?:[^\W_]|[{_MARKS}])+)*")
# Arabic tashkeel and Hebrew points: optional vowel marks that text mostly omits.
_POINTING = re.compile("[\u0591-\u05bd\u05bf\u05c1\u05c2\u05c4\u05c5\u05c7\u0610-\u061a\u064b-\u065f"
                       "\u0670\u06d6-\u06dc\u06df-\u06e4\u06e7\u06e8\u06ea-\u06ed]")
_CJK_RUN = re.compile(r"[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af\uf900-\ufaff]+")
_MAX_TERM_CHARS = 64
# The unicode path's view of ASCII: a byte table turning its separators (all but letters, digits
# and -'.,) into spaces; bytes of non-ASCII characters pass unchanged.
_UNICODE_ASCII_SEPARATORS = bytes(
    b if b >= 0x80 or (chr(b).isalnum() or chr(b) in _KEPT) else 0x20 for b in range(256))
# ASCII text (already NFKC) folded to lower case and split at the ASCII path's separators, as bytes.
_ASCII_FOLD_SEPARATORS = bytes(
    0x20 if chr(b) in string.punctuation + "\x7f" and chr(b) not in _KEPT else ord(chr(b).lower()) if b < 0x80 else b
    for b in range(256))
_NON_ASCII = re.compile("[^\x00-\x7f]")
_CHAR_CACHE = 4096


def cjk_bigrams(run: str) -> list[str]:
    """Overlapping character bigrams of a CJK run (the run itself if one character)."""
    if len(run) == 1:
        return [run]
    return [run[i : i + 2] for i in range(len(run) - 1)]


def token_words(token: str) -> list[str]:
    """The words of one raw token: parts of a compound and its joined form, numbers whole."""
    token = token.strip(_KEPT)
    if token.endswith("'s"):
        token = token[:-2]
    words = []
    for part in token.split("-"):
        words += [p.replace(",", "") if p[0].isdigit() else p for p in _PIECE.findall(part)]
    if "-" in token and len(words) > 1:
        words.append("".join(words))
    return words


def bare(token: str) -> str:
    """The form of a raw token that its analysis starts from, the inner punctuation -'., stripped
    from its ends: tokens with the same bare form (``cells``, ``cells.``, ``cells,``) have the same terms."""
    return token.strip(_KEPT)


def plain_words(token: str) -> list[str] | None:
    """:func:`token_words` for an ASCII token of letters, digits and numbers joined by hyphens
    (``cells.``, ``cd4``, ``covid-19``, ``8.6-12.2``, ``3,000``) with no regex; None for any other."""
    word = token.strip(_KEPT)
    if not word.isascii() or "'" in word:
        return None
    if word.isalnum():
        return [word]
    words = word.split("-")
    for i, part in enumerate(words):
        if not part.isalnum():  # a number like 3.5 or 1,000 (its commas dropped), or something else
            if not all(map(str.isdigit, part.replace(",", ".").split("."))):
                return None
            words[i] = part.replace(",", "")
    if len(words) > 1:
        words.append("".join(words))
    return words


def _char_replacement(char: str) -> str | None:
    """What the unicode path makes of one non-ASCII character: None keeps it."""
    if char == "\u2019":
        return "'"
    if _POINTING.match(char):
        return ""
    return " " if _SEPARATORS.match(char) else None


def _unicode_tokens(text: str, replacements: dict) -> list[str]:
    """Raw tokens of normalised, case-folded non-ASCII text (``replacements``: char -> what it becomes).

    The same as splitting after ``_SEPARATORS.sub(" ", _POINTING.sub("", text.replace("\u2019", "'")))``:
    each of those acts on single characters, so ASCII ones go through a byte table and each
    distinct other character is replaced once.
    """
    raw = text.encode("utf-8", "surrogatepass").translate(_UNICODE_ASCII_SEPARATORS)
    text = raw.decode("utf-8", "surrogatepass")
    for char in set(_NON_ASCII.findall(text)):
        replacement = replacements[char]
        if replacement is not None:
            text = text.replace(char, replacement)
    return text.split()


def cjk_split(word: str) -> list[str]:
    """A word's non-CJK pieces, and the bigrams of its CJK runs (the word itself if it has none)."""
    if not _CJK_RUN.search(word):
        return [word]
    pieces = _CJK_RUN.split(word)
    return [p for p in pieces if p] + [b for run in _CJK_RUN.findall(word) for b in cjk_bigrams(run)]


def _stemmer_for(language: str) -> Callable[[str], str]:
    """English uses our fast Porter2 (same output as Snowball's); other languages, snowballstemmer."""
    if language.lower() in ("english", "en"):
        from .porter2 import stem

        return stem
    import snowballstemmer

    try:
        return snowballstemmer.stemmer(language).stemWord
    except KeyError:
        raise AnalysisError(
            f"unknown stemming language {language!r}; use one of "
            f"{', '.join(snowballstemmer.algorithms())} or 'none'"
        ) from None


class BoundedCache(dict):
    """key -> compute(key), filled on demand, emptied when it reaches ``limit`` entries."""

    def __init__(self, compute: Callable, limit: int) -> None:
        super().__init__()
        self._compute, self._limit = compute, limit

    def __missing__(self, key):
        if len(self) >= self._limit:
            self.clear()
        value = self[key] = self._compute(key)
        return value


class _StemCache(BoundedCache):
    """word -> its stem (of its first ``_MAX_TERM_CHARS`` characters), one call deep on a miss."""

    def __missing__(self, word: str) -> str:
        if len(self) >= self._limit:
            self.clear()
        value = self[word] = self._compute(word[:_MAX_TERM_CHARS])
        return value


class Analyzer:
    """Turns text into index terms; one instance per language, token analyses cached."""

    def __init__(self, language: str = "english", *, stem: bool = True, stopwords: bool = True,
                 cache_size: int = 100_000) -> None:
        self.language = language
        self.stopwords = stopwords_for(language) if stopwords else frozenset()
        stem_word = _stemmer_for(language) if stem and language != "none" else str
        self._stem_word = stem_word
        self._stems = _StemCache(stem_word, cache_size)
        self._tokens = BoundedCache(self.token_terms, cache_size)  # raw token -> its terms
        self._characters = BoundedCache(_char_replacement, _CHAR_CACHE)  # non-ASCII char -> replacement

    def token_terms(self, token: str) -> tuple[str, ...]:
        """The terms of one raw token (from :meth:`tokens`); none for a stopword."""
        stems, stop = self._stems, self.stopwords
        word = token if token.isalpha() else bare(token)  # "cells." "19" "cd4": one word (plain_words)
        if word.isascii() and word.isalnum():  # most tokens
            return () if word in stop else (stems[word],)
        words = plain_words(token)
        if words is None:
            words = [w for word in token_words(token) for w in cjk_split(word)]
        if len(words) == 1:
            return () if words[0] in stop else (stems[words[0]],)
        return tuple(stems[w] for w in words if w not in stop)

    def word_term(self, word: str) -> str | None:
        """The term of one plain word (ASCII letters and digits, as :meth:`token_terms` finds most tokens),
        None for a stopword; stemmed afresh, for callers that cache terms themselves."""
        return None if word in self.stopwords else self._stem_word(word[:_MAX_TERM_CHARS])

    def tokens(self, text: str) -> list[str]:
        """Raw tokens: normalised, case-folded text split at separators."""
        if text.isascii():  # NFKC already; case folding and separators in one byte table
            return text.encode("ascii").translate(_ASCII_FOLD_SEPARATORS).decode("ascii").split()
        text = unicodedata.normalize("NFKC", text).casefold()
        if text.isascii():
            return text.translate(_ASCII_SEPARATORS).split()
        return _unicode_tokens(text, self._characters)

    def terms(self, text: str) -> list[str]:
        """Index terms of ``text``: words minus stopwords, stemmed."""
        return list(self.iter_terms(text))

    def iter_terms(self, text: str) -> Iterator[str]:
        """:meth:`terms`, lazily: an iterator to count them with, say, a Counter (all in C)."""
        return chain.from_iterable(map(self._tokens.__getitem__, self.tokens(text)))
