"""Which vocabulary cap loses least: hashing (ours) or keeping the most frequent terms (scikit-learn).

    .venv/bin/python bench/vocab_caps.py [--caps 300,5000,50000,0]

Indexes every BEIR collection in ../shared/data/beir the way the server does
(2000-character chunks, title counted twice, BM25 k1=1.5 b=0.9) under each
cap and policy, and prints nDCG@10. Policy "hash" is what MAX_FEATURES does:
every term is kept, hashed into N buckets. Policy "top-df" keeps the N terms
with the highest document frequency and drops the rest, as
TfidfVectorizer(max_features=N) does.
"""
from __future__ import annotations

import argparse
import gzip
import json
import sys
from collections import Counter
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(REPO), str(REPO / "bench")]

import ingest  # noqa: E402
from metrics import evaluate, read_qrels  # noqa: E402
from rag.settings import Settings  # noqa: E402
from tfidf import Analyzer, IndexParams, InvertedIndex, ScoringParams  # noqa: E402

DATA = REPO.parent / "shared" / "data" / "beir"


def chunk_counts(collection: Path, analyzer: Analyzer, settings: Settings) -> list[tuple[int, Counter]]:
    """(document number, term counts) per chunk, as the server's library would index them."""
    chunks = []
    with gzip.open(collection / "corpus.jsonl.gz", "rt", encoding="utf-8") as handle:
        for number, line in enumerate(handle):
            record = json.loads(line)
            section = ingest.Section(record["text"], None, record.get("title") or None)
            for chunk in ingest.chunk_sections([section], settings.CHUNK_SIZE, settings.CHUNK_OVERLAP):
                counts = Counter(analyzer.terms(chunk.text))
                for term in analyzer.terms(chunk.heading or ""):
                    counts[term] += settings.TITLE_BOOST
                chunks.append((number, counts))
    return chunks


def doc_ids(collection: Path) -> list[str]:
    with gzip.open(collection / "corpus.jsonl.gz", "rt", encoding="utf-8") as handle:
        return [json.loads(line)["_id"] for line in handle]


def top_df_terms(chunks: list[tuple[int, Counter]], cap: int) -> set[str]:
    df: Counter = Counter()
    for _, counts in chunks:
        df.update(counts.keys())
    return {term for term, _ in df.most_common(cap)}


def ndcg(collection: Path, chunks, analyzer: Analyzer, settings: Settings, cap: int, policy: str) -> float:
    scoring = ScoringParams(settings.SCORING, settings.BM25_K1, settings.BM25_B)
    hashed = cap if policy == "hash" and cap else None
    keep = top_df_terms(chunks, cap) if policy == "top-df" and cap else None
    index = InvertedIndex(IndexParams(scoring, hashed))
    for key, (number, counts) in enumerate(chunks, start=1):
        kept = counts if keep is None else Counter({t: c for t, c in counts.items() if t in keep})
        index.add(key, kept, group=number)
    ids, run = doc_ids(collection), {}
    for line in open(collection / "queries.jsonl", encoding="utf-8"):
        query = json.loads(line)
        hits = index.search(analyzer.terms(query["text"]), 100, by_group=True)
        run[query["_id"]] = {ids[h.group]: h.score for h in hits}
    return evaluate(run, read_qrels(collection / "qrels" / "test.tsv"))["ndcg@10"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--caps", default="300,5000,50000,0", help="comma list; 0 = no cap")
    caps = [int(c) for c in parser.parse_args().caps.split(",")]
    settings, analyzer = Settings(), Analyzer()
    print("| collection | cap | hash (ours) | top-df (scikit-learn's policy) |")
    print("|---|---:|---:|---:|")
    for collection in sorted(p for p in DATA.iterdir() if (p / "corpus.jsonl.gz").exists()):
        chunks = chunk_counts(collection, analyzer, settings)
        for cap in caps:
            hashed = ndcg(collection, chunks, analyzer, settings, cap, "hash")
            top = ndcg(collection, chunks, analyzer, settings, cap, "top-df") if cap else hashed
            print(f"| {collection.name} | {cap or 'none'} | {hashed:.4f} | {top:.4f} |", flush=True)


if __name__ == "__main__":
    main()
