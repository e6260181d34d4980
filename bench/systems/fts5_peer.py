"""Peer: SQLite FTS5 (stdlib sqlite3) with the porter tokenizer and bm25() ranking,
persisted to a file in the workdir. Queries become an OR of quoted terms."""
from __future__ import annotations

import re
import sqlite3
from pathlib import Path

from common import Doc, Hits, SearchFn, run_system, tree_bytes

NAME = "fts5"
TERM = re.compile(r"[^\W_]+")
SQL_SEARCH = ("SELECT docid, bm25(docs) FROM docs WHERE docs MATCH ? "
              "ORDER BY bm25(docs) LIMIT ?")


def to_match(text: str) -> str:
    """'Vitamin D, & bone?' -> '"Vitamin" OR "D" OR "bone"' (no FTS5 syntax leaks)."""
    return " OR ".join(f'"{term}"' for term in TERM.findall(text))


def build(docs: list[Doc], workdir: Path, top_k: int) -> tuple[SearchFn, dict]:
    path = workdir / "fts5.sqlite"
    path.unlink(missing_ok=True)
    con = sqlite3.connect(path)
    con.execute("CREATE VIRTUAL TABLE docs USING fts5(docid UNINDEXED, body, tokenize='porter')")
    with con:
        con.executemany("INSERT INTO docs(docid, body) VALUES (?, ?)",
                        ((d.docid, d.body) for d in docs))
        con.execute("INSERT INTO docs(docs) VALUES ('optimize')")
    con.execute("VACUUM")  # drop the pages freed by 'optimize' so the size is the index's

    def search(text: str) -> Hits:
        match = to_match(text)
        if not match:
            return []
        rows = con.execute(SQL_SEARCH, (match, top_k)).fetchall()
        return [(docid, -score) for docid, score in rows]

    extra = {"version": f"sqlite {sqlite3.sqlite_version}", "index_bytes": tree_bytes(path),
             "params": {"tokenize": "porter unicode61", "ranking": "bm25() k1=1.2 b=0.75"}}
    return search, extra


if __name__ == "__main__":
    run_system(NAME, build, __doc__)
