"""Peer retriever for the QA bench: bm25s over the very units our Library indexed.

Run with the bench venv (bm25s and PyStemmer are not product dependencies); bench/qa_eval.py
calls it with the units it built, so both retrievers see the same text in the same run:

  .venv-bench/bin/python bench/qa_peer_bm25s.py --units UNITS.jsonl --questions Q.jsonl --k 5

UNITS.jsonl lines: {"set": "chunks"|"paragraphs", "uid": ..., "text": ...}
Q.jsonl lines:     {"id": ..., "question": ...}
Prints one JSON object: {"version": ..., "params": ..., "ranked": {set: {question id: [uid, ...]}}}.

Settings as in bench/systems/bm25s_peer.py: bm25s defaults (method "lucene", k1 1.5, b 0.75),
``bm25s.tokenize(..., stopwords="en", stemmer=Stemmer.Stemmer("english"))``; hits with score
<= 0 are dropped.
"""
from __future__ import annotations

import argparse
import json
import sys
from collections import defaultdict
from importlib.metadata import version

import bm25s
import Stemmer


def rank(texts: list[str], queries: list[str], k: int) -> tuple[list[list[int]], dict]:
    """Indices of the top-k texts for each query, best first."""
    stemmer = Stemmer.Stemmer("english")
    retriever = bm25s.BM25()
    retriever.index(bm25s.tokenize(texts, stopwords="en", stemmer=stemmer, show_progress=False),
                    show_progress=False)
    k = min(k, len(texts))
    ranked = []
    for query in queries:
        tokens = bm25s.tokenize([query], stopwords="en", stemmer=stemmer, show_progress=False)
        found, scores = retriever.retrieve(tokens, k=k, show_progress=False, n_threads=0)
        ranked.append([int(i) for i, s in zip(found[0], scores[0]) if s > 0])
    return ranked, {"method": retriever.method, "k1": retriever.k1, "b": retriever.b}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    parser.add_argument("--units", required=True)
    parser.add_argument("--questions", required=True)
    parser.add_argument("--k", type=int, default=5)
    args = parser.parse_args(argv)
    sets: dict[str, list[dict]] = defaultdict(list)
    with open(args.units, encoding="utf-8") as handle:
        for line in handle:
            unit = json.loads(line)
            sets[unit["set"]].append(unit)
    with open(args.questions, encoding="utf-8") as handle:
        questions = [json.loads(line) for line in handle if line.strip()]
    out: dict = {"version": version("bm25s"), "pystemmer": version("PyStemmer"), "ranked": {}}
    for name, units in sets.items():
        ranked, out["params"] = rank([u["text"] for u in units], [q["question"] for q in questions], args.k)
        out["ranked"][name] = {q["id"]: [units[i]["uid"] for i in hits] for q, hits in zip(questions, ranked)}
    json.dump(out, sys.stdout)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
