"""The SQLite store: documents and chunks in ``DATA_DIR/store.sqlite3``, the index beside it.

WAL journal, one transaction per document (or per bulk batch), so a SIGKILL
at any moment leaves either all of a document or none of it.  The index
snapshot (``index.tfidx``) is a cache written atomically (temporary file,
fsync, rename) and tagged with the generation it reflects; the library
reconciles it with the tables on open.  A read-only directory (Vercel) opens
the database as immutable, which SQLite requires to read a WAL database there.
"""
from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from io import BufferedReader
from pathlib import Path

from .connections import DB_NAME, checkpoint, is_writable, open_read_only, open_reader, open_writer
from .errors import ReadOnlyStore
from .model import ChunkRecord, DocumentRecord, NewChunk, NewDocument
from .schema import CHUNK_COLUMNS, DOC_COLUMNS, chunk_record, document_record, now_iso
from .snapshots import read_snapshot, remove_stale, write_snapshot

SNAPSHOT_NAME = "index.tfidx"


class SQLiteStore:
    """The default store: one SQLite file and one index snapshot in a data directory."""

    def __init__(self, connection: sqlite3.Connection, snapshot_path: Path | None, *, read_only: bool,
                 reader: sqlite3.Connection | None = None, path: Path | None = None) -> None:
        """``reader``: a second connection for reads (writable stores on disk); ``path``: the database
        file, which other connections (the reader, a fold) open."""
        self._db = connection
        self._snapshot_path = snapshot_path
        self._snapshot: bytes | None = None  # in-memory stores keep it here
        self.read_only = read_only
        self._lock = threading.RLock()
        # Reads go through their own connection: in WAL mode they see the last commit and never
        # wait for a write transaction (which may be streaming a long PDF in).
        self.committed: int | None = None  # the generation this store's own last commit produced
        self._reader = reader or connection
        self._read_lock = threading.Lock() if reader is not None else self._lock
        self._path = path
        self._folding: threading.Thread | None = None  # a checkpoint under way (see fold_in_background)

    @classmethod
    def open(cls, data_dir: str | Path, *, read_only: bool | None = None) -> "SQLiteStore":
        """Open (creating if needed) the store in ``data_dir``; read-only if the directory is."""
        directory = Path(data_dir)
        if read_only is None:
            read_only = directory.is_dir() and not is_writable(directory)
        if read_only:
            connection = open_read_only(directory, immutable=not is_writable(directory))
            return cls(connection, directory / SNAPSHOT_NAME, read_only=True)
        directory.mkdir(parents=True, exist_ok=True)
        path = directory / DB_NAME
        writer = open_writer(path)  # first: it makes the schema the reader will see
        store = cls(writer, directory / SNAPSHOT_NAME, read_only=False, reader=open_reader(path), path=path)
        remove_stale(directory / SNAPSHOT_NAME)
        return store

    @classmethod
    def memory(cls) -> "SQLiteStore":
        """A private in-memory store (tests)."""
        return cls(open_writer(":memory:"), None, read_only=False)

    def _writable(self) -> None:
        if self.read_only:
            raise ReadOnlyStore("this deployment's data directory is read-only: documents cannot be added or "
                                "deleted here; build the index at deploy time with `python server.py ingest`")

    def generation(self) -> int:
        with self._read_lock:
            return int(self._reader.execute("SELECT value FROM meta WHERE key = 'generation'").fetchone()[0])

    def add_document(self, document: NewDocument, chunks: Iterable[NewChunk]) -> tuple[DocumentRecord, list[int]]:
        return self.add_documents([(document, chunks)])[0]

    def add_documents(self, batch: Iterable[tuple[NewDocument, Iterable[NewChunk]]]) -> list[tuple[DocumentRecord, list[int]]]:
        self._writable()
        batch = list(batch)
        with self._lock, self._transaction():
            if all(isinstance(chunks, (list, tuple)) for _, chunks in batch):
                added = self._insert_many(batch)
            else:
                added = [self._insert(document, chunks) for document, chunks in batch]
            self._bump()
        return added

    @contextmanager
    def _transaction(self) -> Iterator[None]:
        """One write transaction, committed at the end or rolled back on any exception (Ctrl-C included)."""
        self._db.execute("BEGIN IMMEDIATE")
        try:
            yield
            self._db.execute("COMMIT")
        except BaseException:
            if self._db.in_transaction:  # not when the signal landed just after the commit
                self._db.execute("ROLLBACK")
            raise

    def _insert(self, document: NewDocument, chunks: Iterable[NewChunk]) -> tuple[DocumentRecord, list[int]]:
        """Insert a document, consuming ``chunks`` (an iterator is read one chunk at a time)."""
        d = document
        key = self._db.execute(
            "INSERT INTO documents (uid, name, media_type, sha256, bytes, pages, chunks, added_at, source_id, title)"
            " VALUES (?, ?, ?, ?, ?, ?, 0, ?, ?, ?)",
            (d.uid, d.name, d.media_type, d.sha256, d.bytes, d.pages, now_iso(), d.source_id, d.title)).lastrowid
        keys, pages = [], d.pages
        for ordinal, c in enumerate(chunks):
            keys.append(self._db.execute(
                'INSERT INTO chunks (document_id, ordinal, page, heading, start, "end", text) VALUES (?, ?, ?, ?, ?, ?, ?)',
                (key, ordinal, c.page, c.heading, c.start, c.end, c.text)).lastrowid)
            if c.page is not None and (pages is None or c.page > pages):
                pages = c.page
        self._db.execute("UPDATE documents SET chunks = ?, pages = ? WHERE id = ?", (len(keys), pages, key))
        row = self._db.execute(f"SELECT {DOC_COLUMNS} FROM documents WHERE id = ?", (key,)).fetchone()
        return document_record(row), keys

    def _insert_many(self, batch: list[tuple[NewDocument, list[NewChunk]]]) -> list[tuple[DocumentRecord, list[int]]]:
        """Documents whose chunks are lists, in two ``executemany``: row ids follow the largest ever
        used, as AUTOINCREMENT would give them (the write lock is held: nothing else takes ids)."""
        doc_key, chunk_key = self._next_key("documents"), self._next_key("chunks")
        added_at, added, rows = now_iso(), [], []
        for d, chunks in batch:
            keys = range(chunk_key, chunk_key + len(chunks))
            rows += [(k, doc_key, n, c.page, c.heading, c.start, c.end, c.text)
                     for n, (k, c) in enumerate(zip(keys, chunks))]
            pages = max((p for p in (d.pages, *(c.page for c in chunks)) if p is not None), default=None)
            added.append((DocumentRecord(doc_key, d.uid, d.name, d.media_type, d.sha256, d.bytes, pages, len(chunks),
                                         added_at, d.source_id, d.title), list(keys)))
            doc_key, chunk_key = doc_key + 1, keys.stop
        self._db.executemany(f"INSERT INTO documents ({DOC_COLUMNS}) VALUES ({', '.join('?' * 11)})",
                             [record for record, _ in added])
        self._db.executemany('INSERT INTO chunks (id, document_id, ordinal, page, heading, start, "end", text)'
                             " VALUES (?, ?, ?, ?, ?, ?, ?, ?)", rows)
        return added

    def _next_key(self, table: str) -> int:
        """The row id AUTOINCREMENT would give ``table``'s next row."""
        return self._db.execute(f"SELECT MAX(COALESCE(MAX(id), 0), COALESCE((SELECT seq FROM sqlite_sequence"
                                f" WHERE name = '{table}'), 0)) + 1 FROM {table}").fetchone()[0]

    def _bump(self) -> None:
        self._db.execute("UPDATE meta SET value = CAST(value AS INTEGER) + 1 WHERE key = 'generation'")
        self.committed = int(self._db.execute("SELECT value FROM meta WHERE key = 'generation'").fetchone()[0])

    def delete_document(self, uid: str) -> list[int] | None:
        self._writable()
        with self._lock:
            row = self._db.execute("SELECT id FROM documents WHERE uid = ?", (uid,)).fetchone()
            if row is None:
                return None
            with self._transaction():
                keys = [k for (k,) in self._db.execute("SELECT id FROM chunks WHERE document_id = ? ORDER BY id", row)]
                self._db.execute("DELETE FROM chunks WHERE document_id = ?", row)
                self._db.execute("DELETE FROM documents WHERE id = ?", row)
                self._bump()
            self._db.executescript("PRAGMA incremental_vacuum;")  # exec steps it to the end
        return keys

    def _one(self, sql: str, args: tuple) -> DocumentRecord | None:
        with self._read_lock:
            row = self._reader.execute(sql, args).fetchone()
        return document_record(row) if row else None

    def document(self, uid: str) -> DocumentRecord | None:
        return self._one(f"SELECT {DOC_COLUMNS} FROM documents WHERE uid = ?", (uid,))

    def document_by_sha(self, sha256: str) -> DocumentRecord | None:
        return self._one(f"SELECT {DOC_COLUMNS} FROM documents WHERE sha256 = ?", (sha256,))

    def documents(self, limit: int = 100, offset: int = 0) -> list[DocumentRecord]:
        with self._read_lock:
            rows = self._reader.execute(f"SELECT {DOC_COLUMNS} FROM documents ORDER BY id LIMIT ? OFFSET ?",
                                    (limit, offset)).fetchall()
        return [document_record(r) for r in rows]

    def _by_keys(self, table: str, columns: str, keys: Iterable[int], make) -> dict:
        keys = list(keys)
        found = {}
        with self._read_lock:
            for start in range(0, len(keys), 500):
                part = keys[start : start + 500]
                marks = ",".join("?" * len(part))
                for row in self._reader.execute(f"SELECT {columns} FROM {table} WHERE id IN ({marks})", part):
                    found[row[0]] = make(row)
        return found

    def documents_by_key(self, keys: Iterable[int]) -> dict[int, DocumentRecord]:
        return self._by_keys("documents", DOC_COLUMNS, keys, document_record)

    def chunks(self, keys: Iterable[int]) -> dict[int, ChunkRecord]:
        return self._by_keys("chunks", CHUNK_COLUMNS, keys, chunk_record)

    def document_names(self) -> Iterator[tuple[int, str]]:
        return self._paged("SELECT id, COALESCE(source_id, uid) FROM documents WHERE id > ? ORDER BY id LIMIT ?",
                           (), 0, 250)  # the caller's table and a page of rows, no more

    def known_hashes(self) -> set[str]:
        with self._read_lock:
            return {sha for (sha,) in self._reader.execute("SELECT sha256 FROM documents")}

    def document_chunks(self, document_key: int) -> Iterator[ChunkRecord]:
        """One document's chunks in order, read a page of rows at a time."""
        sql = f"SELECT {CHUNK_COLUMNS} FROM chunks WHERE document_id = ? AND id > ? ORDER BY id LIMIT ?"
        return map(chunk_record, self._paged(sql, (document_key,), 0, 200))

    def iter_chunks(self, after: int = 0) -> Iterator[ChunkRecord]:
        """Chunks above ``after`` in key order, read in pages so memory stays flat."""
        sql = f"SELECT {CHUNK_COLUMNS} FROM chunks WHERE id > ? ORDER BY id LIMIT ?"
        return map(chunk_record, self._paged(sql, (), after, 1000))

    def _paged(self, sql: str, args: tuple, after: int, size: int) -> Iterator[tuple]:
        """Rows of ``sql`` (ending ``id > ? ORDER BY id LIMIT ?``) past key ``after``, ``size`` at a time."""
        while True:
            with self._read_lock:
                rows = self._reader.execute(sql, (*args, after, size)).fetchall()
            if not rows:
                return
            yield from rows
            after = rows[-1][0]

    def chunk_keys(self) -> list[int]:
        with self._read_lock:
            return [k for (k,) in self._reader.execute("SELECT id FROM chunks ORDER BY id")]

    def counts(self) -> tuple[int, int]:
        with self._read_lock:
            docs = self._reader.execute("SELECT COUNT(*) FROM documents").fetchone()[0]
            chunks = self._reader.execute("SELECT COUNT(*) FROM chunks").fetchone()[0]
        return docs, chunks

    def load_snapshot(self) -> bytes | BufferedReader | None:
        """The saved index: the file open for reading (the caller closes it); bytes in memory."""
        return self._snapshot if self._snapshot_path is None else read_snapshot(self._snapshot_path)

    def save_snapshot(self, data: bytes | list) -> None:
        self._writable()
        parts = [data] if isinstance(data, (bytes, bytearray, memoryview)) else data
        if self._snapshot_path is None:
            self._snapshot = b"".join(parts)
        else:
            write_snapshot(self._snapshot_path, parts)

    def fold_in_background(self) -> None:
        """Start folding the WAL into the database file (a checkpoint, disk-bound) on a thread of its own,
        so that in-memory work can go on meanwhile; :meth:`close` waits for it."""
        if self._path is not None and self._folding is None:
            self._folding = threading.Thread(target=checkpoint, args=(self._path,), daemon=True)
            self._folding.start()

    def close(self) -> None:
        """Close, folding the WAL into the database so a read-only copy sees everything."""
        if self._folding is not None:
            self._folding.join()
        with self._lock:
            if self._reader is not self._db:
                self._reader.close()
            if not self.read_only:
                self._db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            self._db.close()

