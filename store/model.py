"""What the store keeps: documents and their chunks."""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class NewDocument:
    """A document about to be stored (its chunks go alongside)."""

    uid: str  # public id, derived from the content hash
    name: str
    media_type: str
    sha256: str
    bytes: int
    pages: int | None = None
    source_id: str | None = None  # a corpus record's own id (JSON Lines `_id`)
    title: str | None = None


@dataclass(frozen=True)
class NewChunk:
    text: str
    page: int | None
    heading: str | None
    start: int
    end: int


@dataclass(frozen=True)
class DocumentRecord:
    """A stored document as the API reports it."""

    key: int  # internal row id (the index's group key)
    uid: str
    name: str
    media_type: str
    sha256: str
    bytes: int
    pages: int | None
    chunks: int
    added_at: str
    source_id: str | None
    title: str | None

    def public(self) -> dict:
        """The fields the API shows."""
        return {"id": self.uid, "name": self.name, "media_type": self.media_type, "sha256": self.sha256,
                "bytes": self.bytes, "pages": self.pages, "chunks": self.chunks, "added_at": self.added_at,
                "source_id": self.source_id, "title": self.title}


@dataclass(frozen=True)
class ChunkRecord:
    """A stored chunk with what a citation needs."""

    key: int  # row id (the index's document key)
    document_key: int
    ordinal: int
    page: int | None
    heading: str | None
    text: str
