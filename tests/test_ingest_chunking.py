"""Chunks: bounded, cut only between paragraphs, sentences or words, overlapping, deterministic."""
from __future__ import annotations

import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ingest import Chunk, Section, chunk_sections

SENTENCES = [
    f"Sentence number {n} talks about {topic} in some detail."
    for n, topic in enumerate(["retrieval", "ranking", "indexing", "parsing", "chunking"] * 8)
]


def paragraph(first: int, count: int) -> str:
    return " ".join(SENTENCES[first : first + count])


def check_chunks(section: Section, chunks: list[Chunk], size: int) -> None:
    """Invariants every chunking must keep (words here are never longer than ``size``)."""
    text = section.text
    for chunk in chunks:
        assert chunk.text == text[chunk.start : chunk.end] == chunk.text.strip() != ""
        assert len(chunk.text) <= size
        assert chunk.start == 0 or text[chunk.start - 1].isspace(), "chunk starts inside a word"
        assert chunk.end == len(text) or text[chunk.end].isspace(), "chunk ends inside a word"
        assert (chunk.page, chunk.heading) == (section.page, section.heading)
    assert [c.start for c in chunks] == sorted({c.start for c in chunks})
    assert [c.end for c in chunks] == sorted({c.end for c in chunks})
    covered = set().union(*(range(c.start, c.end) for c in chunks)) if chunks else set()
    assert all(i in covered for i, char in enumerate(text) if not char.isspace())


def test_whole_paragraphs_are_packed() -> None:
    paragraphs = [paragraph(n * 3, 3) for n in range(10)]  # about 170 characters each
    section = Section("\n\n".join(paragraphs), 4, "Results")
    chunks = list(chunk_sections([section], size=600, overlap=0))
    check_chunks(section, chunks, 600)
    assert len(chunks) == 4
    for chunk in chunks:
        assert all(part in paragraphs for part in chunk.text.split("\n\n"))


def test_long_paragraph_is_cut_at_sentence_ends() -> None:
    section = Section(paragraph(0, 30), 1, None)
    chunks = list(chunk_sections([section], size=300, overlap=0))
    check_chunks(section, chunks, 300)
    assert len(chunks) > 5 and all(chunk.text.endswith("detail.") for chunk in chunks)
    assert all(chunk.text.startswith("Sentence number") for chunk in chunks)


def test_long_sentence_is_cut_between_words() -> None:
    section = Section(" ".join(f"word{n}" for n in range(500)) + ".", None, None)
    chunks = list(chunk_sections([section], size=100, overlap=0))
    check_chunks(section, chunks, 100)
    assert " ".join(c.text for c in chunks).split() == section.text.split()


def test_overlap_carries_the_last_sentences() -> None:
    section = Section(paragraph(0, 30), 2, "Intro")
    chunks = list(chunk_sections([section], size=400, overlap=150))
    check_chunks(section, chunks, 400)
    for before, after in zip(chunks, chunks[1:]):
        shared = before.end - after.start
        assert 0 < shared <= 150
        assert after.text.startswith("Sentence number")  # a whole sentence, not a fragment
        assert before.text.endswith(after.text[:shared])


def test_overlap_falls_back_to_words_when_sentences_are_long() -> None:
    section = Section(" ".join(f"w{n}" for n in range(400)), None, None)
    chunks = list(chunk_sections([section], size=100, overlap=20))
    check_chunks(section, chunks, 100)
    assert all(0 < b.end - a.start <= 20 for b, a in zip(chunks, chunks[1:]))


def test_chunks_never_span_pages_or_headings() -> None:
    sections = [Section(paragraph(0, 2), 1, None), Section(paragraph(2, 2), 2, None),
                Section(paragraph(4, 2), 2, "Methods"), Section("   ", 3, None)]
    chunks = list(chunk_sections(sections, size=1000, overlap=150))
    assert [(c.page, c.heading, c.text) for c in chunks] == [(s.page, s.heading, s.text) for s in sections[:3]]


def test_a_word_longer_than_the_size_is_the_only_cut_inside_a_word() -> None:
    section = Section("short " + "x" * 250 + " tail", None, None)
    chunks = list(chunk_sections([section], size=100, overlap=10))
    assert [c.text for c in chunks] == ["short", "x" * 100, "x" * 100, "x" * 50 + " tail"]
    assert all(len(c.text) <= 100 for c in chunks)


def test_deterministic() -> None:
    sections = [Section("\n\n".join(paragraph(n, 7) for n in range(0, 35, 7)), 1, None)]
    assert list(chunk_sections(sections, 250, 60)) == list(chunk_sections(sections, 250, 60))


def test_abbreviations_before_lower_case_do_not_end_a_sentence() -> None:
    text = "We use e.g. the usual tools. " * 12
    chunks = list(chunk_sections([Section(text, None, None)], size=100, overlap=0))
    assert all(c.text.endswith("tools.") for c in chunks)


def test_cjk_sentence_ends() -> None:
    section = Section("天気が良い。" * 40, None, None)
    chunks = list(chunk_sections([section], size=50, overlap=0))
    assert all(c.text.endswith("。") and len(c.text) <= 50 for c in chunks)


@pytest.mark.parametrize(("size", "overlap"), [(0, 0), (100, 100), (100, -1)])
def test_bad_parameters_say_what_to_use(size: int, overlap: int) -> None:
    with pytest.raises(ValueError, match=re.escape(f"={overlap if size else size}")):
        list(chunk_sections([Section("text", None, None)], size, overlap))


WORDS = st.text(alphabet="abcdefghijklmnopqrstuvwxyzé", min_size=1, max_size=12)
SENTENCE = st.builds(
    lambda words, end: " ".join(words).capitalize() + end,
    st.lists(WORDS, min_size=1, max_size=30),
    st.sampled_from([".", "!", "?", "", "...", '."']),
)
PARAGRAPH = st.builds(" ".join, st.lists(SENTENCE, min_size=1, max_size=12))
SEPARATOR = st.sampled_from(["\n\n", "\n \n\n", " ", "\n"])


@st.composite
def texts(draw: st.DrawFn) -> str:
    paragraphs = draw(st.lists(PARAGRAPH, min_size=0, max_size=8))
    return "".join(p + draw(SEPARATOR) for p in paragraphs)


@settings(max_examples=300, deadline=None)
@given(text=texts(), size=st.integers(min_value=16, max_value=600), data=st.data())
def test_bounds_hold_for_any_text(text: str, size: int, data: st.DataObject) -> None:
    overlap = data.draw(st.integers(min_value=0, max_value=size - 1))
    section = Section(text, 1, "H")
    chunks = list(chunk_sections([section], size=size, overlap=overlap))
    check_chunks(section, chunks, size)
    for before, after in zip(chunks, chunks[1:]):
        assert before.end - after.start <= overlap
