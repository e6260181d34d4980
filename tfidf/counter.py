"""Term-id counts straight from text: what bulk indexing feeds the index.

Indexing pays per token.  Going through terms, each token is looked up in the
analyzer's cache, its terms are counted, and each distinct term is looked up
again in the vocabulary.  A :class:`TermCounter` caches raw token -> term ids
instead (none for a stopword, several for ``covid-19``: covid, 19, covid19),
so a chunk's counts come from one C-level ``Counter`` over its tokens' ids.

Ids are assigned as tokens are first seen, so a vocabulary fed this way
numbers its terms exactly as one fed the same text as terms.
"""
from __future__ import annotations

from collections import Counter
from itertools import chain

from .analysis import Analyzer, bare


class TermCounter(dict):
    """raw token -> its term ids in one vocabulary, filled on demand, emptied when it holds ``limit`` tokens."""

    def __init__(self, analyzer: Analyzer, vocabulary, limit: int = 100_000) -> None:
        super().__init__()
        self.analyzer, self.vocabulary, self._limit = analyzer, vocabulary, limit
        self._terms, self._id = analyzer.token_terms, vocabulary.add

    def __missing__(self, token: str) -> tuple[int, ...]:
        if len(self) >= self._limit:
            self.clear()
        word = bare(token)  # "cells." and "cells," have the terms of "cells"
        if word is not token:
            ids = self[token] = self[word]
            return ids
        terms = self._terms(token)
        ids = self[token] = (self._id(terms[0]),) if len(terms) == 1 else tuple(map(self._id, terms))
        return ids

    def counts(self, text: str, heading: str | None = None, boost: int = 0) -> Counter:
        """Term id -> count in ``text``, with ``heading``'s terms counted ``boost`` more times."""
        tokens = self.analyzer.tokens(text)
        if heading and boost > 0:
            tokens += self.analyzer.tokens(heading) * boost
        return Counter(chain.from_iterable(map(self.__getitem__, tokens)))
