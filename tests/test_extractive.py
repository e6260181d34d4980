"""rag.extractive: sentence splitting, citation markers, ranking and robustness."""
from __future__ import annotations

import dataclasses
import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from rag.extractive import ExtractiveAnswer, extractive_answer, split_sentences

MARKER = re.compile(r"\[(\d+)\]")

BRIDGE = [
    "The city council met on Tuesday. Parking fees were discussed at length.\n"
    "Several residents asked about the bridge repairs.",
    "The Harbour Bridge was designed by John Bradfield. The bridge was opened\n"
    "in 1932 after eight years of construction. It carries rail, vehicle and\n"
    "pedestrian traffic.",
    "Tourists often climb the bridge. The climb takes about three hours.",
]


def sentences_of(text: str) -> list[tuple[str, int]]:
    """(sentence, passage number) pairs of an answer text."""
    parts = re.findall(r"(.+?) \[(\d+)\](?: |$)", text)
    return [(sentence, int(n)) for sentence, n in parts]


def test_best_sentence_comes_first_with_its_citation():
    answer = extractive_answer("When was the Harbour Bridge opened?", BRIDGE)
    assert answer.text.startswith("The bridge was opened in 1932 after eight years of construction. [2]")
    assert answer.cited[0] == 2


def test_answer_type_cue_prefers_the_sentence_with_a_number():
    passages = [
        "The committee reviewed the museum visitors report in detail.",
        "The museum welcomed 48,000 visitors last year, a record.",
    ]
    answer = extractive_answer("How many visitors did the museum have?", passages)
    assert answer.text.startswith("The museum welcomed 48,000 visitors")


def test_every_sentence_ends_with_a_marker_for_a_given_passage():
    answer = extractive_answer("Who designed the bridge and how long does the climb take?", BRIDGE)
    pairs = sentences_of(answer.text)
    assert pairs, answer.text
    assert " ".join(f"{s} [{n}]" for s, n in pairs) == answer.text
    numbers = [int(n) for n in MARKER.findall(answer.text)]
    assert all(1 <= n <= len(BRIDGE) for n in numbers)
    assert answer.cited == list(dict.fromkeys(numbers))


def test_citation_numbers_follow_passage_positions_including_empty_ones():
    passages = ["", "   ", "Lisbon is the capital of Portugal and its largest city."]
    answer = extractive_answer("What is the capital of Portugal?", passages)
    assert answer.cited == [3]
    assert answer.text.endswith("[3]")


def test_no_overlap_or_no_passages_gives_an_empty_answer():
    empty = ExtractiveAnswer()
    assert extractive_answer("What is the capital of Portugal?", []) == empty
    assert extractive_answer("What is the capital of Portugal?", ["", "\n\n"]) == empty
    assert extractive_answer("What is the capital of Portugal?", ["Bananas are yellow."]) == empty
    assert extractive_answer("", BRIDGE) == empty
    assert extractive_answer("   ", BRIDGE) == empty


@pytest.mark.parametrize(
    "text",
    [
        "Dr. Smith et al. measured 3.5 kg more, i.e. more than e.g. the U.S. average in Fig. 3 shows.",
        "The report by John F. Kennedy Jr. was filed at 10 a.m. on Jan. 5 with No. 07-1315 attached.",
        "Er kann in „Elementare Differentialgeometrie“ von Christian Bär (2. Auflage) nachgelesen werden.",
        "Costs ....................... 40 work-hours × $85 per hour = $3,400.",
    ],
)
def test_abbreviations_decimals_and_initials_do_not_split(text):
    assert split_sentences(text) == [text]


def test_sentences_split_on_real_boundaries():
    text = "The sky is blue. Grass is green! Is water wet? Yes, it is."
    assert split_sentences(text) == ["The sky is blue.", "Grass is green!", "Is water wet?", "Yes, it is."]


def test_pdf_line_breaks_and_hyphenation_are_joined():
    text = "The measure-\nment was taken\nat dawn by the\nsurvey team. Another sentence follows here."
    assert split_sentences(text) == [
        "The measurement was taken at dawn by the survey team.",
        "Another sentence follows here.",
    ]


def test_bullets_and_numbered_items_are_separate_sentences():
    text = "You may send comments by:\n• Fax: 202-493-2251.\n• Mail: Docket Operations\n1. First item\n2. Second item"
    assert split_sentences(text) == [
        "You may send comments by:",
        "Fax: 202-493-2251.",
        "Mail: Docket Operations",
        "1. First item",
        "2. Second item",
    ]


def test_ligatures_are_expanded_in_the_answer():
    answer = extractive_answer("What does the office find?", ["The oﬃce ﬁnds diﬀerent ﬂaws in ﬁles."])
    assert answer.text == "The office finds different flaws in files. [1]"


def test_answer_length_and_sentence_count_are_bounded():
    passages = [" ".join(f"The bridge report number {i} mentions bridge repairs." for i in range(60))] * 5
    for max_chars in (40, 120, 600):
        answer = extractive_answer("bridge repairs report", passages, max_chars=max_chars, max_sentences=3)
        assert 0 < len(answer.text) <= max_chars
        assert len(MARKER.findall(answer.text)) <= 3


def test_an_overlong_first_sentence_is_cut_to_fit():
    long_sentence = "The bridge " + "spans the wide harbour " * 40 + "end."
    answer = extractive_answer("What does the bridge span?", [long_sentence], max_chars=100)
    assert len(answer.text) <= 100
    assert answer.text.endswith("… [1]")
    assert extractive_answer("What does the bridge span?", [long_sentence], max_chars=3) == ExtractiveAnswer()


def test_redundant_sentences_are_not_repeated():
    same = "The Harbour Bridge was opened in 1932."
    answer = extractive_answer("When was the Harbour Bridge opened?", [same, same, same])
    assert answer.text == f"{same} [1]"
    assert answer.cited == [1]


def test_result_is_frozen():
    answer = extractive_answer("When was the Harbour Bridge opened?", BRIDGE)
    with pytest.raises(dataclasses.FrozenInstanceError):
        answer.text = "changed"  # type: ignore[misc]


def test_german_question_over_german_text():
    passages = ["Vorwort", "Dieses Skript wurde im Wintersemester 2013/2014 von Martin Thoma geschrieben."]
    answer = extractive_answer("In welchem Semester wurde das Skript geschrieben?", passages)
    assert answer.text.startswith("Dieses Skript wurde im Wintersemester 2013/2014")


@settings(max_examples=300, deadline=None)
@given(
    question=st.text(),
    passages=st.lists(st.text(), max_size=6),
    max_chars=st.integers(min_value=-5, max_value=800),
    max_sentences=st.integers(min_value=-1, max_value=6),
)
def test_arbitrary_unicode_never_crashes(question, passages, max_chars, max_sentences):
    answer = extractive_answer(question, passages, max_chars=max_chars, max_sentences=max_sentences)
    assert isinstance(answer, ExtractiveAnswer)
    assert len(answer.text) <= max(max_chars, 0)
    numbers = [int(n) for n in MARKER.findall(answer.text)]
    assert set(answer.cited) <= set(range(1, len(passages) + 1))
    assert set(answer.cited) <= set(numbers)
    assert (answer.text == "") == (answer.cited == [])


@settings(max_examples=200, deadline=None)
@given(st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=400))
def test_split_sentences_never_crashes(text):
    sentences = split_sentences(text)
    assert all(s and s == s.strip() and "\n" not in s for s in sentences)


def test_qa_bench_question_file_is_well_formed():
    """bench/qa/questions.jsonl: >= 120 questions, dev first (~40%), then held-out test."""
    import json
    from pathlib import Path

    path = Path(__file__).resolve().parents[1] / "bench" / "qa" / "questions.jsonl"
    rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    assert len(rows) >= 120
    splits = [r["split"] for r in rows]
    n_dev = splits.count("dev")
    assert splits == ["dev"] * n_dev + ["test"] * (len(rows) - n_dev)
    assert 0.35 <= n_dev / len(rows) <= 0.45
    for r in rows:
        assert r["question"].strip() and r["file"].endswith(".pdf") and r["page"] >= 1
        assert r["answers"] and all(a.strip() for a in r["answers"]) and r["paragraph"].strip()
    assert len({r["question"] for r in rows}) == len(rows)
