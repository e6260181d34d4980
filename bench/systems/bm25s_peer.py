"""Peer: bm25s (defaults: method "lucene", k1=1.5, b=0.75) with PyStemmer english
stemming and bm25s's english stopwords; documents are title + " " + text."""
from __future__ import annotations

import time
from pathlib import Path

import bm25s
import Stemmer

from common import Doc, Hits, SearchFn, run_system, tree_bytes, version_of

NAME = "bm25s"


def build(docs: list[Doc], workdir: Path, top_k: int) -> tuple[SearchFn, dict]:
    stemmer = Stemmer.Stemmer("english")
    tokens = bm25s.tokenize([d.body for d in docs], stopwords="en", stemmer=stemmer,
                            show_progress=False)
    retriever = bm25s.BM25()
    retriever.index(tokens, show_progress=False)
    docids = [d.docid for d in docs]
    k = min(top_k, len(docids))

    def search(text: str) -> Hits:
        query = bm25s.tokenize([text], stopwords="en", stemmer=stemmer, show_progress=False)
        found, scores = retriever.retrieve(query, k=k, show_progress=False, n_threads=0)
        return [(docids[int(i)], float(s)) for i, s in zip(found[0], scores[0])]

    extra = {"version": version_of("bm25s"), "pystemmer": version_of("PyStemmer"),
             "params": {"method": retriever.method, "k1": retriever.k1, "b": retriever.b}}
    extra.update(_persist(retriever, workdir))
    return search, extra


def _persist(retriever: "bm25s.BM25", workdir: Path) -> dict:
    """Save the index (numpy arrays + JSON, no corpus) to report a real on-disk size."""
    target = workdir / "bm25s_index"
    start = time.perf_counter()
    retriever.save(str(target), show_progress=False)
    return {"save_s": time.perf_counter() - start, "index_bytes": tree_bytes(target),
            "index_note": "build_s excludes save_s; searches use the in-memory index"}


if __name__ == "__main__":
    run_system(NAME, build, __doc__)
