"""The store's interface: what the library needs from persistence, whatever backs it.

SQLite in ``DATA_DIR`` implements it today; a PostgreSQL store for many
instances is a second class with the same methods.
"""
from __future__ import annotations

from collections.abc import Iterable, Iterator

from .model import ChunkRecord, DocumentRecord, NewChunk, NewDocument


class Store:
    """The methods a store backend provides (SQLiteStore today; PostgreSQL later)."""

    read_only: bool
    committed: int | None  # the generation this store's own last commit produced

    def generation(self) -> int:
        """A number that changes with every committed add or delete."""

    def add_document(self, document: NewDocument, chunks: Iterable[NewChunk]) -> tuple[DocumentRecord, list[int]]:
        """Store a document and its chunks (consumed as they come) in one transaction; the chunk keys."""

    def add_documents(self, batch: Iterable[tuple[NewDocument, Iterable[NewChunk]]]) -> list[tuple[DocumentRecord, list[int]]]:
        """Several documents in one transaction (bulk ingest): all of them or none."""

    def delete_document(self, uid: str) -> list[int] | None:
        """Remove a document; the keys of its chunks, or None if there was no such document."""

    def document(self, uid: str) -> DocumentRecord | None: ...

    def document_by_sha(self, sha256: str) -> DocumentRecord | None: ...

    def documents(self, limit: int = 100, offset: int = 0) -> list[DocumentRecord]: ...

    def documents_by_key(self, keys: Iterable[int]) -> dict[int, DocumentRecord]: ...

    def document_names(self) -> Iterator[tuple[int, str]]:
        """(key, corpus id or public id) of every document, by key: what a TREC run names."""

    def known_hashes(self) -> set[str]:
        """Content hashes of every stored document (for resuming a bulk ingest)."""

    def chunks(self, keys: Iterable[int]) -> dict[int, ChunkRecord]:
        """Chunks by key, text included (text stays on disk until asked for)."""

    def document_chunks(self, document_key: int) -> Iterator[ChunkRecord]:
        """One document's chunks in order."""

    def iter_chunks(self, after: int = 0) -> Iterator[ChunkRecord]:
        """Every chunk with a key above ``after``, in key order (to rebuild the index)."""

    def chunk_keys(self) -> list[int]:
        """Keys of every stored chunk, ascending."""

    def counts(self) -> tuple[int, int]:
        """(documents, chunks)."""

    def load_snapshot(self):
        """The last saved index, if any: its bytes, or a binary file open at its start that the caller closes."""

    def save_snapshot(self, data: bytes | list) -> None:
        """Replace the saved index atomically with ``data``: bytes, or a list of buffers written end to end."""

    def fold_in_background(self) -> None:
        """Start making recent commits durable in the background where the backend can (bulk
        ingestion calls it after its last batch); a no-op otherwise."""

    def close(self) -> None: ...
