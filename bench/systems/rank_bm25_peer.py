"""Peer: rank_bm25 BM25Okapi (defaults k1=1.5, b=0.75, epsilon=0.25) with simple
lowercase whitespace tokenization; documents are title + " " + text. Not persisted."""
from __future__ import annotations

from pathlib import Path

from rank_bm25 import BM25Okapi

from common import Doc, Hits, SearchFn, run_system, top_k as select_top, version_of

NAME = "rank_bm25"


def tokenize(text: str) -> list[str]:
    return text.lower().split()


def build(docs: list[Doc], workdir: Path, top_k: int) -> tuple[SearchFn, dict]:
    bm25 = BM25Okapi([tokenize(d.body) for d in docs])
    docids = [d.docid for d in docs]

    def search(text: str) -> Hits:
        return select_top(bm25.get_scores(tokenize(text)), top_k, docids)

    params = {"k1": bm25.k1, "b": bm25.b, "epsilon": bm25.epsilon}
    return search, {"version": version_of("rank-bm25"), "params": params}


if __name__ == "__main__":
    run_system(NAME, build, __doc__)
