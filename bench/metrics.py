"""Pure-Python IR metrics with trec_eval semantics, plus TREC run / BEIR qrels readers.

Semantics (match ``trec_eval -c -m ndcg_cut.10 -m recall.100 -m recip_rank``):

* A run is ordered by score descending, ties broken by docid descending
  (byte order, as trec_eval's ``strcmp``); the rank column of the file is ignored.
* A document is relevant when its qrel score is > 0; its gain is that score.
* nDCG@k: DCG = sum(gain_i / log2(i + 1)) over ranks i = 1..k; the ideal DCG is
  built from every judged-relevant document of the query, sorted by gain, cut at k.
* Recall@k: relevant documents in the top k / all relevant documents.
* MRR@k: 1 / rank of the first relevant document in the top k, else 0.
* The mean is over every query in the qrels: a query with no results scores 0;
  run queries that are not in the qrels are ignored.
"""
from __future__ import annotations

import csv
import math
from collections.abc import Iterable, Mapping
from pathlib import Path

Qrels = dict[str, dict[str, int]]
Run = dict[str, dict[str, float]]

METRICS = ("ndcg@10", "recall@100", "mrr@10")


def read_qrels(path: str | Path) -> Qrels:
    """Read a BEIR qrels TSV (header ``query-id corpus-id score``)."""
    qrels: Qrels = {}
    with open(path, newline="", encoding="utf-8") as handle:
        rows = csv.reader(handle, delimiter="\t")
        for row in rows:
            if not row or row[0] == "query-id":
                continue
            qid, docid, score = row[0], row[1], int(row[2])
            qrels.setdefault(qid, {})[docid] = score
    return qrels


def parse_run_lines(lines: Iterable[str]) -> Run:
    """Parse TREC run lines ``qid Q0 docid rank score tag``; first (qid, docid) wins."""
    run: Run = {}
    for number, line in enumerate(lines, 1):
        parts = line.split()
        if not parts:
            continue
        if len(parts) < 5:
            raise ValueError(f"line {number}: expected 'qid Q0 docid rank score tag'")
        docs = run.setdefault(parts[0], {})
        docs.setdefault(parts[2], float(parts[4]))
    return run


def read_run(path: str | Path) -> Run:
    """Read a TREC run file into {qid: {docid: score}}."""
    with open(path, encoding="utf-8") as handle:
        return parse_run_lines(handle)


def trec_order(docs: Mapping[str, float]) -> list[str]:
    """Doc ids in trec_eval order: score descending, then docid descending."""
    by_docid = sorted(docs, key=lambda d: d.encode("utf-8"), reverse=True)
    return sorted(by_docid, key=lambda d: docs[d], reverse=True)


def dcg(gains: Iterable[float]) -> float:
    """Discounted cumulative gain with a log2(rank + 1) discount, ranks from 1."""
    return sum(gain / math.log2(rank + 1) for rank, gain in enumerate(gains, 1))


def ndcg_at_k(ranking: list[str], rels: Mapping[str, int], k: int = 10) -> float:
    """nDCG@k of one ranked list against graded judgments (gain = score > 0)."""
    ideal = dcg(sorted((g for g in rels.values() if g > 0), reverse=True)[:k])
    if ideal <= 0:
        return 0.0
    gains = (max(rels.get(docid, 0), 0) for docid in ranking[:k])
    return dcg(gains) / ideal


def recall_at_k(ranking: list[str], rels: Mapping[str, int], k: int = 100) -> float:
    """Fraction of the relevant documents found in the top k."""
    relevant = {d for d, g in rels.items() if g > 0}
    if not relevant:
        return 0.0
    return len(relevant.intersection(ranking[:k])) / len(relevant)


def mrr_at_k(ranking: list[str], rels: Mapping[str, int], k: int = 10) -> float:
    """Reciprocal rank of the first relevant document within the top k, else 0."""
    for rank, docid in enumerate(ranking[:k], 1):
        if rels.get(docid, 0) > 0:
            return 1.0 / rank
    return 0.0


def score_query(docs: Mapping[str, float], rels: Mapping[str, int]) -> dict[str, float]:
    """All benchmark metrics for one query."""
    ranking = trec_order(docs)
    return {
        "ndcg@10": ndcg_at_k(ranking, rels, 10),
        "recall@100": recall_at_k(ranking, rels, 100),
        "mrr@10": mrr_at_k(ranking, rels, 10),
    }


def per_query(run: Run, qrels: Qrels) -> dict[str, dict[str, float]]:
    """Metrics for every query in the qrels (missing from the run: empty ranking)."""
    return {qid: score_query(run.get(qid, {}), rels) for qid, rels in qrels.items()}


def mean_metrics(scores: Mapping[str, Mapping[str, float]]) -> dict[str, float]:
    """Average each metric over the queries given."""
    if not scores:
        return {name: 0.0 for name in METRICS}
    count = len(scores)
    return {name: sum(s[name] for s in scores.values()) / count for name in METRICS}


def evaluate(run: Run, qrels: Qrels) -> dict[str, float]:
    """Mean nDCG@10, Recall@100 and MRR@10 over all qrels queries."""
    return mean_metrics(per_query(run, qrels))


def percentile(values: list[float], pct: float) -> float:
    """Percentile with linear interpolation between closest ranks (numpy's default)."""
    if not values:
        raise ValueError("percentile of an empty list")
    ordered = sorted(values)
    position = (len(ordered) - 1) * pct / 100.0
    low = math.floor(position)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)
