"""Chunking's faster scans (a skip-ahead lookahead, overlaps searched near their end) cut where they did."""
from __future__ import annotations

import re

from hypothesis import given, settings, strategies as st

from ingest import chunking

# The sentence regex and the overlap search as they were: a scan of the whole chunk from its start.
OLD_SENTENCE_END = re.compile(
    r"([.!?\u2026]+[\"'\u2019\u201d\u00bb)\]]*)\s+(?=[^\sa-z])"
    r"|([\u3002\uff01\uff1f])\s*(?=\S)"
    r"|\n[ \t]*\n\s*(?=\S)"
)


def old_overlap_start(text: str, start: int, end: int, lowest: int, overlap: int) -> int:
    floor = max(end - overlap, start + 1, lowest)
    if floor >= end:
        return -1
    for boundary in (OLD_SENTENCE_END, chunking._WORD_START):
        for match in boundary.finditer(text, start, end):
            if floor <= match.end() < end:
                return match.end()
    return -1


PIECES = ["word", "Word", "e.g. the", "x", "42", " ", "  ", "\t", "\n", "\n\n", "\n \n", ".", ". ", "! ", "? ",
          "...", "\u2026 ", '" ', "\u2019 ", ") ", "] ", "\u3002", "\uff01", "\u3002 ", "\u5927\u5b66", "A", "\u00e9",
          "longerwordwithoutspaces", "-", ",", "'"]
texts = st.lists(st.sampled_from(PIECES), max_size=120).map("".join)


@settings(max_examples=500, deadline=None)
@given(texts, st.integers(8, 120), st.data())
def test_chunks_are_cut_where_the_full_scans_cut(text, size, data):
    overlap = data.draw(st.integers(0, size - 1))
    new = list(chunking.chunk_spans(text, size, overlap))
    saved = chunking._SENTENCE_END, chunking._overlap_start
    chunking._SENTENCE_END, chunking._overlap_start = OLD_SENTENCE_END, old_overlap_start
    try:
        old = list(chunking.chunk_spans(text, size, overlap))
    finally:
        chunking._SENTENCE_END, chunking._overlap_start = saved
    assert new == old
