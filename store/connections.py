"""Opening the SQLite database: its connections, their pragmas, the schema created or checked."""
from __future__ import annotations

import os
import sqlite3
from pathlib import Path

from .errors import StoreCorrupt, StoreError
from .schema import SCHEMA, SCHEMA_VERSION

CACHE_KIB = 512  # the writer's page cache
WAL_PAGES = 16384  # pages (64 MiB) the WAL may grow to before a commit folds it into the database and syncs
READER_CACHE_KIB = 128  # the reader's: chunk text is read a few rows at a time, pages are in the OS cache
DB_NAME = "store.sqlite3"


def is_writable(directory: Path) -> bool:
    """Whether files can be created in ``directory`` (false on a read-only mount)."""
    return os.access(directory, os.W_OK)


def _connect(target: str | Path, **options) -> sqlite3.Connection:
    """A connection shared by threads (the store locks around it), in autocommit (it opens its own transactions)."""
    return sqlite3.connect(target, check_same_thread=False, isolation_level=None, **options)


def open_writer(target: str | Path) -> sqlite3.Connection:
    """The writing connection to the database at ``target`` (a path, or ":memory:"), its schema made if new."""
    return _checked(_connect(target), _prepare)


def _prepare(db: sqlite3.Connection) -> None:
    db.execute("PRAGMA foreign_keys = ON")
    try:
        exists = db.execute("SELECT 1 FROM sqlite_master WHERE name = 'meta'").fetchone()
    except sqlite3.DatabaseError as exc:
        raise StoreCorrupt(f"{DB_NAME} is not a store database ({exc}); move it away and ingest again") from None
    if not exists:
        db.execute("PRAGMA auto_vacuum = INCREMENTAL")  # deletes give disk space back
        db.execute("PRAGMA journal_mode = WAL")
        db.executescript(f"BEGIN; {SCHEMA} COMMIT;")
    db.execute("PRAGMA journal_mode = WAL")
    db.execute("PRAGMA synchronous = NORMAL")
    db.execute(f"PRAGMA wal_autocheckpoint = {WAL_PAGES}")
    check_version(db)


def open_reader(path: Path) -> sqlite3.Connection:
    """A second, read-only connection: in WAL mode it sees the last commit and never waits for a writer."""
    reader = _connect(path)
    reader.execute("PRAGMA query_only = ON")
    reader.execute(f"PRAGMA cache_size = -{READER_CACHE_KIB}")
    return reader


def open_read_only(directory: Path, *, immutable: bool) -> sqlite3.Connection:
    """The database of a read-only data directory (``immutable`` where even its WAL cannot be touched)."""
    path = directory / DB_NAME
    if not path.is_file():
        raise StoreError(f"no store in read-only {directory}: build it first with `python server.py ingest`")
    uri = f"file:{path.resolve()}?mode=ro" + ("&immutable=1" if immutable else "")
    return _checked(_connect(uri, uri=True), check_version)


def _checked(db: sqlite3.Connection, check) -> sqlite3.Connection:
    """``db`` once ``check(db)`` has passed; closed if it raised."""
    try:
        check(db)
    except BaseException:
        db.close()
        raise
    return db


def check_version(db: sqlite3.Connection) -> None:
    """StoreCorrupt unless ``db`` holds a store of this schema version; sizes its page cache."""
    try:
        row = db.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone()
    except sqlite3.DatabaseError as exc:
        raise StoreCorrupt(f"{DB_NAME} is not a store database ({exc}); move it away and ingest again") from None
    if row is None or int(row[0]) != SCHEMA_VERSION:
        raise StoreCorrupt(f"store schema {row and row[0]} is not {SCHEMA_VERSION}; ingest into a new DATA_DIR")
    db.execute(f"PRAGMA cache_size = -{CACHE_KIB}")


def checkpoint(path: Path) -> None:
    """A passive checkpoint through a connection of its own (writers go on; readers are not waited for)."""
    connection = sqlite3.connect(path, isolation_level=None)
    try:
        connection.execute("PRAGMA wal_checkpoint(PASSIVE)")
    finally:
        connection.close()
