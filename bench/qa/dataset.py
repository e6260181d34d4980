"""The hand-written QA sets: loading, locating each question's paragraph, checking, splitting.

Two sets, same line format (one question per line):
  id, split ("dev" | "test"), question, answers (short strings that appear literally,
  case-insensitively, in the paragraph), file, page (1-based), paragraph (a distinctive
  substring of the answer-bearing paragraph).

* ``questions.jsonl`` ("pdfs"): over the shared PDFs (bench/qa/paragraphs.py), split by
  question hash (a paragraph may serve both splits).
* ``abstract_questions.jsonl`` ("abstracts"): over clean prose, the BEIR abstracts of
  bench/qa/abstracts.py (``file`` is ``corpus:doc-id``, page 1, ``paragraph`` the abstract's
  first 40 characters), split by paragraph: no abstract serves both splits.
"""
from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Iterable, Sequence

from bench.qa.paragraphs import Paragraph, normalise

QUESTIONS_PATH = Path(__file__).resolve().parent / "questions.jsonl"
ABSTRACT_QUESTIONS_PATH = Path(__file__).resolve().parent / "abstract_questions.jsonl"
DEV_FRACTION = 0.4
FIELDS = ("id", "split", "question", "answers", "file", "page", "paragraph")


def load_questions(path: Path = QUESTIONS_PATH) -> list[dict]:
    lines = path.read_text(encoding="utf-8").splitlines()
    return [json.loads(line) for line in lines if line.strip()]


def write_questions(questions: Iterable[dict], path: Path = QUESTIONS_PATH) -> None:
    rows = [json.dumps({k: q[k] for k in FIELDS if k in q}, ensure_ascii=False) for q in questions]
    path.write_text("\n".join(rows) + "\n", encoding="utf-8")


def answer_in(text: str, answers: Sequence[str]) -> bool:
    """True if any accepted answer occurs in text (NFKC, case- and whitespace-insensitive)."""
    hay = normalise(text)
    return any(normalise(a) in hay for a in answers if a.strip())


def candidates(question: dict, pool: Sequence[Paragraph], same_page: bool = True) -> list[Paragraph]:
    """Paragraphs of the question's file (and page) containing its locator substring."""
    needle = normalise(question["paragraph"])
    return [
        p for p in pool
        if p.file == question["file"]
        and (not same_page or p.page == question["page"])
        and needle in normalise(p.text)
    ]


def locate(question: dict, pool: Sequence[Paragraph]) -> Paragraph | None:
    """The answer-bearing paragraph: locator and an accepted answer both in it."""
    hits = [p for p in candidates(question, pool) if answer_in(p.text, question["answers"])]
    return hits[0] if hits else None


def problems(question: dict, pool: Sequence[Paragraph]) -> list[str]:
    """Why a question is invalid (empty list if it is fine)."""
    missing = [k for k in ("question", "answers", "file", "page", "paragraph") if not question.get(k)]
    if missing:
        return [f"missing fields {missing}"]
    found = candidates(question, pool)
    if not found:
        pages = sorted({p.page for p in candidates(question, pool, same_page=False)})
        return [f"locator not on page {question['page']} (found on pages {pages})"]
    if len(found) > 1:
        return [f"locator matches {len(found)} paragraphs; make it more distinctive"]
    if not answer_in(found[0].text, question["answers"]):
        return [f"no accepted answer in paragraph {found[0].pid}"]
    return []


def _order_key(question: dict) -> str:
    return hashlib.sha1(question["question"].encode("utf-8")).hexdigest()


def assign_splits(questions: Sequence[dict], dev_fraction: float = DEV_FRACTION) -> list[dict]:
    """Deterministic shuffle by question hash; first dev_fraction are 'dev', the rest 'test'."""
    ordered = sorted(questions, key=_order_key)
    n_dev = round(len(ordered) * dev_fraction)
    return [
        {**q, "id": f"q{i + 1:03d}", "split": "dev" if i < n_dev else "test"}
        for i, q in enumerate(ordered)
    ]


def _source_key(question: dict) -> str:
    return hashlib.sha1(f"{question['file']}#{question['page']}".encode("utf-8")).hexdigest()


def assign_splits_by_source(questions: Sequence[dict], dev_share: float = 0.5, prefix: str = "a") -> list[dict]:
    """Split by paragraph source (file and page): sources in hash order go to 'dev' until it holds
    ``dev_share`` of the questions, the rest to 'test'; ids number dev first, then test."""
    by_source: dict[str, list[dict]] = {}
    for q in questions:
        by_source.setdefault(_source_key(q), []).append(q)
    dev, test = [], []
    for key in sorted(by_source):
        (dev if len(dev) < dev_share * len(questions) else test).extend(by_source[key])
    return [
        {**q, "id": f"{prefix}{i + 1:03d}", "split": "dev" if i < len(dev) else "test"}
        for i, q in enumerate(dev + test)
    ]
