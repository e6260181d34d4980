"""What a command-line ingest reads: the files named, those matching a pattern in folders, and which are corpora.

Kept free of the store and the index, so the command line can look before it imports them.
"""
from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

CORPUS_SUFFIXES = (".jsonl", ".jsonl.gz", ".ndjson")


def walk(paths: list[str], pattern: str) -> Iterator[Path]:
    """Files named on the command line, and those matching ``pattern`` under folders, sorted."""
    for name in paths:
        path = Path(name)
        if path.is_dir():
            yield from sorted(p for p in path.rglob(pattern) if p.is_file())
        else:
            yield path


def is_corpus(path: Path) -> bool:
    """A JSON Lines file of records (by its name), not a document."""
    return path.name.lower().endswith(CORPUS_SUFFIXES)


def any_corpus(paths: list[str], pattern: str) -> bool:
    """Whether the ingest of ``paths`` reads any corpus (what the analysis worker is for)."""
    return any(map(is_corpus, walk(paths, pattern)))
