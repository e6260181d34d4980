"""Numbering sources, formatting them for the prompt, and cleaning [n] citations."""
from __future__ import annotations

import re
from dataclasses import dataclass

import pytest
from hypothesis import given
from hypothesis import strategies as st

from rag.citations import Source, clean_citations, format_context, number_sources


@dataclass
class Passage:
    text: str
    title: str
    page: int


def test_sources_are_numbered_from_one_in_order_whatever_the_passage_shape():
    passage = Passage("Object text.", "manual.pdf", 4)
    sources = number_sources(["Plain text.", {"text": "Mapping text.", "doc": "notes.md"}, passage])
    assert [(s.number, s.text, s.title) for s in sources] == [
        (1, "Plain text.", ""), (2, "Mapping text.", "notes.md"), (3, "Object text.", "manual.pdf")]
    assert sources[2].page == 4
    assert sources[2].passage is passage


def test_a_passage_without_text_is_refused_with_its_number():
    with pytest.raises(TypeError, match="passage 2 has no text"):
        number_sources(["fine", {"title": "no text here"}])


def test_context_shows_each_number_label_and_text_in_order():
    sources = number_sources([{"text": " First fact. ", "title": "a.pdf", "page": 2}, "Second fact."])
    assert format_context(sources) == "[1] a.pdf, p. 2\nFirst fact.\n\n[2]\nSecond fact."
    assert "no sources" in format_context([])


@pytest.mark.parametrize(("answer", "n", "cleaned", "cited"), [
    ("Blue [1].", 3, "Blue [1].", [1]),
    ("Blue [7].", 3, "Blue.", []),
    ("Blue [7, 8], green [2].", 3, "Blue, green [2].", [2]),
    ("Blue [1, 7] and [3;1].", 3, "Blue [1] and [3, 1].", [1, 3]),
    ("Blue [3][7][1].", 3, "Blue [3][1].", [3, 1]),
    ("Green [2]. Blue [1]. Green again [2].", 2, "Green [2]. Blue [1]. Green again [2].", [2, 1]),
    ("Range [2-4] and [3\u20139].", 4, "Range [2, 3, 4] and [3, 4].", [2, 3, 4]),
    ("No sources [1].", 0, "No sources.", []),
    ("Keep [a link](http://x) and [note].", 2, "Keep [a link](http://x) and [note].", []),
])
def test_clean_citations(answer, n, cleaned, cited):
    assert clean_citations(answer, n) == (cleaned, cited)


@given(st.lists(st.one_of(st.text(alphabet="ab .,", max_size=5),
                          st.lists(st.integers(0, 12), min_size=1, max_size=3).map(
                              lambda ns: "[" + ", ".join(map(str, ns)) + "]"))),
       st.integers(0, 6))
def test_only_sent_sources_survive_and_cleaning_is_stable(parts, n):
    text, cited = clean_citations("".join(parts), n)
    assert all(1 <= c <= n for c in cited)
    assert len(cited) == len(set(cited))
    remaining = [int(x) for group in re.findall(r"\[([\d, ]+)\]", text) for x in group.split(",")]
    assert set(remaining) == set(cited)
    assert clean_citations(text, n) == (text, cited)


def test_source_label_without_title_or_page_is_empty():
    assert Source(1, "t").label == ""
    assert Source(1, "t", page=5).label == "p. 5"
