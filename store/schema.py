"""The SQLite store's tables, and the records its rows become."""
from __future__ import annotations

from datetime import datetime, timezone

from .model import ChunkRecord, DocumentRecord

SCHEMA_VERSION = 1
SCHEMA = """
CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE documents (
    id INTEGER PRIMARY KEY AUTOINCREMENT, uid TEXT NOT NULL UNIQUE, name TEXT NOT NULL,
    media_type TEXT NOT NULL, sha256 TEXT NOT NULL UNIQUE, bytes INTEGER NOT NULL, pages INTEGER,
    chunks INTEGER NOT NULL, added_at TEXT NOT NULL, source_id TEXT, title TEXT);
CREATE TABLE chunks (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    document_id INTEGER NOT NULL REFERENCES documents(id) ON DELETE CASCADE,
    ordinal INTEGER NOT NULL, page INTEGER, heading TEXT, start INTEGER NOT NULL, "end" INTEGER NOT NULL,
    text TEXT NOT NULL);
CREATE INDEX chunks_by_document ON chunks(document_id);
INSERT INTO meta VALUES ('schema_version', '1'), ('generation', '0');
"""
DOC_COLUMNS = "id, uid, name, media_type, sha256, bytes, pages, chunks, added_at, source_id, title"
CHUNK_COLUMNS = "id, document_id, ordinal, page, heading, text"


def now_iso() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


def document_record(row: tuple) -> DocumentRecord:
    return DocumentRecord(*row)


def chunk_record(row: tuple) -> ChunkRecord:
    return ChunkRecord(*row)
