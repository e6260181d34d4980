"""What the store keeps: documents and their chunks (immutable records)."""
from __future__ import annotations

from collections import namedtuple

NewDocument = namedtuple("NewDocument", "uid name media_type sha256 bytes pages source_id title",
                         defaults=(None, None, None))
NewDocument.__doc__ = """A document about to be stored: uid is its public id (from the content hash);
source_id a corpus record's own id (JSON Lines `_id`)."""

NewChunk = namedtuple("NewChunk", "text page heading start end")
NewChunk.__doc__ = "A chunk about to be stored: its text, page, heading and offsets in its section."

ChunkRecord = namedtuple("ChunkRecord", "key document_key ordinal page heading text")
ChunkRecord.__doc__ = "A stored chunk with what a citation needs; key is the index's document key."

_DOCUMENT_FIELDS = "key uid name media_type sha256 bytes pages chunks added_at source_id title"


class DocumentRecord(namedtuple("DocumentRecord", _DOCUMENT_FIELDS)):
    """A stored document as the API reports it; key is its row id (the index's group key)."""

    __slots__ = ()

    def public(self) -> dict:
        """The fields the API shows."""
        return {"id": self.uid, "name": self.name, "media_type": self.media_type, "sha256": self.sha256,
                "bytes": self.bytes, "pages": self.pages, "chunks": self.chunks, "added_at": self.added_at,
                "source_id": self.source_id, "title": self.title}
