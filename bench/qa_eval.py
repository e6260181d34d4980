"""QA bench for the extractive answerer (no LLM).

For each question in bench/qa/questions.jsonl: retrieve the top-k paragraphs of the pool
(the shared PDFs, split by bench/qa/paragraphs.py), build the extractive answer, and report
per split (dev/test):
  (a) retrieval hit@k: the answer-bearing paragraph is among the k retrieved;
  (b) answer@400: the first 400 characters of the answer contain an accepted answer string
      (NFKC, case- and whitespace-insensitive) -- for rag.extractive and for a naive baseline
      (best single sentence by raw term overlap); also given (a), i.e. when retrieval found
      the answer-bearing paragraph (the extractor's own share of the job).

  python -m bench.qa_eval [--split dev|test|all] [--k 5] [--show-misses]

Tune only on dev; test is held out.
"""
from __future__ import annotations

import argparse
import math
import re
import sys
import unicodedata
from collections import Counter, defaultdict
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Sequence

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import snowballstemmer  # noqa: E402

from bench.qa.dataset import answer_in, load_questions, locate  # noqa: E402
from bench.qa.paragraphs import Paragraph, build_pool  # noqa: E402
from rag.extractive import extractive_answer  # noqa: E402

WINDOW = 400
_WORD = re.compile(r"\w+(?:[.,]\d+)*")
_STOP = frozenset(
    "a an the and or of to in on at by for with from is are was were be been it its this that "
    "what which who whom whose when where why how do does did i my me you your can could should "
    "would will as if not no der die das und ist wie wird ein eine".split()
)


def words(text: str) -> list[str]:
    return _WORD.findall(unicodedata.normalize("NFKC", text).casefold())


# ---------------------------------------------------------------------------------------
# RETRIEVAL -- a self-contained BM25 over the paragraph pool. Swap `retrieve` for the real
# index (tfidf/) later; it only has to return the top-k Paragraphs for a question.
# ---------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Bm25Index:
    paragraphs: tuple[Paragraph, ...]
    postings: dict[str, dict[int, int]]
    lengths: tuple[int, ...]
    k1: float = 1.2
    b: float = 0.75

    @classmethod
    def build(cls, pool: Sequence[Paragraph], analyse: Callable[[str], list[str]]) -> "Bm25Index":
        postings: dict[str, dict[int, int]] = defaultdict(dict)
        lengths = []
        for doc, para in enumerate(pool):
            counts = Counter(analyse(para.text))
            lengths.append(sum(counts.values()))
            for term, tf in counts.items():
                postings[term][doc] = tf
        return cls(tuple(pool), dict(postings), tuple(lengths))

    def search(self, query_terms: Sequence[str], k: int) -> list[Paragraph]:
        n, avg = len(self.lengths), (sum(self.lengths) / max(len(self.lengths), 1)) or 1.0
        scores: dict[int, float] = defaultdict(float)
        for term in set(query_terms):
            docs = self.postings.get(term, {})
            idf = math.log(1 + (n - len(docs) + 0.5) / (len(docs) + 0.5))
            for doc, tf in docs.items():
                norm = self.k1 * (1 - self.b + self.b * self.lengths[doc] / avg)
                scores[doc] += idf * tf * (self.k1 + 1) / (tf + norm)
        best = sorted(scores, key=lambda d: (-scores[d], d))[:k]
        return [self.paragraphs[d] for d in best]


def make_analyser() -> Callable[[str], list[str]]:
    stem = snowballstemmer.stemmer("english").stemWord
    return lambda text: [stem(w) for w in words(text) if w not in _STOP]


def make_retrieve(pool: Sequence[Paragraph]) -> Callable[[str, int], list[Paragraph]]:
    analyse = make_analyser()
    index = Bm25Index.build(pool, analyse)

    def retrieve(question: str, k: int) -> list[Paragraph]:
        """SWAP ME: top-k paragraphs for the question (best first)."""
        return index.search(analyse(question), k)

    return retrieve


# ---------------------------------------------------------------------------------------
# Naive baseline: the single sentence with the largest raw term overlap.
# ---------------------------------------------------------------------------------------
def naive_answer(question: str, passages: Sequence[str]) -> str:
    asked = set(words(question)) - _STOP
    best, best_key = "", (0, 0)
    for number, passage in enumerate(passages, start=1):
        for sentence in re.split(r"(?<=[.!?])\s+", re.sub(r"\s+", " ", passage)):
            overlap = len(asked & set(words(sentence)))
            key = (overlap, -number)
            if overlap and key > best_key:
                best, best_key = f"{sentence.strip()} [{number}]", key
    return best


# ---------------------------------------------------------------------------------------
def evaluate(questions: Sequence[dict], pool: Sequence[Paragraph], k: int, show_misses: bool) -> dict:
    retrieve = make_retrieve(pool)
    stats: dict[str, Counter] = defaultdict(Counter)
    for q in questions:
        gold = locate(q, pool)
        hits = retrieve(q["question"], k)
        texts = [p.text for p in hits]
        ours = extractive_answer(q["question"], texts).text
        naive = naive_answer(q["question"], texts)
        hit = gold is not None and any(p.pid == gold.pid for p in hits)
        row = {
            "n": 1,
            "hit": hit,
            "ours": answer_in(ours[:WINDOW], q["answers"]),
            "naive": answer_in(naive[:WINDOW], q["answers"]),
        }
        row.update(ours_hit=hit and row["ours"], naive_hit=hit and row["naive"])
        for split in (q.get("split", "all"), "all"):
            stats[split].update({key: int(v) for key, v in row.items()})
        if show_misses and not row["ours"]:
            print(f"\n--- {q.get('id')} [{q.get('split')}] hit={row['hit']} {q['question']} -> {q['answers']}")
            print(f"    ours : {ours[:WINDOW]!r}")
            print(f"    naive: {naive[:WINDOW]!r}")
    return stats


def _pct(part: int, whole: int) -> str:
    return f"{100 * part / whole:.1f}%" if whole else "-"


def table(stats: dict[str, Counter], k: int) -> str:
    """One row per split: retrieval hit@k, answer@400 (ours, naive), and the same given a hit."""
    head = (f"{'split':<6} {'n':>4} {f'hit@{k}':>7} {'ours@400':>9} {'naive@400':>10}"
            f" {'ours|hit':>9} {'naive|hit':>10}")
    lines = [head, "-" * len(head)]
    splits = [s for s in ("dev", "test") if s in stats] or ["all"]
    for split in splits + (["all"] if len(splits) > 1 else []):
        c = stats[split]
        lines.append(
            f"{split:<6} {c['n']:>4} {_pct(c['hit'], c['n']):>7} {_pct(c['ours'], c['n']):>9}"
            f" {_pct(c['naive'], c['n']):>10} {_pct(c['ours_hit'], c['hit']):>9}"
            f" {_pct(c['naive_hit'], c['hit']):>10}"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    parser.add_argument("--split", choices=("dev", "test", "all"), default="all")
    parser.add_argument("--k", type=int, default=5)
    parser.add_argument("--pdf-dir", type=Path, default=None)
    parser.add_argument("--show-misses", action="store_true")
    args = parser.parse_args(argv)
    pool = build_pool(args.pdf_dir)
    questions = [q for q in load_questions() if args.split == "all" or q.get("split") == args.split]
    stats = evaluate(questions, pool, args.k, args.show_misses)
    print(f"{len(pool)} paragraphs, {len(questions)} questions")
    print(table(stats, args.k))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
