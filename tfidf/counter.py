"""Term-id counts straight from text: what bulk indexing feeds the index.

Indexing pays per token.  Going through terms, each token is looked up in the
analyzer's cache, its terms are counted, and each distinct term is looked up
again in the vocabulary.  A :class:`TermCounter` caches raw token -> term id
instead, so a chunk's counts come from one C-level ``Counter`` over its
tokens' ids.  A stopword maps to :data:`NO_TERM` and a token of several terms
(``covid-19``: covid, 19, covid19) to a negative code for them: both are
rare enough among a chunk's distinct ids to be sorted out afterwards.

Ids are assigned as tokens are first seen, so a vocabulary fed this way
numbers its terms exactly as one fed the same text as terms.
"""
from __future__ import annotations

from collections import Counter

from .analysis import Analyzer, bare

NO_TERM = -1  # a stopword's id
_FIRST_CODE = -2  # codes of tokens with several terms count down from here


class TermCounter(dict):
    """raw token -> its term id (or a code for none or several) in one vocabulary, filled on demand and
    emptied, between chunks, once it holds ``limit`` tokens."""

    def __init__(self, analyzer: Analyzer, vocabulary, limit: int = 100_000) -> None:
        super().__init__()
        self.analyzer, self.vocabulary, self._limit = analyzer, vocabulary, limit
        self._terms, self._word_term, self._id = analyzer.token_terms, analyzer.word_term, vocabulary.add
        self._several: list[tuple[int, ...]] = []  # code -> ids, for codes _FIRST_CODE, _FIRST_CODE - 1, ...

    def __missing__(self, token: str) -> int:
        word = bare(token)  # "cells." and "cells," have the terms of "cells"
        if word is not token:
            tid = self[token] = self[word]
        elif word.isascii() and word.isalnum():  # most tokens: one word, one term or none
            term = self._word_term(word)
            tid = self[token] = NO_TERM if term is None else self._id(term)
        else:
            tid = self[token] = self._code(self._terms(token))
        return tid

    def _code(self, terms: tuple[str, ...]) -> int:
        if len(terms) == 1:
            return self._id(terms[0])
        if not terms:
            return NO_TERM
        self._several.append(tuple(map(self._id, terms)))
        return _FIRST_CODE + 1 - len(self._several)

    def counts(self, text: str, heading: str | None = None, boost: int = 0) -> Counter:
        """Term id -> count in ``text``, with ``heading``'s terms counted ``boost`` more times."""
        if len(self) >= self._limit:
            self.clear()
            self._several.clear()
        tokens = self.analyzer.tokens(text)
        if heading and boost > 0:
            tokens += self.analyzer.tokens(heading) * boost
        counts = Counter(map(self.__getitem__, tokens))
        counts.pop(NO_TERM, None)
        if counts and min(counts) < 0:
            self._spread(counts)
        return counts

    def _spread(self, counts: Counter) -> None:
        """Replace the codes of tokens with several terms by their terms' ids."""
        for code in [code for code in counts if code < 0]:
            times = counts.pop(code)
            for tid in self._several[_FIRST_CODE - code]:
                counts[tid] += times
