"""Peer: scikit-learn TfidfVectorizer (defaults + sublinear_tf=True, l2 norm) and
cosine similarity via linear_kernel; documents are title + " " + text. Not persisted."""
from __future__ import annotations

from pathlib import Path

from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.metrics.pairwise import linear_kernel

from common import Doc, Hits, SearchFn, run_system, top_k as select_top, version_of

NAME = "sklearn"


def build(docs: list[Doc], workdir: Path, top_k: int) -> tuple[SearchFn, dict]:
    vectorizer = TfidfVectorizer(sublinear_tf=True)
    matrix = vectorizer.fit_transform([d.body for d in docs])
    docids = [d.docid for d in docs]

    def search(text: str) -> Hits:
        scores = linear_kernel(vectorizer.transform([text]), matrix).ravel()
        return select_top(scores, top_k, docids)

    extra = {"version": version_of("scikit-learn"),
             "params": {"sublinear_tf": True, "norm": "l2",
                        "vocabulary": len(vectorizer.vocabulary_), "nnz": int(matrix.nnz)}}
    return search, extra


if __name__ == "__main__":
    run_system(NAME, build, __doc__)
