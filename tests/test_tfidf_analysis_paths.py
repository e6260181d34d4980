"""Analysis fast paths (plain ASCII tokens, byte-table tokenising) give exactly the general path's terms."""
from __future__ import annotations

import gzip
import json
import unicodedata

import pytest
from hypothesis import given, settings, strategies as st

from tfidf import Analyzer
from tfidf.analysis import _ASCII_SEPARATORS, _POINTING, _SEPARATORS, cjk_split, plain_words, token_words
from tfidf.porter2 import stem

ANALYZER = Analyzer()


def reference_tokens(text: str) -> list[str]:
    """Tokenising as it was before the fast paths: a regex over any non-ASCII text."""
    text = unicodedata.normalize("NFKC", text).casefold()
    if text.isascii():
        return text.translate(_ASCII_SEPARATORS).split()
    return _SEPARATORS.sub(" ", _POINTING.sub("", text.replace("\u2019", "'"))).split()


def reference_terms(text: str) -> list[str]:
    """Every token through token_words and cjk_split (only plain ASCII words skip them)."""
    stop, terms = ANALYZER.stopwords, []
    for token in reference_tokens(text):
        if token.isalpha() and token.isascii():
            words = [token]
        else:
            words = [w for word in token_words(token) for w in cjk_split(word)]
        terms += [stem(w[:64]) for w in words if w not in stop]
    return terms


# Pieces that make tricky tokens: numbers, compounds, possessives, stray punctuation, scripts.
PIECES = ["covid", "19", "-", "--", ".", ",", "'", "'s", "3", "5", "000", "cd4", "x", "the", "é", "ß", "İ", "ﬁ", "²",
          "½", "北京", "大", "\u064b", "حب", "\u05b8", "ש", "\u0301", "न", "\u094d", "\u2019", "–", "±", "µ", "_",
          "\x00", "\x7f", "🎉", "\u200b", " ", "\n", "(", ")", "/", "%", "+", "a", "e.g", "ies", "ing", "COVID", "The",
          "X", "[Z]", "`", "~", "|", "@", "\t", "\x1f"]
texts = st.lists(st.sampled_from(PIECES), max_size=30).map("".join)
ascii_texts = st.lists(st.sampled_from([p for p in PIECES if p.isascii()]), max_size=30).map("".join)


@settings(max_examples=600, deadline=None)
@given(st.one_of(texts, ascii_texts, st.text(max_size=40)))
def test_terms_equal_the_general_path(text):
    assert ANALYZER.tokens(text) == reference_tokens(text)
    assert Analyzer().terms(text) == reference_terms(text)  # fresh: every token a cache miss
    assert ANALYZER.terms(text) == reference_terms(text)  # warm cache


@settings(max_examples=400, deadline=None)
@given(st.text(alphabet="0123456789abc-.,'x", max_size=16))
def test_plain_words_equal_token_words(token):
    words = plain_words(token)
    if words is not None:
        assert words == token_words(token)


def test_plain_words_cover_numbers_and_compounds():
    assert plain_words("cells.") == ["cells"]
    assert plain_words("covid-19") == ["covid", "19", "covid19"]
    assert plain_words("8.6-12.2,") == ["8.6", "12.2", "8.612.2"]
    assert plain_words("3,000") == ["3000"]
    assert plain_words("patient's") is None and plain_words("a--b") is None and plain_words("e.g") is None


def test_a_corpus_sample_analyses_as_before(shared_data):
    path = shared_data / "beir" / "scifact" / "corpus.jsonl.gz"
    if not path.is_file():
        pytest.skip("no SciFact corpus")
    with gzip.open(path, "rt", encoding="utf-8") as handle:
        texts = [json.loads(line)["text"] for _, line in zip(range(400), handle)]
    analyzer = Analyzer()
    assert [analyzer.terms(t) for t in texts] == [reference_terms(t) for t in texts]
