"""Persistence: documents, chunks and the index snapshot, behind a small interface.

``open_store(data_dir)`` gives the SQLite store; ``SQLiteStore.memory()`` an
in-memory one for tests.  A PostgreSQL store would implement :class:`Store`.
"""
from pathlib import Path

from .base import Store
from .errors import ReadOnlyStore, StoreCorrupt, StoreError
from .model import ChunkRecord, DocumentRecord, NewChunk, NewDocument
from .sqlite import SQLiteStore

__all__ = [
    "ChunkRecord", "DocumentRecord", "NewChunk", "NewDocument", "ReadOnlyStore", "SQLiteStore", "Store",
    "StoreCorrupt", "StoreError", "open_store",
]


def open_store(data_dir: str | Path, *, read_only: bool | None = None) -> Store:
    """The store in ``data_dir`` (created if missing; read-only when the directory is)."""
    return SQLiteStore.open(data_dir, read_only=read_only)
