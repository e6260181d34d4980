"""Paragraph pool of clean prose for the second QA set: BEIR abstracts (SciFact, NFCorpus).

A fixed, deterministic sample: abstracts of ``MIN_CHARS``..``MAX_CHARS`` characters (one
2000-character chunk each, so a record is one paragraph), ordered by a hash of their id, the
first ``SAMPLE[corpus]`` of each corpus. Each becomes a ``Paragraph`` whose ``file`` is
``corpus:doc-id`` and whose page is 1; the title is left out (the unit is the paragraph).
"""
from __future__ import annotations

import gzip
import hashlib
import json
from pathlib import Path

from bench.qa.paragraphs import Paragraph

SAMPLE = {"scifact": 240, "nfcorpus": 160}
MIN_CHARS, MAX_CHARS = 500, 1900


def default_beir_dir() -> Path:
    """../shared/data/beir next to the repository."""
    return Path(__file__).resolve().parents[3] / "shared" / "data" / "beir"


def _key(corpus: str, doc_id: str) -> str:
    return hashlib.sha1(f"{corpus}:{doc_id}".encode()).hexdigest()


def sample(corpus: str, beir_dir: Path | None = None, n: int | None = None) -> list[tuple[str, str]]:
    """(doc id, abstract text) of the corpus's sample, in hash order."""
    path = (beir_dir or default_beir_dir()) / corpus / "corpus.jsonl.gz"
    with gzip.open(path, "rt", encoding="utf-8") as lines:
        docs = [json.loads(line) for line in lines if line.strip()]
    fit = [(d["_id"], d["text"].strip()) for d in docs if MIN_CHARS <= len(d["text"].strip()) <= MAX_CHARS]
    fit.sort(key=lambda d: _key(corpus, d[0]))
    return fit[: SAMPLE[corpus] if n is None else n]


def build_abstract_pool(beir_dir: Path | None = None) -> list[Paragraph]:
    """The whole pool, numbered from 0: SciFact's sample, then NFCorpus's."""
    pool: list[Paragraph] = []
    for corpus in SAMPLE:
        for doc_id, text in sample(corpus, beir_dir):
            pool.append(Paragraph(len(pool), f"{corpus}:{doc_id}", 1, text))
    return pool
